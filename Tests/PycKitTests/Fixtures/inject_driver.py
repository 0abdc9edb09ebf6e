"""Driver for the --all-functions acceptance test of InjectTests (runs under 2.7 and 3.6+).

compile OUT          compile inject_program.py (+ inject_program3.py on 3.x) into a .pyc at OUT
module ORIGINAL EDITED
                     execute both (EDITED injected with --at-module-entry
                     'probe.module(__name__, "m")') with a `probe` builtin; print one JSON object
                     with both outputs, the module-entry calls (name, tag, the module's own globals
                     bound at that moment) and the module code's line starts in both files
run ORIGINAL EDITED  run ORIGINAL's main() while the interpreter observes it, then EDITED's main()
                     with a `probe` builtin; print one JSON object with both outputs and, per
                     function ("name:firstline"), [body starts, normal returns] as the interpreter
                     saw them ("observed") and as probe.enter()/probe.leave() counted them
                     ("probed"), and each function's line starts in both files

What the interpreter observes: on 3.12+ sys.monitoring's PY_START and PY_RETURN. Before, a
sys.settrace tracer: a 'call' event counts as a body start unless it resumes a generator or
coroutine (a resumed frame has f_lasti >= 0; 3.11 starts at its RESUME 0); a 'return' event counts
as a normal return when the frame stopped at a return instruction, not when it stopped at a yield
(<= 3.10 `await` leaves f_lasti before its YIELD_FROM); anywhere else (2.7-3.7 returns through
`finally`/`with` end at END_FINALLY; exceptions end anywhere) it is a normal return when it carries
a value (an exception exit passes None) or when no 'exception' event reached the frame since it
started or resumed. Limitation: a `return None` through a `finally` after an exception was caught
in the same activation is counted as an exception exit on 2.7-3.7 (the fixture has none).
"""
from __future__ import print_function
import dis, io, json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
from pyc_fixture import load_pyc, write_pyc
FILENAME = "inject_program.py"
OPTIMIZED = 0x1
GENERATOR_LIKE = 0x20 | 0x80 | 0x100 | 0x200  # generator, coroutine, iterable coroutine, async generator


def source():
    src = open(os.path.join(HERE, "inject_program.py")).read()
    if sys.version_info[0] >= 3:
        src += open(os.path.join(HERE, "inject_program3.py")).read()
    return src


def compile_pyc(out):
    code = compile(source(), FILENAME, "exec")
    write_pyc(code, out)


def key(code):
    return "%s:%d" % (code.co_name, code.co_firstlineno)


def ours(code):
    return code.co_filename == FILENAME and code.co_flags & OPTIMIZED


class Counts(object):
    def __init__(self):
        self.counts = {}

    def add(self, code, which):
        self.counts.setdefault(key(code), [0, 0])[which] += 1


def observe_monitoring(main, counts):
    mon = sys.monitoring
    tool = mon.PROFILER_ID
    mon.use_tool_id(tool, "pyckit-inject-test")
    events = mon.events

    def start(code, offset):
        if ours(code):
            counts.add(code, 0)

    def ret(code, offset, value):
        if ours(code):
            counts.add(code, 1)

    mon.register_callback(tool, events.PY_START, start)
    mon.register_callback(tool, events.PY_RETURN, ret)
    mon.set_events(tool, events.PY_START | events.PY_RETURN)
    try:
        main()
    finally:
        mon.set_events(tool, 0)
        mon.free_tool_id(tool)


