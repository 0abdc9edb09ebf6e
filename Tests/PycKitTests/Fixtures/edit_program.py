# A program for the editing tests: every construct whose layout the assembler must recompute.
# Written for 2.7 and 3.x alike; `main()` returns a deterministic text.
import sys

hits = []
BIG = 70000


def returns3(x):
    if x < 0:
        return "negative"
    try:
        if x == 0:
            return "zero"
    finally:
        hits.append("finally")
    for i in range(3):
        if i == x:
            break
        if i > 5:
            continue
    else:
        return "no break"
    return "broke at %d" % i


def loops(n):
    total = 0
    while n > 0:
        n -= 1
        if n % 3 == 0:
            continue
        total += n
    return total


def closure(a):
    def inner(b):
        return a + b
    return inner


def gen(n):
    for i in range(n):
        yield i * i
    return


def handlers(x):
    try:
        try:
            1 / x
        except ZeroDivisionError as e:
            return "zero division"
        else:
            return "fine"
    except Exception:
        return "other"


def withs(path):
    class Ctx(object):
        def __enter__(self):
            hits.append("enter")
            return self

        def __exit__(self, *a):
            hits.append("exit")
            return True

    with Ctx() as c:
        if path:
            raise ValueError(path)
        return "body"
    return "suppressed"


def comprehensions(n):
    return [x * 2 for x in range(n) if x % 2], dict((k, k) for k in range(n)), sorted(set(y for y in "abc"))


class Klass(object):
    def __init__(self, v):
        if v is None:
            self.v = 0
            return
        self.v = v

    def get(self):
        return self.v


def big():
    # more than 256 constants and names: EXTENDED_ARG on LOAD_CONST / LOAD_GLOBAL
    values = [BIG]
    CONSTS
    return sum(values)


def long_jump(x):
    if x:
        LONGBODY
        return "long"
    return "short"


def main():
    del hits[:]
    out = []
    for x in (-1, 0, 1, 2, 5):
        out.append(returns3(x))
    out.append(loops(10))
    out.append(closure(3)(4))
    out.append(list(gen(5)))
    out.append(handlers(0))
    out.append(handlers(1))
    out.append(handlers("s"))
    out.append(withs(""))
    out.append(withs("p"))
    out.append(repr(comprehensions(6)))
    out.append(Klass(None).get() + Klass(5).get())
    out.append(big())
    out.append(long_jump(1) + long_jump(0))
    out.append(len(hits))
    return repr(out)
