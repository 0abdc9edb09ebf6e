# Source snippets for DisassemblerTests: each block between "#--" lines is compiled by every
# interpreter that accepts it, and pyckit's listing must equal that interpreter's dis.
#-- extended args: more than 256 constants and names, long jumps
x = [%(consts)s]
def many(a):
    %(names)s
    if a:
%(body)s
    return a
#-- backward jumps, loops, break/continue, while/else
def loops(n):
    total = 0
    for i in range(n):
        if i % 3 == 0:
            continue
        while total < i:
            total += i
            if total > 100:
                break
        else:
            total -= 1
    return total
#-- calls with caches, methods, keywords, attributes
import os
def calls(o, *args, **kw):
    o.method(1, 2, key=3)
    print(os.path.join("a", "b"), *args, sep="", **kw)
    return len(args) + o.attr.sub
#-- exceptions and with
def exc(f):
    try:
        with open(f) as h:
            return h.read()
    except (IOError, ValueError) as e:
        raise RuntimeError("bad") from None
    except Exception:
        pass
    finally:
        print("done")
#-- constants with tricky reprs
def consts():
    return ('it\'s', "say \"hi\"", 'tab\tnl\n\x00\x7f', '\u00e9\u2028\U0001f600', b'\xff\x00\'"',
            1e16, 1e-05, 0.1, -0.0, float('inf'), 1.5e300, 2**100, -2**63, 3j, 1+2j, -1j,
            (1,), (), frozenset({1, 2}), None, True, ..., 12345678901234567890)
#-- line numbers above 1000 (width)
%(padding)s
def late():
    return 1
#-- comprehensions, lambdas, closures, generators
def outer(xs):
    k = 2
    f = lambda y: y * k
    g = (f(x) for x in xs if x)
    def inner():
        nonlocal k
        k += 1
        return k
    return [v for v in g], {v: w for v, w in zip(xs, xs)}, {s for s in xs}, inner
#-- membership tests with frozensets and comparisons
def cmp(a, b):
    return a in {"alpha", "beta", "gamma"}, a is b, a is not b, a < b <= 3, a != b, not a
#-- class bodies and decorators
class C(object):
    attr = 1
    @staticmethod
    def s(): return C.attr
    def m(self, x=1, *a, y=2, **k) -> int:
        return super().m()
#-- f-strings and formats
def fmt(v, w):
    return f"{v!r:>{w}} {v!s} {v!a} {v}"
#-- async
async def agen(xs):
    async with xs as y:
        async for z in y:
            yield z
    await xs
#-- match statements
def match(p):
    match p:
        case {"k": v, **rest}: return v, rest
        case [1, 2, *others]: return others
        case C(attr=3) | None: return 0
        case str() as s if s: return s
        case _: return -1
#-- relative imports and star imports at module level
from . import sibling
from .pkg import name as alias
#-- walrus, global, del, assert
def misc(xs):
    global G
    if (n := len(xs)) > 2:
        G = n
    del xs[0]
    assert n, "empty"
    return [y := 1, y ** 2]
#-- try/except* (3.11+)
def star():
    try:
        pass
    except* ValueError as e:
        return e
#-- calls, exceptions and with in the common subset of 2.7 and 3.x
import sys
def common(o, f, *args, **kw):
    o.method(1, 2, key=3)
    sys.stdout.write("%s %r" % (args, kw))
    try:
        with open(f) as h:
            return h.read()
    except (IOError, ValueError) as e:
        raise RuntimeError("bad: %s" % e)
    finally:
        o.close()
    return [x for x in args if x], dict((k, v) for k, v in kw.items())
#-- class with properties and nested closures (2.7 and 3.x)
class P(object):
    def __init__(self, v):
        self._v = v
    @property
    def v(self):
        def get():
            return self._v
        return get()
