# -*- coding: utf-8 -*-
"""Dump the running interpreter's non-printable code points to Scripts/unicode/data/X.Y.txt.

Run it with each CPython 3.x (3.6-3.13); the syntax stays 2.7-compatible.

    python dump_printable.py                # writes data/X.Y.txt next to this script
    python dump_printable.py --output DIR   # writes DIR/X.Y.txt
    python dump_printable.py --stdout       # prints the table instead

    for v in 3.6.15 3.7.16 3.8.18 3.9.18 3.10.13 3.11.7 3.12.1 3.13.0; do
        "$(pyenv root)/versions/$v/bin/python" Scripts/unicode/dump_printable.py
    done
    python3 Scripts/unicode/generate.py

A code point is non-printable when `chr(c).isprintable()` is False: that is the test `repr()` of a
3.x `str` applies (`Py_UNICODE_ISPRINTABLE` in `Objects/unicodeobject.c`, from the interpreter's own
Unicode database) before it writes `\\xNN`, `\\uNNNN` or `\\UNNNNNNNN`. The table lists them as
inclusive hex ranges, one per line.

2.7 has no `isprintable`: its `unicode.__repr__` escapes every non-ASCII code point, so it needs no
table; the script says so and exits 0 without writing anything.
"""
from __future__ import print_function

import os
import sys
import unicodedata


def ranges():
    """Inclusive (first, last) ranges of the non-printable code points, ascending."""
    out, start = [], None
    for c in range(sys.maxunicode + 1):
        printable = chr(c).isprintable()
        if not printable and start is None:
            start = c
        elif printable and start is not None:
            out.append((start, c - 1))
            start = None
    if start is not None:
        out.append((start, sys.maxunicode))
    return out


def render():
    v = sys.version_info
    lines = [
        "# Non-printable code points of Python %d.%d.%d (unicodedata %s): chr(c).isprintable() is False."
        % (v[0], v[1], v[2], unicodedata.unidata_version),
        "# Written by Scripts/unicode/dump_printable.py; one inclusive hex range per line.",
        "python %d.%d.%d" % (v[0], v[1], v[2]),
        "unicode %s" % unicodedata.unidata_version,
    ]
    for first, last in ranges():
        lines.append("%04X..%04X" % (first, last))
    return "\n".join(lines) + "\n"


def main(argv):
    if sys.version_info[0] == 2:
        print("dump_printable.py: Python 2.7's unicode repr escapes every non-ASCII code point; no table needed")
        return 0
    if sys.maxunicode != 0x10FFFF:
        print("dump_printable.py: a narrow build (sys.maxunicode %#x) cannot be dumped" % sys.maxunicode,
              file=sys.stderr)
        return 1
    text = render()
    if "--stdout" in argv:
        sys.stdout.write(text)
        return 0
    out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
    if "--output" in argv:
        i = argv.index("--output")
        if i + 1 >= len(argv):
            print("dump_printable.py: --output needs a directory", file=sys.stderr)
            return 2
        out_dir = argv[i + 1]
    path = os.path.join(out_dir, "%d.%d.txt" % sys.version_info[:2])
    with open(path, "w") as f:
        f.write(text)
    print("wrote %s" % path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
