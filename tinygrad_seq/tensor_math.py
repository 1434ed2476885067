"""Tensor arithmetic, comparisons and elementwise functions (the MathOps base class of Tensor),
with torch's dtype rules: an integer operand takes the float operand's dtype, `/` of integers
is true division (float32), `//` floors, `%` takes the divisor's sign (tensor_division.py);
comparisons and `==` give bool tensors elementwise. A Python int outside an integer tensor's
range wraps into its dtype (uint8 - 300), as torch's; a numpy array operand keeps its dtype."""
import numbers

import numpy as np

from tinygrad_seq import autograd, device as _device, dtypes, ops, ops_extra
from tinygrad_seq.argument_types import not_a_tensor
from tinygrad_seq.bool_arith import bool_alpha, bool_pow, refuse_bool, refuse_clamp_bool
from tinygrad_seq.broadcast_errors import raise_if_mismatched
from tinygrad_seq.dim_alias import required_dim
from tinygrad_seq.dim_range import wrap_dim
from tinygrad_seq.clamp_tensor_bounds import clamp_tensors
from tinygrad_seq.errors import DTypeMismatch, InvalidArgument, ShapeMismatch
from tinygrad_seq.grad_fn_names import named
from tinygrad_seq.half_opmath import HALF, half_times_number, half_times_scalar, opmath, times_alpha as _times_alpha
from tinygrad_seq.int_convert import float_scalar, int_scalar
from tinygrad_seq.int_math import exact_minimum, int_pow
from tinygrad_seq.operand_types import named_node as _named_node, named_result, unknown_operand as _unknown_operand
from tinygrad_seq.out_dtypes import c_type_name
from tinygrad_seq.softmax_empty import softmax_over_empty_dim
from tinygrad_seq.tensor_division import DivisionOps
from tinygrad_seq.tensor_logic import alpha_form, elementwise   # (elementwise_layout.py)
from tinygrad_seq.tensor_matmul import MatMulOps


def _wrap(arr, device):
    return autograd._Tensor._wrap(arr, device)


def _promote(a, b):
    """torch's rule where numpy's differs: an integer or bool operand takes the float
    operand's dtype (int64 + float32 -> float32, not float64); two floats give the wider, unless
    one is 0-d and the other is not (then the dimensioned one's)."""
    fa, fb = a.array.dtype.kind == "f", b.array.dtype.kind == "f"
    if fa and not fb:
        return a, b._cast_const(a.array.dtype)
    if fb and not fa:
        return a._cast_const(b.array.dtype), b
    ka, kb = _CATEGORY[a.array.dtype.kind], _CATEGORY[b.array.dtype.kind]
    if (a.array.ndim == 0) != (b.array.ndim == 0) and ka == kb:
        # a 0-d tensor does not widen a dimensioned one of its category (float32 x 0-d float64
        # -> float32, int32 + 0-d int64 -> int32), as in torch
        dt = (b if a.array.ndim == 0 else a).array.dtype
    else:
        dt = np.promote_types(a.array.dtype, b.array.dtype)
    return (a if a.dtype == dt else a.to(dtype=dt)), (b if b.dtype == dt else b.to(dtype=dt))


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


_BOOL = np.dtype(np.bool_)
_ARRAY_DTYPES = frozenset(map(np.dtype, (np.bool_, np.uint8, np.int8, np.int16, np.int32, np.int64, np.float16,
                                         np.float32, np.float64)))


