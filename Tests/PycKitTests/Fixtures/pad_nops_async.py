# Fixture for PadNopsTests (3.6+): async with and async for under a tracer (jumps out, events), and async with
# errors that name __aenter__/__aexit__. Each scenario prints one line; the padded program must
# print the same lines as the original.
import sys


class NotAwaitable:
    def __aenter__(self):
        return 123

    def __aexit__(self, *exc):
        return 456


class ExitNotAwaitable:
    async def __aenter__(self):
        return 1

    def __aexit__(self, *exc):
        return 456


async def enter_error():
    async with NotAwaitable():
        pass


async def exit_error():
    async with ExitNotAwaitable():
        pass


async def exit_error_raising():
    async with ExitNotAwaitable():
        1 / 0


def run(coroutine):
    try:
        coroutine.send(None)
    except StopIteration:
        pass


for f in (enter_error, exit_error, exit_error_raising):
    try:
        run(f())
        print('%s: no error' % f.__name__)
    except TypeError as e:
        print('%s: %s' % (f.__name__, e))


class Suspend:
    def __await__(self):
        try:
            yield 'suspended'
        except KeyError:
            return 'handled by the awaitable'
        return 'resumed'


async def awaiting():
    try:
        r = await Suspend()
    except ValueError:
        return 'caught'
    return r


def drive(action):
    c = awaiting()
    c.send(None)
    try:
        action(c)
    except StopIteration as e:
        return e.value
    except BaseException as e:
        return repr(e)
    return 'still running'


# Resuming, throwing into and closing a suspended await (3.11: a throw the awaitable handles
# steps back from YIELD_VALUE to its SEND).
print('await, send: %s' % drive(lambda c: c.send(None)))
print('await, throw handled: %s' % drive(lambda c: c.throw(KeyError)))
print('await, throw: %s' % drive(lambda c: c.throw(ValueError)))
print('await, close: %s' % drive(lambda c: c.close()))


class CM:
    async def __aenter__(self):
        out.append('enter')

    async def __aexit__(self, *exc):
        out.append('exit')


async def async_with_in_loop():
    out.append(1)
    for i in [1]:
        async with CM():
            out.append(4)
        out.append(5)
    out.append(6)


def jumper(func, source, target):
    first = func.__code__.co_firstlineno

    def tracer(frame, event, arg):
        if (frame.f_code is func.__code__ and event == 'line' and frame.f_lineno == first + source
                and 'jumped' not in out):
            try:
                frame.f_lineno = first + target
                out.append('jumped')
            except ValueError as e:
                out.append('ValueError: %s' % e)
        return tracer
    return tracer


# Out of an async with block inside a loop (3.6-3.8: the block's handler must be WITH_CLEANUP_START).
out = []
sys.settrace(jumper(async_with_in_loop, 4, 5))
try:
    run(async_with_in_loop())
finally:
    sys.settrace(None)
print('async with in loop: %s' % out)


async def asynciter(iterable):
    for x in iterable:
        yield x


async def out_of_async_for_forwards():
    for i in [1]:
        async for i in asynciter([1, 2]):
            out.append(3)
            out.append(4)
        out.append(5)


async def out_of_async_for_backwards():
    for i in [1]:
        out.append(2)
        async for i in asynciter([1]):
            out.append(4)
            out.append(5)
        out.append(6)


# Out of an async for loop, once (3.8: the loop's SETUP_FINALLY target must be END_ASYNC_FOR).
for func, source, target in ((out_of_async_for_forwards, 4, 5), (out_of_async_for_backwards, 5, 2)):
    out = []
    sys.settrace(jumper(func, source, target))
    try:
        run(func())
    finally:
        sys.settrace(None)
    print('%s: %s' % (func.__name__, out))


async def over_async_listcomp():
    a = 1
    x = [i async for i in asynciter(range(10))]
    c = 3


# Backwards over an async comprehension (3.9, 3.10: GET_AITER; CALL_FUNCTION marks its call).
out = []
sys.settrace(jumper(over_async_listcomp, 3, 1))
try:
    run(over_async_listcomp())
finally:
    sys.settrace(None)
print('over async listcomp: %s' % out)


class AsyncIteratorWrapper:
    def __init__(self, obj):
        self._it = iter(obj)

    def __aiter__(self):
        return self

    async def __anext__(self):
        try:
            return next(self._it)
        except StopIteration:
            raise StopAsyncIteration


async def async_for():
    async for letter in AsyncIteratorWrapper("abc"):
        x = letter
    y = 42


def gen():
    yield 1


def for_over_generator():
    for _ in (
        gen()
    ):
        pass


traced = ('async_for', '__anext__', 'gen', 'for_over_generator')


def record(events):
    def tracer(frame, event, arg):
        if frame.f_code.co_name in traced:
            events.append((frame.f_code.co_name, frame.f_lineno - frame.f_code.co_firstlineno, event))
        return tracer
    return tracer


# Every event of an async for loop (3.12+: its END_ASYNC_FOR handler has no line event).
events = []
sys.settrace(record(events))
try:
    run(async_for())
finally:
    sys.settrace(None)
print('async for events: %s' % events)

# A for loop over a generator (3.13: no 'exception' event when the generator ends), with the C
# tracer of CPython's own test when _testcapi has it.
events = []
try:
    import _testcapi
    _testcapi.settrace_to_record
except (ImportError, AttributeError):
    sys.settrace(record(events)); for_over_generator(); sys.settrace(None)
    print('generator loop events: %s' % events)
else:
    _testcapi.settrace_to_record(events); for_over_generator(); sys.settrace(None)
    first = for_over_generator.__code__.co_firstlineno
    print('generator loop events (C tracer): %s' % [(what, line - first) for (what, line, arg) in events])
