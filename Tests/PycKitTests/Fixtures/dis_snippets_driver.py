"""Test driver for DisassemblerTests (runs under every interpreter, 2.7-compatible).

    python dis_snippets_driver.py compile SNIPPETS OUTDIR   -> JSON lines {name, pyc, ref}
    python dis_snippets_driver.py normalize FILE...         -> JSON lines {path, text}
"""
from __future__ import print_function

import json
import os
import py_compile
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "..", "shared", "tools"))
import dis_reference  # noqa: E402

PY2 = sys.version_info[0] == 2


def text(b):
    return b if PY2 else b.decode("utf-8", "surrogateescape")


def blocks(path):
    with open(path) as f:
        src = f.read()
    out, name, lines = [], None, []
    for line in src.split("\n"):
        if line.startswith("#--"):
            if name:
                out.append((name, "\n".join(lines) + "\n"))
            name, lines = line[3:].strip(), []
        elif name:
            lines.append(line)
    if name:
        out.append((name, "\n".join(lines) + "\n"))
    return out


def fill(src):
    values = {
        "consts": ", ".join("%d.5" % i for i in range(66000)),
        "names": " = ".join("v%d" % i for i in range(300)) + " = 0",
        "body": "\n".join("        a = a + %d" % i for i in range(150)),
        "padding": "\n" * 1000,
    }
    return src % values if "%(" in src else src


def main(argv):
    if argv[0] == "compile":
        snippets, outdir = argv[1], argv[2]
        for i, (name, src) in enumerate(blocks(snippets)):
            src = fill(src)
            try:
                compile(src, "snippet.py", "exec", 0, True)  # without this module's __future__ flags
            except SyntaxError:
                continue
            py = os.path.join(outdir, "snippet%d.py" % i)
            with open(py, "w") as f:
                f.write(src)
            pyc = py + "c"
            py_compile.compile(py, cfile=pyc, doraise=True)
            ref = dis_reference.normalize(dis_reference.listing(dis_reference.load_code(pyc)))
            if not PY2:
                ref = ref.encode("utf-8", "backslashreplace").decode("utf-8", "surrogateescape")
            print(json.dumps({"name": name, "pyc": pyc, "ref": ref}))
    elif argv[0] == "normalize":
        for path in argv[1:]:
            with open(path, "rb") as f:
                data = text(f.read())
            print(json.dumps({"path": path, "text": dis_reference.normalize(data)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
