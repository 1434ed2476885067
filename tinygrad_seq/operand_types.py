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


def named_node(result, name):
    """named(result, name), NotImplemented passed through (the reflected dunders)."""
    return result if result is NotImplemented else named(result, name)


def named_result(result, name, other, argument="other", position=1):
    """result of a named form, or torch's TypeError where the dunder returned NotImplemented
    ("add(): argument 'other' (position 1) must be Tensor, not Foo")."""
    if result is NotImplemented:
        raise not_a_tensor(name, argument, position, other)
    return result
