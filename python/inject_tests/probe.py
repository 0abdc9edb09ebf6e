"""Entry and return probes for the execution run of the stdlib instrumented with
`--at-module-entry '__import__("probe")' --all-functions
 --at-entry '__pyckit_probe__.enter()' --before-return '__pyckit_probe__.leave()'`.

Importing this module (which every instrumented module does first thing, at import time) installs
it in builtins as `__pyckit_probe__`, so the function probes find it with one global lookup: no
import at each call (a test that patches `builtins.__import__` or shuts the import system down
sees no extra imports), and it stays reachable while 2.7 empties `sys.modules` at exit.

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
_builtins.__pyckit_probe__ = _sys.modules[__name__]
