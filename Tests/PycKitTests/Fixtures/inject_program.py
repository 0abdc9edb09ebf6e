# Acceptance program for `pyckit inject --all-functions` (InjectTests): every kind of function
# and way of leaving one that 2.7 and 3.6+ share. inject_program3.py is appended on 3.x.
from __future__ import print_function


def plain(x):
    return x + 1


def early(x):
    if x < 0:
        return "neg"
    if x == 0:
        return "zero"
    return "pos"


def implicit(x):
    y = x * 2


def loops(n):
    total = 0
    for i in range(n):
        if i == 2:
            continue
        if i == 5:
            break
        total += i
    while True:
        total += 1
        if total > 20:
            return total


def starts_with_loop(n):
    while True:
        n -= 1
        if n < 0:
            return n


def tryfinally(x):
    try:
        if x:
            return "in try"
    finally:
        print("finally ran")
    return "after"


def tryfinally_none(x):
    try:
        if x:
            return
    finally:
        print("finally ran (none)")


def tryexcept(x):
    try:
        return 10 // x
    except ZeroDivisionError:
        return "div by zero"


def raises(x):
    if x:
        raise ValueError("boom")
    return "ok"


def raises_through_finally(x):
    try:
        if x:
            raise KeyError(x)
    finally:
        print("cleanup")
    return "no raise"


class Ctx(object):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        print("exit", exc[0] is not None)
        return False


def with_stmt(x):
    with Ctx():
        if x:
            return "in with"
        print("with body")
    return "after with"


def nested_finally(x):
    for i in range(3):
        try:
            try:
                if i == x:
                    return i
            finally:
                print("inner", i)
        finally:
            print("outer", i)


def closure(x):
    y = x + 1

    def inner(z):
        return y + z

    return inner


def lam():
    f = lambda a: a * 2
    return f(3)


def gen(n):
    for i in range(n):
        yield i


def gen_early(n):
    yield 1
    if n:
        return
    yield 2


def gen_exc():
    yield 1
    raise ValueError("from generator")


def gen_closed():
    try:
        yield 1
        yield 2
    finally:
        print("gen closed")


def delegate(n):
    for v in gen(n):
        yield v * 10


class C(object):
    def __init__(self, v):
        self.v = v

    def method(self):
        return self.v

    @staticmethod
    def static(a):
        return a

    @classmethod
    def cls(k):
        return k.__name__


def make_class():
    class Local(object):
        def m(self):
            return 1

    return Local().m()


def recursive(n):
    if n <= 0:
        return 0
    return recursive(n - 1) + 1


def comprehensions(n):
    squares = [i * i for i in range(n)]
    total = sum(x for x in squares)
    return total


def attempt(f, *args):
    try:
        return f(*args)
    except Exception as e:
        return type(e).__name__


def main():
    out = []
    out.append(plain(1))
    out.extend([early(-1), early(0), early(1)])
    out.append(implicit(2))
    out.append(loops(10))
    out.append(starts_with_loop(3))
    out.extend([tryfinally(True), tryfinally(False)])
    out.extend([tryfinally_none(True), tryfinally_none(False)])
    out.extend([tryexcept(2), tryexcept(0)])
    out.extend([attempt(raises, True), attempt(raises, False)])
    out.extend([attempt(raises_through_finally, True), attempt(raises_through_finally, False)])
    out.extend([with_stmt(True), with_stmt(False)])
    out.extend([nested_finally(1), nested_finally(5)])
    out.append(closure(1)(2))
    out.append(lam())
    out.append(list(gen(3)))
    out.extend([list(gen_early(1)), list(gen_early(0))])
    g = gen_exc()
    out.append(next(g))
    out.append(attempt(next, g))
    g = gen_closed()
    out.append(next(g))
    g.close()
    out.append(list(delegate(2)))
    c = C(5)
    out.extend([c.method(), C.static(7), C.cls()])
    out.append(make_class())
    out.append(recursive(3))
    out.append(comprehensions(4))
    if "main3" in globals():
        out.extend(globals()["main3"]())
    print(out)
    return out
