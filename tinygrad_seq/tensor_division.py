"""Tensor's division family (the DivisionOps base of MathOps): div with torch's rounding modes,
// (floor_divide) and % (remainder, the divisor's sign), in torch's dtypes: the operands promote
as tensor_math._promote (a 0-d tensor does not widen a dimensioned one of its category), integers
stay integers, integer division by zero raises, and bools have no kernel (NotImplementedError).
Gradients as torch's: div's "floor" / "trunc" modes zero (also for a zero divisor), `//` and
floor_divide none (backward raises)."""
import numpy as np

from tinygrad_seq.elementwise_layout import relaid_as_elementwise
from tinygrad_seq import autograd, device as _device, ops_extra
from tinygrad_seq.bool_arith import refuse_bool, trunc_divide_ints
from tinygrad_seq.broadcast_errors import raise_if_mismatched
from tinygrad_seq.errors import InvalidArgument
from tinygrad_seq.grad_fn_names import named
from tinygrad_seq.operand_types import named_result, unknown_operand


def _wrap(arr, device):
    return autograd._Tensor._wrap(arr, device)


class TruncDivide(ops_extra.FloorDivide):
    """trunc(a / b) of floats, torch's div(rounding_mode='trunc'): piecewise constant, so the
    gradient is zero for both, also where b is 0 (trunc of a / b would pass 0 * inf = nan back)."""
    saved_are_inputs = True   # create_graph: its zeros again (torch's second derivative)

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = [(a.shape, a.dtype), (b.shape, b.dtype)]
        return relaid_as_elementwise(ctx.b.trunc(ctx.b.div(a, b)), a, b)   # (host arrays: torch's layout)


class FloorDivideOperator(ops_extra.FloorDivide):
    """a // b and floor_divide of floats: torch defines no derivative (its node NotImplemented
    raises on backward); div(rounding_mode='floor') is FloorDivide, with the zero gradient."""
    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("derivative for aten::floor_divide is not implemented")


def _promoted(a, b):
    if a.dtype == b.dtype:
        return a, b
    from tinygrad_seq.tensor_math import _promote   # (tensor_math imports this module)
    return _promote(a, b)


class DivisionOps:
    __slots__ = ()

    def div(self, other, rounding_mode=None):
        if rounding_mode is None:
            return named_result(self.__truediv__(other), "div", other)
        if rounding_mode == "floor":
            return named_result(self._intdiv(other, "div_floor", False), "div", other)
        if rounding_mode == "trunc":
            return self._trunc_divide(other)
        raise InvalidArgument(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                              f"{rounding_mode!r}")

    true_divide = divide = div

    def _trunc_divide(self, other):
        a, b = _promoted(self, self._other(other))
        if a.dtype.kind == "f":
            try:
                return named(TruncDivide.apply(a, b), "DivBackward2")
            except ValueError:
                raise_if_mismatched(a, b)
                raise
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
        """a // b, a % b (name floor_divide / remainder) or div(rounding_mode='floor') (div_floor)."""
        if isinstance(other, (list, tuple)):   # as torch's: no sequence operand
            return NotImplemented
        try:
            o = self._other(other)
        except TypeError:
            return unknown_operand(other)
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
        """a // b or a % b (name: floor_divide / div_floor / remainder), with torch's dtype rules."""
        a, b = _promoted(a, b)
        refuse_bool("remainder_cpu" if name == "remainder" else "div_floor_cpu", a.dtype)
        if a.dtype.kind == "f" and name == "remainder" and (a.requires_grad or b.requires_grad):
            from tinygrad_seq.remainder_node import ExactRemainder   # torch's gradients: 1 and -floor(a / b)
            value = DivisionOps._divide_pair(a.detach(), b.detach(), name).array
            return ExactRemainder.apply(a, b, value=value, rounding="floor")
        if a.dtype.kind == "f" and name == "floor_divide":
            return named(FloorDivideOperator.apply(a, b), "NotImplemented")   # exact; no derivative
        if a.dtype.kind == "f" and name == "div_floor":
            return named(ops_extra.FloorDivide.apply(a, b), "DivBackward2")   # exact; zero gradient
        B = _device.backend(a.device)
        if b.dtype.kind in "iu" and a.device == "cpu" and not np.all(b.array):
            raise RuntimeError("ZeroDivisionError: integer division or modulo by zero")   # torch's
        if a.dtype.kind == "f" and name == "remainder" and a.device == "cpu":
            with np.errstate(all="ignore"):
                m = np.remainder(a.array, b.array)
                if not np.all(m):   # a zero result keeps the dividend's sign, as torch's (-2 % 2 is -0.)
                    m = np.where(m == 0, np.copysign(m, a.array), m)
            return _wrap(relaid_as_elementwise(np.asarray(m, dtype=a.dtype), a.array, b.array), a.device)
        out = getattr(B, "remainder" if name == "remainder" else "floor_divide")(a.array, b.array)
        return _wrap(relaid_as_elementwise(out, a.array, b.array), a.device)
