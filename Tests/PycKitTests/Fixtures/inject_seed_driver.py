"""Driver for the seed scenario of InjectTests (runs under 2.7 and 3.6+).

compile SRC OUT          compile SRC into a .pyc at OUT
run ORIGINAL EDITED      exec both .pyc files' code in fresh namespaces, each calling main();
                         print a JSON object: output of each run, registrations per instance
                         in the edited run, and the line starts of Test.__init__ in both
"""
from __future__ import print_function
import dis, io, json, sys, types

from pyc_fixture import load_pyc, write_pyc


def compile_pyc(src, out):
    code = compile(open(src).read(), "inject_seed.py", "exec")
    write_pyc(code, out)


def load(path):
    return load_pyc(path)


def run(path):
    code = load(path)
    ns = {"__name__": "inject_seed"}
    buf = io.BytesIO() if sys.version_info[0] == 2 else io.StringIO()
    saved = sys.stdout
    sys.stdout = buf
    try:
        exec(code, ns)
        made = ns["main"]()
    finally:
        sys.stdout = saved
    registered = ns["events"].registered
    counts = [sum(1 for r in registered if r is t) for t in made]
    init = ns["Test"].__init__
    init = getattr(init, "__func__", init)
    fcode = getattr(init, "__code__", None) or init.func_code
    lines = sorted(set(l for _, l in dis.findlinestarts(fcode) if l is not None))
    out = buf.getvalue()
    if not isinstance(out, str):
        out = out.decode("utf-8")
    return {"output": out, "counts": counts, "extra": len(registered) - sum(counts), "lines": lines}


if sys.argv[1] == "compile":
    compile_pyc(sys.argv[2], sys.argv[3])
else:
    print(json.dumps({"original": run(sys.argv[2]), "edited": run(sys.argv[3])}, sort_keys=True))
