"""Tensor: an array on a device plus the autograd bookkeeping (grad, requires_grad, _ctx)."""
from __future__ import annotations

import collections
import numbers

import numpy as np

from tinygrad_seq import autograd, device as _device
from tinygrad_seq import ops
from tinygrad_seq.indexing import normalize_index
from tinygrad_seq.inplace import InPlaceOps

_FLOAT = (np.float32, np.float64)
MaxResult = collections.namedtuple("MaxResult", ["values", "indices"])


def _to_array(data, dtype):
    """Host array from user data, applying the dtype rules of API.md."""
    if dtype is not None:
        return np.asarray(data, dtype=np.dtype(dtype))
    if isinstance(data, np.ndarray):
        arr = data
    elif isinstance(data, (bool, np.bool_)):
        arr = np.asarray(data)
    elif isinstance(data, numbers.Integral):
        return np.asarray(data, np.int64)
    elif isinstance(data, numbers.Real):
        return np.asarray(data, np.float32)
    else:
        arr = np.asarray(data)
        if arr.dtype == np.float64 and not isinstance(data, np.generic):
            return arr.astype(np.float32)  # Python floats and lists become float32
    kind = arr.dtype.kind
    if kind == "f":
        return arr if arr.dtype in _FLOAT else arr.astype(np.float32)
    if kind in "iu":
        return arr.astype(np.int64, copy=False)
    if kind == "b":
        return arr
    raise TypeError(f"Tensor: unsupported data type {arr.dtype}")


