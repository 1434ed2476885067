"""torch.serialization's allowlist of globals for weights_only loads: add_safe_globals,
safe_globals (a context manager), get_safe_globals, clear_safe_globals.

ts.load never unpickles (serialization.py reads JSON and .npy with allow_pickle=False), so no
load consults the list; it is recorded and read back as torch's: entries are classes, functions
or (object, "qualified.name") pairs, each kept once."""
import contextlib

_SAFE_GLOBALS: dict = {}   # entry -> True: a set that keeps the order of addition


def add_safe_globals(safe_globals):
    """Add the entries of an iterable (torch takes a list) to the allowlist."""
    entries = list(safe_globals)   # a non-iterable (add_safe_globals(dict)) is torch's TypeError
    for entry in entries:
        hash(entry)   # an unhashable entry is torch's TypeError (its list is a set)
    for entry in entries:
        _SAFE_GLOBALS[entry] = True


def get_safe_globals():
    """The allowlist, as a new list."""
    return list(_SAFE_GLOBALS)


def clear_safe_globals():
    _SAFE_GLOBALS.clear()


@contextlib.contextmanager
def safe_globals(safe_globals):
    """The entries added for the block only; the list before it is restored on exit."""
    saved = dict(_SAFE_GLOBALS)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _SAFE_GLOBALS.clear()
        _SAFE_GLOBALS.update(saved)
