# Fixture for PadNopsTests (2.7 and 3.6+): what a tracer sees and may do in padded code. Each
# scenario prints one line; the padded program must print the same lines as the original.
import sys


def typed_except():
    x = 1
    try:
        x = 2
        raise KeyError
    except KeyError:
        x = 3
    return x


def bare_except():
    x = 1
    try:
        x = 2
        raise KeyError
    except:
        x = 3
    return x


class CM(object):
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def with_in_loop(out):
    out.append(1)
    for i in [1]:
        with CM():
            out.append(4)
        out.append(5)
    out.append(6)


def over_listcomp(out):
    a = 1
    x = [i for i in range(10)]
    c = 3


def reraise_in_named_except():
    try:
        try:
            raise Exception
        except Exception as e:
            raise
            x = "Something"
            y = "Something"
    except Exception:
        pass


def events(func):
    """The (relative line, event) pairs a tracer sees in func."""
    first = func.__code__.co_firstlineno
    seen = []

    def tracer(frame, event, arg):
        if frame.f_code is func.__code__:
            seen.append((frame.f_lineno - first, event))
        return tracer

    sys.settrace(tracer)
    try:
        func()
    finally:
        sys.settrace(None)
    return seen


def jump(func, args, source, target, out):
    """Runs func(*args) with a tracer that jumps from line source to target (relative)."""
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

    sys.settrace(tracer)
    try:
        result = func(*args)
    except Exception as e:
        result = repr(e)
    finally:
        sys.settrace(None)
    out.append(result)
    return out


# From the try body onto the except line: frame_setlineno refuses (2.7-3.8: it looks for
# DUP_TOP/POP_TOP at the line's first offset; 3.9+: by the block stack).
print('typed except: %s' % jump(typed_except, (), 3, 5, []))
print('bare except: %s' % jump(bare_except, (), 3, 5, []))
# Out of a with block inside a loop: the jump pops the block and the with's exit function.
out = []
print('with in loop: %s' % jump(with_in_loop, (out,), 4, 5, out))
# Backwards over a list comprehension (3.9, 3.10: GET_ITER; CALL_FUNCTION marks its call).
out = []
print('over listcomp: %s' % jump(over_listcomp, (out,), 3, 1, out))
# A handler in the middle of a line after a bare raise (3.9: a line event after an exception
# depends on whether the raising instruction opened its line).
print('reraise events: %s' % events(reraise_in_named_except))
