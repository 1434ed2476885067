"""One dim (or shift / size) argument as a Python int, as torch's argument parser takes it: an int,
a numpy integer or anything else with __index__ (a 0-d integer tensor). A bool is refused with
torch's TypeError although Python counts it as an int (torch: "must be int, not bool")."""
import operator

import numpy as np


def dim_int(value, what="dim"):
    """value as an int; TypeError naming `what` for a bool or anything without __index__."""
    if type(value) is int:   # the hot path: one type test
        return value
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"argument '{what}' must be int, not bool")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"argument '{what}' must be int, not {type(value).__name__}") from None


def is_one_int(value):
    """True when value is one int-like argument (not a sequence of them): an int, a numpy integer,
    a 0-d tensor or a bool (which dim_int then refuses)."""
    if type(value) is int or isinstance(value, (bool, np.integer, np.bool_)):
        return True
    return getattr(value, "ndim", None) == 0
