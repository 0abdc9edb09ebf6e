"""Driver for PadNopsTests (runs under 2.7 and 3.6+).

compile SRC OUT     compile a fixture and write it as a .pyc (no source check)
run PYC             exec the .pyc's code as a module named __main__
"""
import marshal, sys

HEADER = 8 if sys.version_info[0] == 2 else (12 if sys.version_info[:2] < (3, 7) else 16)


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    if cmd == "compile":
        code = compile(open(path).read(), path.split("/")[-1], "exec")
        if sys.version_info[0] == 2:
            import imp
            header = imp.get_magic() + b"\0\0\0\0"
        else:
            import importlib.util
            header = importlib.util.MAGIC_NUMBER + b"\0" * (HEADER - 4)
        with open(sys.argv[3], "wb") as f:
            f.write(header + marshal.dumps(code))
    elif cmd == "run":
        data = open(path, "rb").read()
        code = marshal.loads(data[HEADER:])
        exec(code, {"__name__": "__main__"})


main()
