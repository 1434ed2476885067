"""ts.add / sub / rsub / mul / div / pow: torch's free functions of the arithmetic operators, with
a number allowed first as torch's wrapped number (first_operand); an operand of a type torch does
not take raises its TypeError (the dunder's NotImplemented is never returned, nor is the other
operand's reflected operator called). functions.py gives them out=."""
import numbers

import numpy as np

from tinygrad_seq.argument_types import not_a_tensor
from tinygrad_seq.operand_types import named_result
from tinygrad_seq.tensor import Tensor


def _tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def first_operand(x, other):
    """x as the first operand of a binary function: a Python / numpy number beside a Tensor takes
    that tensor's dtype (torch's wrapped number: ts.sub(5.57, float64 tensor) is not rounded to
    float32 first)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(other, Tensor) and isinstance(x, (numbers.Number, np.generic)) and not isinstance(x, complex):
        return other._other(x)
    return Tensor(x)


def add(input, other, *rest, alpha=1):
    if isinstance(input, Tensor):
        return input.add(other, *rest, alpha=alpha)
    if not isinstance(other, Tensor):   # two numbers: a tensor of their sum, as torch's
        return _tensor(input).add(other, *rest, alpha=alpha)
    return named_result((other * alpha if alpha != 1 else other).__radd__(input), "add", input, "input")


def sub(input, other, *rest, alpha=1):
    if isinstance(input, (bool, np.bool_)):   # a bool number is a bool tensor here: torch refuses it
        input = Tensor(input)
    return first_operand(input, other).sub(other, *rest, alpha=alpha)


def rsub(input, other, alpha=1):
    return sub(other, input, alpha=alpha)   # other - alpha * input


def mul(input, other):
    if isinstance(input, Tensor):
        return input.mul(other)
    if isinstance(other, Tensor):
        return named_result(other.__rmul__(input), "mul", input, "input")
    return _tensor(input) * other   # two numbers: a tensor


def div(input, other, rounding_mode=None):
    if rounding_mode is None and type(input) is int and isinstance(other, Tensor) and other.dtype.kind in "iub":
        input = float(input)   # true division of the int's value: -3 beside uint8 stays -3, as torch's
    return first_operand(input, other).div(other, rounding_mode=rounding_mode)


def pow(input, exponent):
    if isinstance(input, Tensor):
        return input.pow(exponent)
    if not isinstance(exponent, Tensor):   # torch's pow has no (number, number) form
        raise not_a_tensor("pow", "exponent", 2, exponent)
    return named_result(exponent.__rpow__(input), "pow", input, "input")
