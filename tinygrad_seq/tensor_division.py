"""Tensor's division family (the DivisionOps base of MathOps): div with torch's rounding modes,
// (floor_divide) and % (remainder, the divisor's sign), in torch's dtypes: the operands promote
as tensor_math._promote (a 0-d tensor does not widen a dimensioned one of its category), integers
stay integers, integer division by zero raises, and bools have no kernel (NotImplementedError)."""
import numpy as np

from tinygrad_seq import autograd, device as _device, ops_extra
from tinygrad_seq.bool_arith import refuse_bool, trunc_divide_ints
from tinygrad_seq.broadcast_errors import raise_if_mismatched
from tinygrad_seq.grad_fn_names import named


def _wrap(arr, device):
    return autograd._Tensor._wrap(arr, device)


def _promoted(a, b):
    if a.dtype == b.dtype:
        return a, b
    from tinygrad_seq.tensor_math import _promote   # (tensor_math imports this module)
    return _promote(a, b)


class DivisionOps:
    __slots__ = ()

    def div(self, other, rounding_mode=None):
        if rounding_mode is None:
            return self / other
        if rounding_mode == "floor":
            return self // other
        if rounding_mode == "trunc":
            return self._trunc_divide(other)
        raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")

    true_divide = divide = div

    def _trunc_divide(self, other):
        a, b = _promoted(self, self._other(other))
        if a.dtype.kind == "f":
            return (a / b).trunc()
        refuse_bool("div_trunc_cpu", a.dtype)
        if b.device == "cpu" and not np.all(b.array):
            raise RuntimeError("ZeroDivisionError: integer division by zero")   # torch's
        B = _device.backend(a.device)
        try:
            x, y = np.broadcast_arrays(B.to_host(a.array), B.to_host(b.array))
        except ValueError:
            raise_if_mismatched(a, b)
            raise
        return _wrap(B.asarray(np.array(trunc_divide_ints(x, y), order="C")), a.device)

    def __floordiv__(self, o): return self._intdiv(o, "floor_divide", False)
    def __rfloordiv__(self, o): return self._intdiv(o, "floor_divide", True)
    def __mod__(self, o): return self._intdiv(o, "remainder", False)
    def __rmod__(self, o): return self._intdiv(o, "remainder", True)
    floor_divide = __floordiv__

    def remainder(self, other): return self % other

    def _intdiv(self, other, name, reverse):
        o = self._other(other)
        a, b = (o, self) if reverse else (self, o)   # the operator's order, as torch's message names them
        try:
            out = self._divide_pair(a, b, name)
        except RuntimeError:   # the method's own (integer division by zero, a ShapeMismatch)
            raise
        except (ValueError, IndexError):   # numpy's broadcast refusal: torch's ShapeMismatch if shapes explain it
            raise_if_mismatched(a, b)
            raise
        if name != "remainder" or reverse:   # (torch's number % tensor has no gradient)
            return out
        return named(out, "RemainderBackward1" if hasattr(other, "_ctx") else "RemainderBackward0")

    @staticmethod
    def _divide_pair(a, b, name):
        """a // b or a % b (name: floor_divide / remainder), with torch's dtype rules."""
        a, b = _promoted(a, b)
        refuse_bool("div_floor_cpu" if name == "floor_divide" else "remainder_cpu", a.dtype)
        if a.dtype.kind == "f" and name == "remainder" and (a.requires_grad or b.requires_grad):
            return a - b * (a / b).floor()   # torch's gradients: 1 and -floor(a / b)
        if a.dtype.kind == "f" and name == "floor_divide":
            return named(ops_extra.FloorDivide.apply(a, b), "DivBackward2")   # exact; zero gradient
        B = _device.backend(a.device)
        if b.dtype.kind in "iu" and a.device == "cpu" and not np.all(b.array):
            raise RuntimeError("ZeroDivisionError: integer division or modulo by zero")   # torch's
        if a.dtype.kind == "f" and name == "remainder" and a.device == "cpu":
            with np.errstate(all="ignore"):
                m = np.remainder(a.array, b.array)
                if not np.all(m):   # a zero result keeps the dividend's sign, as torch's (-2 % 2 is -0.)
                    m = np.where(m == 0, np.copysign(m, a.array), m)
            return _wrap(np.asarray(m, dtype=a.dtype), a.device)
        return _wrap(getattr(B, name)(a.array, b.array), a.device)
