"""Entry and return probes for the execution run of the stdlib instrumented with
`--at-module-entry '__import__("probe")' --all-functions
 --at-entry '__pyckit_probe__.enter()' --before-return '__pyckit_probe__.leave()'`.

Importing this module (which every instrumented module does first thing, at import time) installs
an object holding both probes in builtins as `__pyckit_probe__`, so the function probes find them
with one global lookup: no import at each call (a test that patches `builtins.__import__` or shuts
the import system down sees no extra imports). It is an instance, not this module: 2.7 sets every
module's globals to None at exit while weak-reference callbacks still run instrumented code.

Both probes are C-level callables (an itertools counter's next), so they add no Python frames:
tracers and profilers in the tests see the functions they expect. Imports only C modules.
"""
import itertools as _itertools
import sys as _sys

_entries = _itertools.count()
_returns = _itertools.count()
enter = getattr(_entries, '__next__', None) or _entries.next
leave = getattr(_returns, '__next__', None) or _returns.next

_builtins = _sys.modules['builtins' if _sys.version_info[0] >= 3 else '__builtin__']


class _Probes(object):
    pass


_probes = _Probes()
_probes.enter = enter
_probes.leave = leave
_builtins.__pyckit_probe__ = _probes

# Python 3 restores builtins from a copy taken at startup while it shuts down, before module
# globals are wiped and while __del__ methods and weak-reference callbacks still run instrumented
# code (test_traceback prints a traceback from a __del__ at exit). The copy is a plain dict the
# collector tracks: put the probes there too, so they stay until builtins themselves go, last.
if _sys.version_info[0] >= 3:
    import gc as _gc

    _live = vars(_builtins)
    for _d in _gc.get_objects():
        if (type(_d) is dict and _d is not _live and _d.get('__build_class__') is _live['__build_class__']
                and _d.get('len') is _live['len'] and _d.get('print') is _live['print']):
            _d['__pyckit_probe__'] = _probes
    del _d, _live
