"""The .pyc reading and writing the fixture drivers share (runs under 2.7 and 3.6+): a header of
this interpreter's magic with zeroed fields, then the marshalled code object."""
import marshal
import sys

HEADER = 8 if sys.version_info[0] == 2 else (12 if sys.version_info[:2] < (3, 7) else 16)


def write_pyc(code, out):
    if sys.version_info[0] == 2:
        import imp
        header = imp.get_magic() + b"\0\0\0\0"
    else:
        import importlib.util
        header = importlib.util.MAGIC_NUMBER + b"\0" * (HEADER - 4)
    with open(out, "wb") as f:
        f.write(header + marshal.dumps(code))


def load_pyc(path):
    with open(path, "rb") as f:
        return marshal.loads(f.read()[HEADER:])
