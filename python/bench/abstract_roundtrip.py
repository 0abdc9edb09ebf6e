"""Round-trip measurements over a corpus of .pyc files, for Scripts/bench-abstract.sh.

  python abstract_roundtrip.py bytecode CORPUS       lift + assemble every code object with the
                                                     `bytecode` library, one code object at a time
  python abstract_roundtrip.py compare CORPUS OUT    compare every code object of OUT's files with
                                                     the one in the same place in CORPUS's files

Each prints two lines: "CODES CPU_SECONDS FAILURES EXACT_ALL EXACT_LINETABLE", then the number of
code objects that differ per field ("-" when none differ). Both modes use the same comparison
(`differing_fields`), so the two tools' counts mean the same thing.

Code objects are those of each file's module, nested ones included, each counted once, in
preorder (a code object, then the code objects among its constants). In `bytecode` mode only
`Bytecode.from_code(c).to_code()` is timed, in process CPU time; reading and unmarshalling are not.
In `compare` mode CPU_SECONDS is 0 and FAILURES counts the code objects whose file has no
readable counterpart in OUT, or whose counterpart tree has a different number of code objects.
"""

import marshal
import os
import sys
import time
import warnings

CodeType = type((lambda: 0).__code__)
HEADER = 16 if sys.version_info >= (3, 7) else 12

LINETABLE = "co_linetable" if hasattr(CodeType, "co_linetable") else "co_lnotab"
# Everything a code object carries, as the interpreter exposes it. co_varnames, co_cellvars and
# co_freevars together stand for 3.11+'s co_localsplusnames/co_localspluskinds.
FIELDS = [
    f
    for f in (
        "co_argcount", "co_posonlyargcount", "co_kwonlyargcount", "co_nlocals", "co_stacksize",
        "co_flags", "co_code", "co_consts", "co_names", "co_varnames", "co_cellvars",
        "co_freevars", "co_filename", "co_name", "co_qualname", "co_firstlineno", LINETABLE,
        "co_exceptiontable",
    )
    if hasattr(CodeType, f)
]


def files(root):
    """Every .pyc file under root, in a stable order."""
    out = []
    for d, dirs, names in os.walk(root):
        dirs.sort()
        out += [os.path.join(d, n) for n in sorted(names) if n.endswith(".pyc")]
    return out


def load(path):
    with open(path, "rb") as f:
        return marshal.loads(f.read()[HEADER:])


def code_objects(top):
    """top and every code object nested in its constants, preorder, each once."""
    out, seen, todo = [], set(), [top]
    while todo:
        c = todo.pop()
        if id(c) in seen:
            continue
        seen.add(id(c))
        out.append(c)
        todo += reversed([k for k in c.co_consts if isinstance(k, CodeType)])
    return out


def const_key(x):
    """A key equal exactly when two constants are the same value of the same type (-0.0 is not
    0.0, 1 is not True, NaN equals NaN). A nested code object only says "a code object here": it is
    compared as a code object of its own."""
    t = type(x)
    if t is tuple:
        return ("tuple", tuple(const_key(k) for k in x))
    if t is frozenset:
        return ("frozenset", frozenset(const_key(k) for k in x))
    if t is float or t is complex:
        return (t.__name__, repr(x))
    if isinstance(x, CodeType):
        return ("code",)
    return (t.__name__, x)


def differing_fields(a, b):
    """The names of the fields in which code objects a and b differ."""
    out = []
    for f in FIELDS:
        x, y = getattr(a, f), getattr(b, f)
        if f == "co_consts":
            x, y = const_key(x), const_key(y)
        if x != y:
            out.append(f)
    return out


class Tally:
    def __init__(self):
        self.codes = self.failures = self.exact = self.exact_lines = 0
        self.by_field = {}

    def add(self, original, rebuilt):
        self.codes += 1
        if rebuilt is None:
            self.failures += 1
            return
        diff = differing_fields(original, rebuilt)
        self.exact += not diff
        self.exact_lines += LINETABLE not in diff
        for f in diff:
            self.by_field[f] = self.by_field.get(f, 0) + 1

    def report(self, seconds):
        print("%d %.3f %d %d %d" % (self.codes, seconds, self.failures, self.exact, self.exact_lines))
        diffs = sorted(self.by_field.items(), key=lambda kv: -kv[1])
        print(" ".join("%s=%d" % kv for kv in diffs) or "-")


def run_bytecode(root):
    from bytecode import Bytecode

    warnings.simplefilter("ignore")
    tally, cpu, clock = Tally(), 0.0, time.process_time
    for path in files(root):
        for c in code_objects(load(path)):
            t = clock()
            try:
                rebuilt = Bytecode.from_code(c).to_code()
            except Exception:
                rebuilt = None
            cpu += clock() - t
            tally.add(c, rebuilt)
    tally.report(cpu)


def run_compare(root, out):
    tally = Tally()
    for path in files(root):
        originals = code_objects(load(path))
        try:
            rebuilt = code_objects(load(os.path.join(out, os.path.relpath(path, root))))
        except Exception:
            rebuilt = []
        if len(rebuilt) != len(originals):
            rebuilt = [None] * len(originals)
        for a, b in zip(originals, rebuilt):
            tally.add(a, b)
    tally.report(0.0)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "bytecode":
        run_bytecode(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "compare":
        run_compare(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
