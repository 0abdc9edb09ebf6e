

# ---- 3.x only (appended to inject_program.py): nonlocal, coroutines, async generators ----
def counter():
    count = 0

    def bump():
        nonlocal count
        count += 1
        return count

    bump()
    return bump()


class Suspend:
    def __await__(self):
        yield "suspended"


def run(coro):
    try:
        while True:
            coro.send(None)
    except StopIteration as e:
        return e.value


async def coro(x):
    await Suspend()
    if x:
        return "early"
    await Suspend()
    return "late"


async def coro_raises():
    await Suspend()
    raise RuntimeError("in coroutine")


async def agen(n):
    for i in range(n):
        await Suspend()
        yield i


async def consume(n):
    out = []
    async for v in agen(n):
        out.append(v)
    return out


def main3():
    return [counter(), run(coro(True)), run(coro(False)), attempt(run, coro_raises()), run(consume(3))]
