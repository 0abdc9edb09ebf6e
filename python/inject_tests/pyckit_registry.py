"""The weak-reference registry the instance-tracking run injects into every stdlib __init__:
`__import__("pyckit_registry").Register(self)` before each return.

Imports nothing instrumented (only the C module _weakref) and defines Register first, so the
instrumented library can call it while this module is still being set up.
"""


def Register(obj):
    key = id(obj)
    counts[key] = counts.get(key, 0) + 1
    if keep is not None:
        keep[key] = obj          # held during a measured window, so ids stay unique
    elif key not in refs:
        try:
            refs[key] = _ref(obj, lambda r, key=key: (counts.pop(key, None), refs.pop(key, None)))
        except TypeError:        # not weakly referenceable
            pass


counts = {}
refs = {}
keep = None
from _weakref import ref as _ref  # noqa: E402


def start_window():
    """Forget earlier registrations and hold every object registered from now on."""
    global keep
    counts.clear()
    refs.clear()
    keep = {}


def stop_window():
    """Ends the window: returns ({id: registrations}, {id: object})."""
    global keep
    held, keep = keep, None
    return dict(counts), held