class MathOps(DivisionOps, MatMulOps):
    __slots__ = ()

    def _cast_const(self, dtype):   # a non-differentiable (integer/bool) tensor as dtype, outside the graph
        if self.array.dtype == dtype:
            return self
        return _wrap(_device.backend(self.device).astype(self.array, dtype), self.device)

    def _other(self, x):
        """Turn a scalar/array operand into a Tensor on our device, checking devices."""
        if isinstance(x, MathOps):
            if x.device != self.device:
                raise RuntimeError(f"expected all tensors on one device, got {self.device.type} and {x.device.type}")
            return x
        if isinstance(x, (numbers.Number, np.generic)):
            # a Python/numpy scalar takes the tensor's dtype within its category, as in torch
            dt = self.array.dtype
            if dt.kind != "f":
                if isinstance(x, (float, np.floating)):
                    from tinygrad_seq.dtypes import get_default_dtype
                    dt = get_default_dtype()
                elif dt.kind == "b" and not isinstance(x, (bool, np.bool_)):
                    dt = np.int64
            try:
                arr = np.array(x, dtype=dt)
            except OverflowError:
                # an int beyond the tensor's range: arithmetic and comparisons wrap it into the
                # dtype (two's complement, u8 - 300 is u8 - 44), 0-d tensors too, as torch's;
                # where and ** check it first (int_scalar), as torch
                arr = np.array(x, dtype=np.int64)
                arr = arr.astype(dt) if dt.kind in "iu" else arr
        elif isinstance(x, np.ndarray) and x.dtype in _ARRAY_DTYPES:
            arr = x   # torch converts the array to a tensor of its own dtype (int8 stays int8), then promotes
        else:
            if x is None:
                raise TypeError("unsupported operand: None")
            arr = autograd._Tensor(x).array
        return _wrap(arr if self.device == "cpu" else _device.backend(self.device).asarray(arr), self.device)

    def _binary(self, fn, other, op, reverse=False):
        # fast paths: a tensor of the same dtype, or a Python number with a float tensor (the
        # common cases in model code)
        tx = type(other)
        if (tx is float or tx is int) and self.array.dtype.kind == "f" and self.device == "cpu":
            if self.array.dtype is HALF and (op == "mul" or op == "div"):
                return half_times_number(self, other, op, reverse)
            o = autograd._Tensor.__new__(autograd._Tensor)
            o.array, o._grad_value, o.requires_grad, o.device = np.array(other, self.array.dtype), None, False, self.device
            o._ctx, o._idx, o._ver, o._hooks = None, 0, 0, None
            a, b = (o, self) if reverse else (self, o)
        elif isinstance(other, MathOps) and other.array.dtype == self.array.dtype and op != "div":
            a, b = (other, self) if reverse else (self, other)
        else:
            if isinstance(other, (list, tuple)):   # torch's dunders take no sequence (x + x.max(1) raises)
                return NotImplemented
            if self.array.dtype == HALF and (op == "mul" or op == "div"):
                result = half_times_scalar(self, other, op, reverse)
                if result is not None:
                    return result
            if op == "sub" and (tx is bool or tx is np.bool_):   # a Python bool counts as a bool tensor
                raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
                                   "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
            # true division takes an int's value (u8 / -1 is -1.): no wrapping into the tensor's dtype
            try:
                o = self._other(float(other) if tx is int and op == "div" else other)
            except TypeError:
                return _unknown_operand(other)
            a, b = (o, self) if reverse else (self, o)
            ka, kb = a.array.dtype.kind, b.array.dtype.kind
            if op == "div" and ka != "f" and kb != "f":
                # true division of the values (no wrapping first), in the default dtype as torch's
                a, b = a._cast_const(dtypes.get_default_dtype()), b._cast_const(dtypes.get_default_dtype())
            elif op == "sub" and (ka == "b" or kb == "b"):
                raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
                                   "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
            elif op == "pow" and ka in "iub" and kb in "iub":
                if ka == "b" and kb == "b":
                    refuse_bool("pow", _BOOL)
                return int_pow(a, b)
            elif a.array.dtype != b.array.dtype:
                a, b = _promote(a, b)
        try:
            return fn.apply2(a, b)
        except ValueError:
            raise_if_mismatched(a, b)   # torch's RuntimeError; only looked at once numpy has refused
            raise
        except TypeError:
            if op == "sub" and a.array.dtype == np.bool_:   # numpy's refusal, in torch's words
                raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. Use the "
                                   "`^` or `logical_xor()` operator instead.") from None
            raise

    def __add__(self, o): return self._binary(ops.Add, o, "add")
    def __radd__(self, o): return self._binary(ops.Add, o, "add", True)
    def __sub__(self, o): return self._binary(ops.Sub, o, "sub")
    def __rsub__(self, o): return _named_node(self._binary(ops.Sub, o, "sub", True), "RsubBackward1")
    def __mul__(self, o): return self._binary(ops.Mul, o, "mul")
    def __rmul__(self, o): return self._binary(ops.Mul, o, "mul", True)
    def __truediv__(self, o): return self._binary(ops.Div, o, "div")
    def __rtruediv__(self, o):   # torch's reciprocal(x) * o: the input may be written after the call
        if (type(o) is float or type(o) is int) and self.array.dtype.kind == "f" and self.array.dtype is not HALF:
            return _named_node(ops_extra.ReciprocalTimes.apply(self, number=o), "MulBackward0")
        return _named_node(self._binary(ops.Div, o, "div", True), "MulBackward0")
    def __pow__(self, o):
        if self.array.dtype is _BOOL:
            result = bool_pow(self, o)   # bool ** True is bool; bool ** bool tensor has no kernel
            if result is not None:
                return result
        if self.dtype.kind in "iub" and isinstance(o, int) and not isinstance(o, bool):
            if o < 0:   # torch refuses a negative Python int exponent (a tensor of them it computes: int_pow)
                raise ShapeMismatch("Integers to negative integer powers are not allowed.")
            if self.dtype.kind != "b":
                int_scalar(o, self.dtype)   # uint8 ** 256 raises in torch, where u8 + 256 wraps (_other)
        if self.array.dtype.kind in "iu" and isinstance(o, MathOps) and o.array.dtype.kind in "iu":
            return int_pow(self, self._other(o))
        return self._binary(ops.Pow, o, "pow")
    def __rpow__(self, o): return _named_node(self._binary(ops.Pow, o, "pow", True), "PowBackward2")
    def __neg__(self):
        if self.array.dtype == np.bool_:
            raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
                               "invert a mask, use the `~` or `logical_not()` operator instead.")
        return ops.Neg.apply1(self)
    def __pos__(self): return self
    neg, negative = __neg__, __neg__

    # the named forms take torch's argument names (t.add(other=...), torch.matmul(input=, other=))
    def add(self, other, *rest, alpha=1):
        other, alpha = alpha_form("add", other, rest, alpha)
        self._check_alpha(other, alpha)
        if alpha.__class__ is bool or self.array.dtype is _BOOL or isinstance(alpha, np.bool_):
            other, alpha = bool_alpha(self, other, alpha)   # torch's Boolean alpha rule
        half, other = _times_alpha(self, other, alpha, "add") if alpha != 1 else (None, other)   # half_opmath.py
        return half if half is not None else named_result(self.__add__(other), "add", other)

    def sub(self, other, *rest, alpha=1):
        other, alpha = alpha_form("sub", other, rest, alpha)
        self._check_alpha(other, alpha)
        if alpha.__class__ is bool or isinstance(alpha, np.bool_):
            other, alpha = bool_alpha(self, other, alpha)
        half, other = _times_alpha(self, other, alpha, "sub") if alpha != 1 else (None, other)   # half_opmath.py
        return half if half is not None else named_result(self.__sub__(other), "sub", other)

    def _check_alpha(self, other, alpha):
        # any float alpha (1.0 too) with an integral result, as torch's
        if isinstance(alpha, float) and self.dtype.kind in "iub" and \
                getattr(other, "dtype", np.dtype(type(other))).kind in "iub":
            raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")

    subtract = sub

    def mul(self, other): return named_result(self.__mul__(other), "mul", other)
    multiply = mul

    def pow(self, exponent): return named_result(self.__pow__(exponent), "pow", exponent, "exponent")

    def maximum(self, other):
        if not isinstance(other, autograd._Tensor):   # torch has no Scalar form (clamp_min takes one)
            raise not_a_tensor("maximum", "other", 1, other)
        return self._binary(ops.Maximum, other, "maximum")

    def minimum(self, other):
        if not isinstance(other, autograd._Tensor):
            raise not_a_tensor("minimum", "other", 1, other)
        o = other
        if self.array.dtype.kind == "f" and o.array.dtype.kind == "f":   # differentiable, ties as maximum's
            return named(-((-self).maximum(-o)), "MinimumBackward0")
        a, b = _promote(self, o) if self.array.dtype != o.array.dtype else (self, o)
        if a.array.dtype.kind == "f":
            return named(-((-a).maximum(-b)), "MinimumBackward0")
        return exact_minimum(a, b)   # integers and bools: -x wraps (uint8, the dtype's minimum)

    # ------------------------------------------------------------ comparisons: bool tensors
    def _compare(self, name, o):
        if o is None:
            return False if name == "eq" else True
        if isinstance(o, (list, tuple)):   # as torch's: == is False, < raises (Python's fallbacks)
            return NotImplemented
        try:
            o = self._other(o)
        except TypeError:
            return _unknown_operand(o)
        a, b = self, o
        if a.dtype != b.dtype:
            a, b = _promote(a, b)
        try:
            return _wrap(elementwise(getattr(_device.backend(self.device), name), a.array, b.array, _BOOL), self.device)
        except ValueError:
            raise_if_mismatched(a, b)
            raise

    def __eq__(self, other): return self._compare("eq", other)
    def __ne__(self, other): return self._compare("ne", other)
    def __gt__(self, other): return self._compare("gt", other)
    def __ge__(self, other): return self._compare("ge", other)
    def __lt__(self, other): return self._compare("lt", other)
    def __le__(self, other): return self._compare("le", other)
    eq, ne, gt, ge, lt, le = __eq__, __ne__, __gt__, __ge__, __lt__, __le__
    greater, less, greater_equal, less_equal, not_equal = gt, lt, ge, le, ne

    def equal(self, other):   # the same shape and elements (torch.equal)
        return self.shape == other.shape and bool(self.numpy().__eq__(other.numpy()).all())

    def allclose(self, other, rtol=1e-5, atol=1e-8, equal_nan=False):
        from tinygrad_seq.functions import allclose
        return allclose(self, self._other(other), rtol, atol, equal_nan)

    def isnan(self): return _wrap(_device.backend(self.device).ne(self.array, self.array), self.device)
    def isinf(self): return self.abs() == float("inf") if self.array.dtype is not _BOOL else self != self
    def isfinite(self): return (self.isnan() | self.isinf()).logical_not()

    # ------------------------------------------------------------ elementwise functions
    # integer input to a float function becomes float32 first, as in torch
    def exp(self): return ops.Exp.apply1(self if self.array.dtype.kind == "f" else self._floating())
    def log(self): return ops.Log.apply1(self if self.array.dtype.kind == "f" else self._floating())
    def tanh(self): return ops.Tanh.apply1(self if self.array.dtype.kind == "f" else self._floating())
    def sigmoid(self): return ops.Sigmoid.apply1(self if self.array.dtype.kind == "f" else self._floating())
    def relu(self):
        if self.array.dtype is _BOOL:   # one identity test (numpy's dtypes are singletons)
            raise InvalidArgument("Boolean inputs not supported for relu")   # torch's RuntimeError
        return ops.Relu.apply1(self)
    def abs(self):
        if self.array.dtype is _BOOL:   # torch has no bool kernel
            raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
        return ops.Abs.apply1(self)
    def sqrt(self): return ops.Sqrt.apply1(self if self.array.dtype.kind == "f" else self._floating())
    def sin(self): return ops_extra.Sin.apply1(self._floating())
    def cos(self): return ops_extra.Cos.apply1(self._floating())
    def log1p(self): return ops_extra.Log1p.apply1(self._floating())
    def expm1(self): return ops_extra.Expm1.apply1(self._floating())
    def floor(self): return self._rounding("floor")
    def ceil(self): return self._rounding("ceil")
    def round(self, decimals=None):
        """Half to even; decimals=d rounds x * 10^d (x / 10^-d for d < 0); integer tensors pass
        unchanged without decimals (torch's decimals= overload, even 0, has no integer kernel)."""
        if decimals is None:
            return self._rounding("rint")
        if self.dtype.kind != "f":
            from tinygrad_seq.tensor_matmul import scalar_name
            raise NotImplementedError(f"\"round_{'vml_' if decimals == 0 else ''}cpu\" not implemented for "
                                      f"'{scalar_name(self.dtype)}'")
        if decimals == 0:
            return named(self._rounding("rint"), "RoundBackward1")
        if self.array.dtype is HALF:   # scaled in float32, as torch's (half_opmath.py)
            return opmath(self, lambda u: u.round(decimals=decimals), "RoundBackward1")
        if decimals > 0:
            return named((self * 10.0 ** decimals)._rounding("rint") / 10.0 ** decimals, "RoundBackward1")
        return named((self / 10.0 ** -decimals)._rounding("rint") * 10.0 ** -decimals, "RoundBackward1")
    def trunc(self): return self._rounding("trunc")
    def sign(self): return self._rounding("sign") if self.array.dtype != np.bool_ else self.clone()
    def reciprocal(self): return ops_extra.Reciprocal.apply1(self._floating())   # saves its result, as torch's
    def rsqrt(self): return opmath(self, lambda u: u.sqrt().reciprocal(), "RsqrtBackward0")   # float16 as times_alpha
    def square(self): return named(self * self, "PowBackward0") if self.dtype != np.bool_ else self.long().square()
    def log2(self): return named(self.log() * (1.0 / np.log(2.0)), "Log2Backward0")
    def log10(self): return named(self.log() * (1.0 / np.log(10.0)), "Log10Backward0")
    __abs__ = absolute = abs

    def _floating(self):
        """Integer input to a float function becomes the default dtype first (float32 unless
        set_default_dtype changed it), as in torch."""
        return self if self.array.dtype.kind == "f" else self._cast_const(dtypes.get_default_dtype())

    def _rounding(self, name):
        """floor/ceil/round/trunc/sign: integer tensors give a copy (torch's clone), float ones get
        a zero gradient (torch's). A bool tensor has no kernel but sign's, as torch."""
        if self.array.dtype is _BOOL and name != "sign":
            raise NotImplementedError(f"\"{'round' if name == 'rint' else name}_vml_cpu\" not implemented for 'Bool'")
        if self.dtype.kind != "f":
            return self.clone() if name != "sign" else _wrap(_device.backend(self.device).sign(self.array), self.device)
        return ops_extra.Rounding.apply(self, fn=name)

    def clamp(self, min=None, max=None):
        if isinstance(min, MathOps) or isinstance(max, MathOps):
            return named(clamp_tensors(self, min, max), "ClampBackward0")
        if min is None and max is None:
            raise InvalidArgument("torch.clamp: At least one of 'min' or 'max' must not be None")
        # a numpy scalar bound is a number, as torch reads it: a float64 one must not widen float32
        min, max = (v.item() if isinstance(v, np.generic) else v for v in (min, max))
        if isinstance(min, complex) or isinstance(max, complex):
            raise RuntimeError(f"clamp: complex bound {min if isinstance(min, complex) else max}: no complex dtypes here")
        x = self
        refuse_clamp_bool(x, min, max)
        if x.dtype.kind != "f":
            if any(isinstance(v, (float, np.floating)) for v in (min, max)):
                from tinygrad_seq.dtypes import get_default_dtype
                x = x._cast_const(get_default_dtype())   # an integer tensor clamped to a float bound
            elif x.dtype.kind in "iu":   # int bounds convert as torch's: uint8 min=-1 is 255, max=300 raises
                min, max = (int_scalar(v, x.dtype) if type(v) is int else v for v in (min, max))
        return ops.Clamp.apply(x, lo=min, hi=max)

    clip = clamp

    def clamp_min(self, min):
        return named(self.clamp(min=min), "ClampMinBackward1" if isinstance(min, MathOps) else "ClampMinBackward0")

    def clamp_max(self, max):
        return named(self.clamp(max=max), "ClampMaxBackward1" if isinstance(max, MathOps) else "ClampMaxBackward0")

    def short(self, *, memory_format=None): return self.to(dtype=np.int16)
    def char(self, *, memory_format=None): return self.to(dtype=np.int8)

    def outer(self, vec2):
        vec2 = self._other(vec2)
        for arg, t in (("self", self), ("vec2", vec2)):
            if t.ndim != 1:   # torch's: no flattening of a matrix or a scalar
                raise ShapeMismatch(f"outer: Expected 1-D argument {arg}, but got {t.ndim}-D")
        return self.reshape(-1, 1) * vec2.reshape(1, -1)

    ger = outer

    def diagonal(self, offset=0, dim1=0, dim2=1):
        from tinygrad_seq.functions import diagonal
        return diagonal(self, offset, dim1, dim2)

    def diag(self, diagonal=0):
        from tinygrad_seq.functions import diag
        return diag(self, diagonal)

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        from tinygrad_seq.functions import nan_to_num
        return nan_to_num(self, nan, posinf, neginf)

    def masked_fill(self, mask, value):
        mask_shape = tuple(mask.shape) if hasattr(mask, "shape") else np.shape(mask)
        try:
            shape = self.shape if mask_shape == self.shape else np.broadcast_shapes(mask_shape, self.shape)
        except ValueError:
            shape = self.shape   # _mask_array names both shapes
        if shape != self.shape:   # torch's out-of-place form broadcasts self against the mask
            return self.expand(shape).masked_fill(mask, value)
        if isinstance(value, MathOps):
            if value.ndim != 0:
                raise ShapeMismatch(f"masked_fill: value must be a number or a 0-d tensor, got shape {value.shape}")
            if value.requires_grad:
                return ops.Where.apply(value.expand(self.shape).to(dtype=self.dtype), self,
                                       cond=self._mask_array(mask, "masked_fill"))
            value = value.item()
        if type(value) is int and self.array.dtype.kind in "iu":
            value = int_scalar(value, self.array.dtype)   # uint8 with -1: 255 (300 raises), as torch's
        elif self.array.dtype.kind in "iu" and isinstance(value, float) and not np.isfinite(value):   # torch's
            raise InvalidArgument(f"value cannot be converted to type {self.array.dtype}_t without overflow")
        elif self.array.dtype.kind == "f":
            value = float_scalar(value, self.array.dtype)   # -1e9 on float16 raises, as torch's
        return ops.MaskedFill.apply(self, mask=self._mask_array(mask, "masked_fill"), value=value)

    def _mask_array(self, mask, name):
        m = mask.array if isinstance(mask, MathOps) else _device.backend(self.device).asarray(np.asarray(mask))
        if m.dtype != np.bool_:
            raise DTypeMismatch(f"{name}_ only supports boolean masks, but got mask with dtype {c_type_name(m.dtype)}")
        try:
            if m.shape != self.shape and np.broadcast_shapes(m.shape, self.shape) != self.shape:
                raise ValueError
        except ValueError:
            raise ShapeMismatch(f"{name}: mask of shape {tuple(m.shape)} does not broadcast to {self.shape}") from None
        return m

    def where(self, condition, other):
        """x.where(cond, y): x where cond is true, else y (torch.where(cond, x, y))."""
        from tinygrad_seq.functions import where
        return where(condition, self, other)

    def softmax(self, dim=None, dtype=None, *, axis=None):
        if axis is not None or dim is None:   # dim= or numpy's axis=
            dim = required_dim(dim, axis, "softmax")
        if self.ndim == 0:   # torch's: dim 0 or -1 of a scalar, as a 1-element vector
            return named(self.reshape(1).softmax(wrap_dim(dim, 0), dtype).reshape(()), "SoftmaxBackward0")
        x = self if dtype is None else self.to(dtype=dtype)
        if x.array.dtype.kind != "f":   # torch has no integer softmax kernel
            raise NotImplementedError(f"softmax: not implemented for {x.array.dtype}: call .float() first or pass dtype=")
        dim = ops._norm_axes(dim, self.ndim)[0]
        if self.ndim and x.array.shape[dim] == 0:   # torch: the empty result
            return softmax_over_empty_dim(x, dim)
        return ops_extra.Softmax.apply(x._floating(), dim=dim)

    def log_softmax(self, dim=None, dtype=None, *, axis=None):
        if axis is not None or dim is None:   # dim= or numpy's axis=
            dim = required_dim(dim, axis, "log_softmax")
        if self.ndim == 0:   # torch's: dim 0 or -1 of a scalar, as a 1-element vector
            return named(self.reshape(1).log_softmax(wrap_dim(dim, 0), dtype).reshape(()), "LogSoftmaxBackward0")
        x = self if dtype is None else self.to(dtype=dtype)
        if x.array.dtype.kind != "f":   # as softmax: torch has no integer kernel
            raise NotImplementedError(f"log_softmax: not implemented for {x.array.dtype}: call .float() first "
                                      f"or pass dtype=")
        dim = ops._norm_axes(dim, self.ndim)[0]
        if self.ndim and x.array.shape[dim] == 0:
            return softmax_over_empty_dim(x, dim, log=True)
        return ops_extra.LogSoftmax.apply(x._floating(), dim=dim)

    def lerp(self, end, weight):
        from tinygrad_seq.lerp_node import lerp   # torch's two-branch value
        return lerp(self, end, weight)
