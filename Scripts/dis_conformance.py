"""Compare `pyckit dis` listings with the interpreter's own reference listing, file by file.

Run with the interpreter whose version wrote the files (2.7 or 3.6+):

    python dis_conformance.py CORPUS_DIR LISTING_DIR [--show N]

LISTING_DIR holds pyckit's listings as written by `pyckit dis CORPUS_DIR -o LISTING_DIR`
(CORPUS_DIR/a/b.pyc -> LISTING_DIR/a/b.pyc.dis). The reference is ../shared/tools/dis_reference.py's
listing; both sides go through its --normalize. Prints each differing file with its first differing
line, then a summary line "dis conformance X.Y: N files, N identical, N differ". Exit 1 if any differ.
"""
from __future__ import print_function

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "shared", "tools"))
import dis_reference  # noqa: E402

PY2 = sys.version_info[0] == 2


def as_bytes(text):
    if PY2:
        return text
    return text.encode("utf-8", "backslashreplace")


def main(argv):
    show = 20
    if "--show" in argv:
        i = argv.index("--show")
        show = int(argv[i + 1])
        del argv[i:i + 2]
    corpus, listings = argv
    files = []
    for d, _, names in os.walk(corpus):
        files += [os.path.join(d, n) for n in names if n.endswith(".pyc")]
    files.sort()
    same = differ = 0
    for path in files:
        rel = os.path.relpath(path, corpus)
        ref = as_bytes(dis_reference.normalize(dis_reference.listing(dis_reference.load_code(path))))
        try:
            with open(os.path.join(listings, rel + ".dis"), "rb") as f:
                ours = f.read()
        except IOError:
            ours = b"<no listing>\n"
        ours = ours if PY2 else ours.decode("utf-8", "surrogateescape")
        ours = dis_reference.normalize(ours)
        ours = ours if PY2 else ours.encode("utf-8", "surrogateescape")
        if ours == ref:
            same += 1
            continue
        differ += 1
        if differ <= show:
            a, b = ref.split(b"\n"), ours.split(b"\n")
            k = 0
            while k < min(len(a), len(b)) and a[k] == b[k]:
                k += 1
            print("%s: line %d" % (rel, k + 1))
            print("   ref: %r" % (a[k] if k < len(a) else b"<end>",))
            print("  ours: %r" % (b[k] if k < len(b) else b"<end>",))
    print("dis conformance %d.%d: %d files, %d identical, %d differ"
          % (sys.version_info[0], sys.version_info[1], len(files), same, differ))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