class Tensor(InPlaceOps):
    __slots__ = ("array", "grad", "requires_grad", "device", "_ctx", "_idx", "_ver", "_hooks",
                 "__weakref__")
    __array_priority__ = 1000  # numpy scalars/arrays on the left defer to our operators

    def __init__(self, data, requires_grad=False, dtype=None, device="cpu"):
        dev = _device.canonical(device)
        if isinstance(data, Tensor):
            data = data.numpy()
        elif not isinstance(data, np.ndarray) and _device.device_of_array(data) == "cuda":
            data = data.copy_to_host()
        arr = _to_array(data, dtype)
        if requires_grad and arr.dtype.kind != "f":
            raise RuntimeError(f"only floating point tensors can require gradients, got {arr.dtype}")
        self.array = arr if dev == "cpu" else _device.backend(dev).asarray(arr)
        self.device, self.grad, self.requires_grad = dev, None, bool(requires_grad)
        self._ctx, self._idx, self._ver, self._hooks = None, 0, 0, None

    @classmethod
    def _wrap(cls, arr, device="cpu", requires_grad=False):
        t = cls.__new__(cls)
        t.array, t.device, t.grad, t.requires_grad = arr, device, None, requires_grad
        t._ctx, t._idx, t._ver, t._hooks = None, 0, 0, None
        return t

    @property
    def _version(self):
        """Count of in-place writes to this tensor; raising it records the write for autograd."""
        return self._ver

    @_version.setter
    def _version(self, value):
        if value > self._ver:
            autograd.note_inplace(self.array)
        self._ver = value

    # ------------------------------------------------------------ attributes
    # .array is the raw backend array (numpy on "cpu", a numba device array on "cuda"), no copy:
    # the engine, optimizers and kernels read it. .data is PyTorch's: a detached Tensor over the
    # same storage; assigning a Tensor to it swaps the storage.
    @property
    def data(self):
        return Tensor._wrap(self.array, self.device)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"Tensor.data must be set to a Tensor, got {type(value).__name__}; "
                            f"wrap arrays with ts.tensor(...)")
        self.array, self.device = value.array, value.device

    shape = property(lambda self: tuple(self.array.shape))
    dtype = property(lambda self: self.array.dtype)
    ndim = property(lambda self: self.array.ndim)
    is_leaf = property(lambda self: self._ctx is None)
    grad_fn = property(lambda self: self._ctx)
    T = property(lambda self: self.transpose(0, 1) if self.ndim == 2 else self.permute(*range(self.ndim)[::-1]))

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def numel(self):
        return int(self.array.size)

    def dim(self):
        return self.ndim

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self):
        extra = f", device='{self.device}'" if self.device != "cpu" else ""
        if self._ctx is not None:
            extra += f", grad_fn=<{type(self._ctx).__name__}Backward>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        body = np.array2string(self.numpy(), separator=", ", precision=4, threshold=60)
        return f"tensor({body}{extra}, dtype={self.dtype})"

    def __hash__(self):
        return id(self)

    def __bool__(self):
        if self.array.size != 1:
            raise RuntimeError("the truth value of a tensor with more than one element is ambiguous")
        return bool(self.item())

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    # ------------------------------------------------------------ conversion and devices
    def numpy(self) -> np.ndarray:
        return self.array if self.device == "cpu" else _device.backend(self.device).to_host(self.array)

    def item(self):
        if self.array.size != 1:
            raise ValueError(f"item(): a tensor with {self.array.size} elements cannot be converted to a scalar")
        return self.numpy().reshape(()).item()

    def tolist(self):
        return self.numpy().tolist()

    def detach(self) -> "Tensor":
        return Tensor._wrap(self.array, self.device)

    def detach_(self) -> "Tensor":
        self._ctx, self.requires_grad = None, False
        return self

    def requires_grad_(self, requires_grad=True) -> "Tensor":
        if requires_grad and self.dtype.kind != "f":
            raise RuntimeError(f"only floating point tensors can require gradients, got {self.dtype}")
        if not requires_grad and self._ctx is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables")
        self.requires_grad = requires_grad
        return self

    def to(self, device=None, dtype=None) -> "Tensor":
        if isinstance(device, (type, np.dtype)):
            device, dtype = None, device
        out = self
        if dtype is not None and np.dtype(dtype) != self.dtype:
            out = ops.Cast.apply(out, dtype=np.dtype(dtype))
        if device is not None:
            dev = _device.canonical(device)
            if dev != out.device:
                out = ToDevice.apply(out, device=dev)
        return out

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    def float(self):
        return self.to(dtype=np.float32)

    def double(self):
        return self.to(dtype=np.float64)

    def long(self):
        return Tensor._wrap(_device.backend(self.device).astype(self.array, np.int64), self.device)

    def bool(self):
        return Tensor._wrap(_device.backend(self.device).astype(self.array, np.bool_), self.device)

    def type_as(self, other):
        return self.to(dtype=other.dtype)

    def contiguous(self):
        return self

    def clone(self):
        return self * 1 if self.requires_grad else Tensor._wrap(_device.backend(self.device).copy(self.array), self.device)

    # ------------------------------------------------------------ autograd
    def backward(self, gradient=None, retain_graph=False):
        autograd.backward(self, gradient, retain_graph)

    def retain_grad(self):
        """Keep .grad for this non-leaf tensor after backward (PyTorch's retain_grad)."""
        if self._ctx is not None:
            if self._ctx._retained is None:
                self._ctx._retained = {}
            self._ctx._retained[self._idx] = self

    def register_post_accumulate_grad_hook(self, hook):
        """hook(tensor) runs after this leaf's .grad got its final value in a backward()."""
        if self._ctx is not None:
            raise RuntimeError("post accumulate grad hooks can only be registered on leaf tensors")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        return _HookHandle(self._hooks, hook)

    # ------------------------------------------------------------ arithmetic
    def _cast_const(self, dtype):
        """A non-differentiable (integer/bool) tensor converted to dtype, outside the graph."""
        if self.array.dtype == dtype:
            return self
        return Tensor._wrap(_device.backend(self.device).astype(self.array, dtype), self.device)

    def _other(self, x):
        """Turn a scalar/array operand into a Tensor on our device, checking devices."""
        tx = type(x)
        if tx is Tensor or isinstance(x, Tensor):
            if x.device != self.device:
                raise RuntimeError(f"expected all tensors on one device, got {self.device} and {x.device}")
            return x
        if tx is float or tx is int or isinstance(x, (numbers.Number, np.generic)):
            # a Python/numpy scalar takes the tensor's dtype within its category, as in torch
            dt = self.array.dtype
            if dt.kind != "f":
                if isinstance(x, (float, np.floating)):
                    dt = np.float32
                elif dt.kind == "b" and not isinstance(x, (bool, np.bool_)):
                    dt = np.int64
            arr = np.array(x, dtype=dt)
        else:
            arr = _to_array(x, None)
        return Tensor._wrap(arr if self.device == "cpu" else _device.backend(self.device).asarray(arr), self.device)

    def _binary(self, fn, other, op, reverse=False):
        o = self._other(other)
        a, b = (o, self) if reverse else (self, o)
        if a.array.dtype != b.array.dtype:
            a, b = _promote(a, b)
        if op == "div" and a.array.dtype.kind != "f":
            a, b = a._cast_const(np.float32), b._cast_const(np.float32)  # true division, as torch
        try:
            return fn.apply(a, b)
        except ValueError:
            try:
                np.broadcast_shapes(a.shape, b.shape)
            except ValueError:
                raise ValueError(f"{op}: shapes {a.shape} and {b.shape} cannot be broadcast together") from None
            raise

    def __add__(self, o): return self._binary(ops.Add, o, "add")
    def __radd__(self, o): return self._binary(ops.Add, o, "add", True)
    def __sub__(self, o): return self._binary(ops.Sub, o, "sub")
    def __rsub__(self, o): return self._binary(ops.Sub, o, "sub", True)
    def __mul__(self, o): return self._binary(ops.Mul, o, "mul")
    def __rmul__(self, o): return self._binary(ops.Mul, o, "mul", True)
    def __truediv__(self, o): return self._binary(ops.Div, o, "div")
    def __rtruediv__(self, o): return self._binary(ops.Div, o, "div", True)
    def __pow__(self, o): return self._binary(ops.Pow, o, "pow")
    def __rpow__(self, o): return self._binary(ops.Pow, o, "pow", True)
    def __neg__(self): return ops.Neg.apply(self)
    def __pos__(self): return self
    add, sub, mul, div, pow = __add__, __sub__, __mul__, __truediv__, __pow__

    def __matmul__(self, o):
        o = self._other(o)
        if self.array.dtype != o.array.dtype:
            a, o = _promote(self, o)
            if a is not self:
                return a.__matmul__(o)
        try:
            return ops.MatMul.apply(self, o)
        except ValueError:
            self._matmul_error(o)
            raise

    def _matmul_error(self, o):
        """Raise the matmul shape error that names both shapes (after numpy refused)."""
        if self.ndim == 0 or o.ndim == 0:
            raise ValueError(f"matmul: both arguments need at least 1 dimension, got shapes {self.shape} and {o.shape}")
        k1 = self.shape[-1]
        k2 = o.shape[-2] if o.ndim > 1 else o.shape[0]
        if k1 != k2:
            raise ValueError(f"matmul: shapes {self.shape} and {o.shape} are not aligned ({k1} != {k2})")
        if self.ndim > 2 or o.ndim > 2:
            try:
                np.broadcast_shapes(self.shape[:-2], o.shape[:-2])
            except ValueError:
                raise ValueError(f"matmul: batch dimensions of {self.shape} and {o.shape} cannot be broadcast") from None

    def __rmatmul__(self, o):
        return self._other(o).__matmul__(self)

    matmul = __matmul__

    def maximum(self, o): return self._binary(ops.Maximum, o, "maximum")
    def minimum(self, o): return -((-self).maximum(-self._other(o)))

    # comparisons give bool tensors outside the graph
    def _compare(self, fn, o):
        o = self._other(o)
        return Tensor._wrap(fn(_device.backend(self.device))(self.array, o.array), self.device)

    def __gt__(self, o): return self._compare(lambda B: B.gt, o)
    def __ge__(self, o): return self._compare(lambda B: B.ge, o)
    def __lt__(self, o): return self._compare(lambda B: B.lt, o)
    def __le__(self, o): return self._compare(lambda B: B.le, o)
    def eq(self, o): return self._compare(lambda B: B.eq, o)
    def ne(self, o): return self._compare(lambda B: B.ne, o)
    def __invert__(self): return Tensor._wrap(_device.backend(self.device).logical_not(self.array), self.device)

    # ------------------------------------------------------------ unary
    def exp(self): return ops.Exp.apply(self)
    def log(self): return ops.Log.apply(self)
    def tanh(self): return ops.Tanh.apply(self)
    def sigmoid(self): return ops.Sigmoid.apply(self)
    def relu(self): return ops.Relu.apply(self)
    def abs(self): return ops.Abs.apply(self)
    def sqrt(self): return ops.Sqrt.apply(self)
    def neg(self): return ops.Neg.apply(self)
    __abs__ = abs

    def clamp(self, min=None, max=None):
        return ops.Clamp.apply(self, lo=min, hi=max)

    clip = clamp

    def masked_fill(self, mask, value):
        m = mask.array if isinstance(mask, Tensor) else _device.backend(self.device).asarray(np.asarray(mask))
        if m.dtype != np.bool_:
            raise TypeError(f"masked_fill: mask must be bool, got {m.dtype}")
        try:
            if np.broadcast_shapes(m.shape, self.shape) != self.shape:
                raise ValueError
        except ValueError:
            raise ValueError(f"masked_fill: mask of shape {tuple(m.shape)} does not broadcast to {self.shape}") from None
        return ops.MaskedFill.apply(self, mask=m, value=float(value))

    # ------------------------------------------------------------ reductions
    def sum(self, dim=None, keepdim=False):
        return ops.Sum.apply(self, axis=dim, keepdim=keepdim)

    def mean(self, dim=None, keepdim=False):
        axes = ops._norm_axes(dim, self.ndim)
        n = 1
        for a in axes:
            n *= self.shape[a]
        return self.sum(dim, keepdim) / n

    def max(self, dim=None, keepdim=False):
        """max() -> the largest value; max(dim) -> (values, indices), as torch.max does."""
        if dim is None:
            return ops.Max.apply(self)
        if isinstance(dim, Tensor):
            return self.maximum(dim)
        d = ops._norm_axes(dim, self.ndim)[0]
        B = _device.backend(self.device)
        idx = B.argmax(self.array, axis=d)
        values = ops.MaxAlong.apply(self, dim=d, keepdim=keepdim, index=idx)
        if keepdim:
            idx = B.reshape(idx, self.shape[:d] + (1,) + self.shape[d + 1:])
        return MaxResult(values, Tensor._wrap(idx, self.device))

    def amax(self, dim=None, keepdim=False):
        return ops.Max.apply(self, axis=dim, keepdim=keepdim)

    def min(self, dim=None, keepdim=False):
        if dim is None:
            return -((-self).max())
        v, i = (-self).max(dim, keepdim)
        return MaxResult(-v, i)

    def argmax(self, dim=None, keepdim=False):
        B = _device.backend(self.device)
        if dim is None:
            return Tensor._wrap(B.argmax(B.reshape(self.array, (-1,))), self.device)
        d = ops._norm_axes(dim, self.ndim)[0]
        idx = B.argmax(self.array, axis=d)
        if keepdim:
            idx = B.reshape(idx, self.shape[:d] + (1,) + self.shape[d + 1:])
        return Tensor._wrap(idx, self.device)

    def var(self, dim=None, keepdim=False, unbiased=True):
        mu = self.mean(dim, keepdim=True)
        n = self.numel() // max(mu.numel(), 1)
        return ((self - mu) ** 2).sum(dim, keepdim) / (n - 1 if unbiased else n)

    # ------------------------------------------------------------ shape
    def reshape(self, *shape):
        shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        size = self.numel()
        known = 1
        for s in shape:
            if s != -1:
                known *= s
        if shape.count(-1) > 1 or (-1 in shape and (known == 0 or size % known)) or (-1 not in shape and known != size):
            raise ValueError(f"reshape: cannot reshape a tensor of shape {self.shape} ({size} elements) into {shape}")
        return ops.Reshape.apply(self, shape=shape)

    view = reshape

    def flatten(self, start_dim=0, end_dim=-1):
        end = end_dim % max(self.ndim, 1)
        n = 1
        for s in self.shape[start_dim:end + 1]:
            n *= s
        return self.reshape(self.shape[:start_dim] + (n,) + self.shape[end + 1:])

    def permute(self, *order):
        order = tuple(order[0]) if len(order) == 1 and isinstance(order[0], (tuple, list)) else order
        if sorted(o % max(self.ndim, 1) for o in order) != list(range(self.ndim)):
            raise ValueError(f"permute: {order} is not a permutation of the {self.ndim} dims of {self.shape}")
        return ops.Permute.apply(self, order=tuple(o % self.ndim for o in order))

    def transpose(self, dim0, dim1):
        order = list(range(self.ndim))
        d0, d1 = ops._norm_axes(dim0, self.ndim)[0], ops._norm_axes(dim1, self.ndim)[0]
        order[d0], order[d1] = order[d1], order[d0]
        return ops.Permute.apply(self, order=tuple(order))

    def unsqueeze(self, dim):
        d = dim if dim >= 0 else dim + self.ndim + 1
        if not 0 <= d <= self.ndim:
            raise IndexError(f"unsqueeze: dimension {dim} out of range for a tensor of {self.ndim} dimensions")
        return self.reshape(self.shape[:d] + (1,) + self.shape[d:])

    def squeeze(self, dim=None):
        if dim is None:
            return self.reshape(tuple(s for s in self.shape if s != 1))
        d = ops._norm_axes(dim, self.ndim)[0] if self.ndim else 0
        if self.ndim == 0 or self.shape[d] != 1:
            return self
        return self.reshape(self.shape[:d] + self.shape[d + 1:])

    def expand(self, *shape):
        shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        lead = len(shape) - self.ndim
        shape = tuple(self.shape[i - lead] if s == -1 else s for i, s in enumerate(shape))
        try:
            np.broadcast_shapes(self.shape, shape)
        except ValueError:
            raise ValueError(f"expand: shape {self.shape} cannot be expanded to {shape}") from None
        return ops.Expand.apply(self, shape=shape)

    def flip(self, dim):
        idx = [slice(None)] * self.ndim
        idx[dim] = slice(None, None, -1)
        return self[tuple(idx)]

    def split(self, size, dim=0):
        n = self.shape[dim]
        pre = (slice(None),) * (dim % self.ndim)
        return tuple(self[pre + (slice(i, min(i + size, n)),)] for i in range(0, n, size))

    def chunk(self, chunks, dim=0):
        n = self.shape[dim]
        return self.split(-(-n // chunks), dim)

    def __getitem__(self, idx):
        idx, advanced = normalize_index(idx, self)
        return ops.GetItem.apply(self, idx=idx, advanced=advanced)

autograd._Tensor = Tensor


def _promote(a, b):
    """torch's rule where numpy's differs: an integer or bool operand takes the float
    operand's dtype (int64 + float32 -> float32, not float64)."""
    fa, fb = a.array.dtype.kind == "f", b.array.dtype.kind == "f"
    if fa and not fb:
        return a, b._cast_const(a.array.dtype)
    if fb and not fa:
        return a._cast_const(b.array.dtype), b
    return a, b


class _HookHandle:
    def __init__(self, hooks, hook):
        self.hooks, self.hook = hooks, hook

    def remove(self):
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)


class ToDevice(autograd.Function):
    """Copy between devices; differentiable (the gradient goes back to the source device)."""
    @staticmethod
    def forward(ctx, a, device=None):
        ctx.src = ctx.device
        host = ctx.b.to_host(a)
        return _device.backend(device).asarray(host)

    @staticmethod
    def backward(ctx, g):
        return ctx.b.asarray(_device.backend_of(g).to_host(g))

    @classmethod
    def apply(cls, t, device=None):
        out = super().apply(t, device=device)
        out.device = device
        return out
