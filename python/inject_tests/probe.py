"""Entry and return probes for the execution run of stdlib code instrumented with
`--all-functions --at-entry '__import__("probe").enter()' --before-return '__import__("probe").leave()'`.

Both are C-level callables (an itertools counter's next), so the probes add no Python frames:
tracers and profilers in the tests see the functions they expect. Imports only C modules.
"""
import itertools as _itertools

_entries = _itertools.count()
_returns = _itertools.count()
enter = getattr(_entries, '__next__', None) or _entries.next
leave = getattr(_returns, '__next__', None) or _returns.next
