"""Instance tracking on an instrumented standard library (issue 5).

Run with an interpreter whose stdlib was rewritten by
  pyckit inject --init-methods --before-return '__import__("pyckit_registry").Register(self)'
and pyckit_registry.py on the path. Creates known objects of stdlib classes whose __init__ is
Python code (argparse.ArgumentParser, threading.Event, logging.Logger, a subclass calling
super().__init__, objects whose __init__ raises, ...) and checks that each object was registered
once per instrumented __init__ that returned normally for it. The ground truth comes from the
interpreter itself: sys.monitoring PY_RETURN on 3.12+, sys.settrace before (a frame whose last
event before 'return' is 'exception' ended by an exception). Prints a summary; exit status 1
on any mismatch. Runs on 2.7 and 3.6+.
"""
from __future__ import print_function

import sys

import pyckit_registry as registry

MARK = 'pyckit_registry'


def instrumented(code):
    return code.co_name == '__init__' and MARK in code.co_consts


def first_argument(frame):
    code = frame.f_code
    if code.co_argcount:
        return frame.f_locals.get(code.co_varnames[0])
    if code.co_flags & 0x04:                      # __init__(*args)
        args = frame.f_locals.get(code.co_varnames[code.co_argcount + getattr(code, 'co_kwonlyargcount', 0)])
        return args[0] if args else None
    return None


class Truth(object):
    """Normal returns of instrumented __init__ frames, by id of their first argument as it was
    when the frame started (an __init__(*args) may rebind its locals before it returns)."""

    def __init__(self):
        self.returns = {}
        self.held = {}
        self.started = {}

    def begin(self, frame):
        self.started[id(frame)] = first_argument(frame)

    def record(self, frame):
        obj = self.started.pop(id(frame), None)
        key = id(obj)
        self.returns[key] = self.returns.get(key, 0) + 1
        self.held[key] = obj

    def start(self):
        monitoring = getattr(sys, 'monitoring', None)
        if monitoring is not None:
            tool = monitoring.PROFILER_ID
            monitoring.use_tool_id(tool, 'pyckit-instances')

            def on_start(code, offset):
                if instrumented(code):
                    self.begin(sys._getframe(1))
                else:
                    return monitoring.DISABLE

            def on_return(code, offset, value):
                if instrumented(code):
                    self.record(sys._getframe(1))
                else:
                    return monitoring.DISABLE
            monitoring.register_callback(tool, monitoring.events.PY_START, on_start)
            monitoring.register_callback(tool, monitoring.events.PY_RETURN, on_return)
            monitoring.set_events(tool, monitoring.events.PY_START | monitoring.events.PY_RETURN)
            self.stop = lambda: (monitoring.set_events(tool, 0), monitoring.free_tool_id(tool))
        else:
            last = {}

            def local(frame, event, arg):
                if event == 'return':
                    if last.pop(id(frame), None) != 'exception':
                        self.record(frame)
                    else:
                        self.started.pop(id(frame), None)
                else:
                    last[id(frame)] = event
                return local

            def global_trace(frame, event, arg):
                if event == 'call' and instrumented(frame.f_code):
                    self.begin(frame)
                    return local
                return None
            sys.settrace(global_trace)
            self.stop = lambda: sys.settrace(None)


def main():
    import argparse
    import logging
    import threading
    import collections
    import fractions

    class Parser(argparse.ArgumentParser):
        def __init__(self, *args, **kwargs):
            super(Parser, self).__init__(*args, **kwargs)
            self.extra = True

    class Failing(argparse.Namespace):
        def __init__(self, **kwargs):
            super(Failing, self).__init__(**kwargs)

    truth = Truth()
    known = []
    registry.start_window()
    truth.start()
    try:
        parser = argparse.ArgumentParser(prog='demo', description='instance tracking')
        parser.add_argument('--count', type=int, default=1)
        namespace = parser.parse_args(['--count', '3'])
        event = threading.Event()
        logger = logging.Logger('pyckit-demo')
        sub = Parser(prog='sub')
        counter = collections.Counter('abracadabra')
        try:
            logging.Formatter('%(message)s', datefmt=None, style='?')   # raises in __init__ (3.x)
        except (ValueError, TypeError):
            pass
        try:
            threading.Thread(target=None, args=(1,), kwargs={}, daemon='x', group=object())  # asserts group
        except (AssertionError, TypeError):
            pass
        frac = fractions.Fraction(3, 4)
        known = [('argparse.ArgumentParser', parser), ('argparse.Namespace', namespace),
                 ('threading.Event', event), ('logging.Logger', logger), ('subclass of ArgumentParser', sub),
                 ('collections.Counter', counter), ('fractions.Fraction', frac)]
    finally:
        truth.stop()
        counts, held = registry.stop_window()

    mismatches = []
    for key in set(counts) | set(truth.returns):
        if counts.get(key, 0) != truth.returns.get(key, 0):
            obj = held.get(key, truth.held.get(key))
            mismatches.append('%s: registered %d, __init__ returned %d'
                              % (type(obj).__name__, counts.get(key, 0), truth.returns.get(key, 0)))
    for name, obj in known:
        print('%-28s registered %d time(s), __init__ returned normally %d time(s)'
              % (name, counts.get(id(obj), 0), truth.returns.get(id(obj), 0)))
    print('objects registered: %d, registrations: %d, instrumented __init__ returns seen by the interpreter: %d'
          % (len(counts), sum(counts.values()), sum(truth.returns.values())))
    for m in sorted(mismatches)[:20]:
        print('MISMATCH ' + m)
    unregistered = [name for name, obj in known
                    if counts.get(id(obj), 0) == 0 and name != 'fractions.Fraction']
    for name in unregistered:
        print('NOT REGISTERED ' + name)
    return 1 if mismatches or unregistered or not counts else 0


if __name__ == '__main__':
    sys.exit(main())
