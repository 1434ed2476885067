"""Which second operands the arithmetic dunders take, as torch's: an operand of a type the library
does not know makes the dunder return NotImplemented (so Python calls the operand's reflected
operator: Foo.__radd__), and the named forms (t.add(x), ts.mul(x, t)) turn that NotImplemented into
torch's TypeError. Only the failure paths call these: the Tensor / number fast paths never do."""
import numbers

import numpy as np

from tinygrad_seq.argument_types import not_a_tensor
from tinygrad_seq.grad_fn_names import named

# what _other converts, or refuses with an error of its own (complex numbers, object arrays)
_KNOWN_OPERANDS = (numbers.Number, np.generic, np.ndarray, list, tuple)


def unknown_operand(other):
    """NotImplemented for an operand of a type we do not know (an object, a string, None); called
    inside the `except TypeError` of a failed conversion, whose error it re-raises for a known type."""
    if isinstance(other, _KNOWN_OPERANDS):
        raise
    return NotImplemented


def is_unknown_operand(other):
    """True for an operand of a type the library does not take (an object, a string, None): a
    dunder that failed on it returns NotImplemented, as torch's, so Python asks the operand."""
    from tinygrad_seq.tensor import Tensor
    return not isinstance(other, (Tensor, *_KNOWN_OPERANDS))


def defer_unknown(dunder):
    """dunder(self, o), returning NotImplemented where it raised a TypeError for an operand of a
    type the library does not take (no cost on the path that works: a try block)."""
    def run(self, o):
        try:
            return dunder(self, o)
        except TypeError:
            if is_unknown_operand(o):
                return NotImplemented
            raise
    run.__name__, run.__qualname__, run.__doc__ = dunder.__name__, dunder.__qualname__, dunder.__doc__
    return run


def named_node(result, name):
    """named(result, name), NotImplemented passed through (the reflected dunders)."""
    return result if result is NotImplemented else named(result, name)


def named_result(result, name, other, argument="other", position=1):
    """result of a named form, or torch's TypeError where the dunder returned NotImplemented
    ("add(): argument 'other' (position 1) must be Tensor, not Foo")."""
    if result is NotImplemented:
        raise not_a_tensor(name, argument, position, other)
    return result