def observe_trace(main, counts):
    ops = dis.opmap
    returns = set(ops[n] for n in ("RETURN_VALUE", "RETURN_CONST") if n in ops)
    yields = set(ops[n] for n in ("YIELD_VALUE", "YIELD_FROM") if n in ops)
    yield_from = ops.get("YIELD_FROM")
    resume = ops.get("RESUME")
    raised = {}  # id(frame) -> an 'exception' event reached the frame since it last started or resumed

    def at(frame, delta=0):
        b = bytearray(frame.f_code.co_code)
        i = frame.f_lasti + delta
        if frame.f_lasti < 0 or i >= len(b):
            return None, None
        return b[i], (b[i + 1] if i + 1 < len(b) else 0)

    def tracer(frame, event, arg):
        code = frame.f_code
        if not ours(code):
            return tracer
        if event == "call":
            raised[id(frame)] = False
            op, oparg = at(frame)
            if not (code.co_flags & GENERATOR_LIKE) or op is None or (op == resume and oparg == 0):
                counts.add(code, 0)
        elif event == "exception":
            raised[id(frame)] = True
        elif event == "return":
            op, _ = at(frame)
            if op in returns:
                counts.add(code, 1)
            elif op in yields or (yield_from is not None and at(frame, 2)[0] == yield_from):
                pass  # a yield (<= 3.10 `await`/`yield from` rewinds f_lasti to re-run YIELD_FROM)
            elif arg is not None or not raised.get(id(frame)):
                counts.add(code, 1)  # 2.7-3.7: a return finishing at END_FINALLY after `finally`/`with`
        return tracer

    sys.settrace(tracer)
    try:
        main()
    finally:
        sys.settrace(None)


class Probe(object):
    def __init__(self):
        self.counts = Counts()

    def enter(self):
        self.counts.add(sys._getframe(1).f_code, 0)

    def leave(self):
        self.counts.add(sys._getframe(1).f_code, 1)


def run(path, observe):
    code = load_pyc(path)
    ns = {"__name__": "inject_program"}
    buf = io.BytesIO() if sys.version_info[0] == 2 else io.StringIO()
    saved = sys.stdout
    sys.stdout = buf
    try:
        exec(code, ns)
        observe(ns["main"])
    finally:
        sys.stdout = saved
    out = buf.getvalue()
    return out if isinstance(out, str) else out.decode("utf-8")


def line_sets(path):
    """Per function ("name:firstline"), its sorted line starts (dis.findlinestarts)."""
    import types
    out = {}
    stack = [load_pyc(path)]
    while stack:
        code = stack.pop()
        if ours(code):
            out[key(code)] = sorted(set(l for _, l in dis.findlinestarts(code) if l is not None))
        stack.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    return out


class ModuleProbe(Probe):
    def __init__(self):
        Probe.__init__(self)
        self.calls = []

    def module(self, name, tag):
        bound = sorted(k for k in sys._getframe(1).f_globals if not k.startswith("__"))
        self.calls.append([name, tag, bound])


def module_entry(original, edited):
    probe = ModuleProbe()
    builtins = __import__("builtins" if sys.version_info[0] >= 3 else "__builtin__")
    builtins.probe = probe
    out1 = run(original, lambda m: m())
    out2 = run(edited, lambda m: m())
    lines = [sorted(set(l for _, l in dis.findlinestarts(load_pyc(p)) if l is not None)) for p in (original, edited)]
    print(json.dumps({"calls": probe.calls, "original_output": out1, "edited_output": out2,
                      "original_lines": lines[0], "edited_lines": lines[1]}, sort_keys=True))


def main():
    if sys.argv[1] == "compile":
        compile_pyc(sys.argv[2])
        return
    if sys.argv[1] == "module":
        module_entry(sys.argv[2], sys.argv[3])
        return
    observed = Counts()
    if hasattr(sys, "monitoring"):
        out1 = run(sys.argv[2], lambda m: observe_monitoring(m, observed))
    else:
        out1 = run(sys.argv[2], lambda m: observe_trace(m, observed))
    probe = Probe()
    builtins = __import__("builtins" if sys.version_info[0] >= 3 else "__builtin__")
    builtins.probe = probe
    out2 = run(sys.argv[3], lambda m: m())
    print(json.dumps({"observed": observed.counts, "probed": probe.counts.counts,
                      "original_output": out1, "edited_output": out2,
                      "original_lines": line_sets(sys.argv[2]), "edited_lines": line_sets(sys.argv[3])},
                     sort_keys=True))


main()
