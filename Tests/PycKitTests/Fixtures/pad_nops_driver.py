"""Driver for PadNopsTests (runs under 2.7 and 3.6+).

compile SRC OUT     compile a fixture and write it as a .pyc (no source check)
run PYC             exec the .pyc's code as a module named __main__
"""
import sys

from pyc_fixture import load_pyc, write_pyc


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    if cmd == "compile":
        code = compile(open(path).read(), path.split("/")[-1], "exec")
        write_pyc(code, sys.argv[3])
    elif cmd == "run":
        code = load_pyc(path)
        exec(code, {"__name__": "__main__"})


main()
