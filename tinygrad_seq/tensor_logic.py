"""Tensor's logical and bitwise operators (the LogicOps base class of Tensor): logical_*, ~,
& | ^ (logical on bools, bitwise on integers), << >>, as torch's; and alpha_form, the argument
rule of add / sub (alpha keyword-only, torch's deprecated add(Number, Tensor) form). `m |= o`,
`&=`, `^=`, `<<=`, `>>=` write into m (its views and aliases see it), as torch's."""

import numpy as np

from tinygrad_seq import device as _device
from tinygrad_seq.broadcast_errors import raise_if_mismatched
from tinygrad_seq.elementwise_layout import elementwise
from tinygrad_seq.operand_types import defer_unknown
from tinygrad_seq.user_warning import warn_once


def _wrap(arr, device):
    from tinygrad_seq.autograd import _Tensor
    return _Tensor._wrap(arr, device)


def alpha_form(name, other, rest, alpha):
    """(other, alpha) of add/sub: alpha is keyword-only, as torch's; torch's deprecated
    add(Number alpha, Tensor other) form (old tutorials' p.data.add_(-lr, p.grad.data)) is taken
    with its warning. sub / sub_ refuse a Python bool, as a bool tensor (torch's RuntimeError)."""
    if type(other) is bool and name[:3] == "sub":
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
                           "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
    if not rest:
        return other, alpha
    if len(rest) == 1 and hasattr(rest[0], "array") and isinstance(other, (int, float)):
        # torch's text, once a process whichever of add / add_ / sub / sub_ comes first (its one
        # TORCH_WARN_ONCE in the argument parser)
        warn_once("alpha_overload", f"This overload of {name} is deprecated:\n\t{name}(Number alpha, Tensor other)\n"
                  f"Consider using one of the following signatures instead:\n\t{name}(Tensor other, *, "
                  f"Number alpha = 1)")
        return rest[0], other
    raise TypeError(f"{name}() takes 1 positional argument but {1 + len(rest)} were given (alpha is "
                    f"keyword-only: {name}(other, alpha=...))")


def _tensor_other(o, name):
    from tinygrad_seq.argument_types import require_tensor_argument
    require_tensor_argument(o, name, "other", 1)
    return o


class BitwiseKernelMissing(NotImplementedError, TypeError):
    """A bitwise op of float tensors (or a shift of bools): torch's NotImplementedError, and the
    TypeError this library raised before."""


class LogicOps:
    __slots__ = ()

    def _logical(self, name, o=None):
        B = _device.backend(self.device)
        a = B.ne(self.array, 0) if self.dtype != np.bool_ else self.array
        if o is None:
            return _wrap(B.logical_not(a), self.device)
        o = self._other(o)
        b = B.ne(o.array, 0) if o.dtype != np.bool_ else o.array
        try:
            return _wrap(getattr(B, name)(a, b), self.device)
        except ValueError:
            raise_if_mismatched(self, o)   # torch's RuntimeError for shapes that do not broadcast
            raise

    def logical_not(self): return self._logical("logical_not")
    # torch's logical_* take a Tensor only (t & True takes a number: _bitwise)
    def logical_and(self, other): return self._logical("logical_and", _tensor_other(other, "logical_and"))
    def logical_or(self, other): return self._logical("logical_or", _tensor_other(other, "logical_or"))
    def logical_xor(self, other): return self._logical("logical_xor", _tensor_other(other, "logical_xor"))

    def __invert__(self):
        """~: logical not of a bool tensor, bitwise not of an integer one (torch's)."""
        if self.dtype.kind in "iu":
            return _wrap(_device.backend(self.device).asarray(np.invert(self.numpy())), self.device)
        if self.dtype != np.bool_:
            # torch: ~ raises TypeError, bitwise_not NotImplementedError ("bitwise_not_cpu" not implemented)
            raise BitwiseKernelMissing(f"~ (operator.invert) / bitwise_not is only implemented on integer and "
                                       f"Boolean-type tensors, got {self.dtype}")
        return self.logical_not()

    def __and__(self, other): return self._bitwise("logical_and", other)   # (torch's parameter name)
    def __or__(self, other): return self._bitwise("logical_or", other)
    def __xor__(self, other): return self._bitwise("logical_xor", other)
    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__
    def __lshift__(self, other): return self._bitwise("left_shift", other)
    def __rshift__(self, other): return self._bitwise("right_shift", other)
    def __rlshift__(self, o): return self._other(o)._bitwise("left_shift", self)
    def __rrshift__(self, o): return self._other(o)._bitwise("right_shift", self)
    bitwise_and, bitwise_or, bitwise_xor = __and__, __or__, __xor__
    bitwise_left_shift, bitwise_right_shift = __lshift__, __rshift__

    # augmented assignment is in place (torch's __ior__ is or_): without these Python rebinds the
    # name to a new tensor and views / aliases of it keep the old values. The in-place methods
    # are attached to Tensor by tensor_fill_in.py.
    __iand__ = defer_unknown(lambda self, o: self.bitwise_and_(o))
    __ior__ = defer_unknown(lambda self, o: self.bitwise_or_(o))
    __ixor__ = defer_unknown(lambda self, o: self.bitwise_xor_(o))
    __ilshift__ = defer_unknown(lambda self, o: self.bitwise_left_shift_(o))
    __irshift__ = defer_unknown(lambda self, o: self.bitwise_right_shift_(o))
    # the operators (not their named forms) hand an unknown operand back to Python, as torch's
    __and__, __or__, __xor__ = defer_unknown(__and__), defer_unknown(__or__), defer_unknown(__xor__)
    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__
    __lshift__, __rshift__ = defer_unknown(__lshift__), defer_unknown(__rshift__)
    __rlshift__, __rrshift__ = defer_unknown(__rlshift__), defer_unknown(__rrshift__)

    _BITWISE = dict(logical_and=np.bitwise_and, logical_or=np.bitwise_or, logical_xor=np.bitwise_xor,
                    left_shift=np.left_shift, right_shift=np.right_shift)
    # torch's kernel names, as its NotImplementedError for a dtype without one names them
    _KERNEL = dict(logical_and="bitwise_and_cpu", logical_or="bitwise_or_cpu", logical_xor="bitwise_xor_cpu",
                   left_shift="lshift_cpu", right_shift="rshift_cpu")

    def _bitwise(self, name, o):
        """&, |, ^ of bool tensors (logical) or integer ones (bitwise, in the promoted integer
        dtype); << and >> of integers, as torch's."""
        if isinstance(o, (list, tuple)):   # as torch's: no sequence operand
            return NotImplemented
        o = self._other(o)
        if self.dtype == np.bool_ and o.dtype == np.bool_ and not name.endswith("shift"):
            return self._logical(name, o)
        from tinygrad_seq.tensor_math import _promote   # (tensor_math imports this module)
        a, b = (self, o) if self.dtype == o.dtype else _promote(self, o)
        if a.dtype.kind not in "iu":   # float: torch has no kernel (NotImplementedError); bool: none to shift
            from tinygrad_seq.tensor_matmul import scalar_name
            raise BitwiseKernelMissing(f'"{self._KERNEL[name]}" not implemented for \'{scalar_name(a.dtype)}\' '
                                       f'(bitwise ops take bool and integer tensors)')
        try:   # laid out as torch's (a transposed operand's order kept, elementwise_layout.py)
            out = elementwise(self._BITWISE[name], a.numpy(), b.numpy())
        except ValueError:
            raise_if_mismatched(a, b)
            raise
        return _wrap(_device.backend(self.device).asarray(out), self.device)
