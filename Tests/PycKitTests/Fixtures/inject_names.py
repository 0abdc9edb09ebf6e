# Name resolution and keyword arguments for InjectTests: snippets injected into outer (before
# return), outer.<locals>.inner (at entry) and shadow (before return) record what they see.
seen = []


def record(*args, **kw):
    seen.append(("global record", args, sorted(kw.items())))


class Log(object):
    def record(self, *args, **kw):
        seen.append(("method", args, sorted(kw.items())))


log = Log()
x = "global x"


def outer(a):
    y = "cell y"

    def inner(z):
        return y + z

    return inner("!")


def shadow():
    record = lambda *a, **k: seen.append(("local record", a, sorted(k.items())))
    return 1


def main():
    outer(1)
    shadow()
    return repr(seen)
