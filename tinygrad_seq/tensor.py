"""Tensor: an array on a device plus the autograd bookkeeping (grad, requires_grad, _ctx).

The methods live in mixins with one job each: inplace.py (in-place writes and item assignment),
tensor_math.py (arithmetic, comparisons, elementwise functions), tensor_reduce.py (reductions,
sorting), tensor_shape.py (views, joins, gathers), tensor_autograd.py (backward, hooks, detach,
_version / _base / _grad); this file keeps construction, conversion and the attributes.
"""
from __future__ import annotations

import copy
import sys

import warnings

import numpy as np

from tinygrad_seq import autograd, device as _device, dtypes, ops, ops_extra, writes
from tinygrad_seq.dim_alias import dim_from_axis
from tinygrad_seq.errors import ShapeMismatch
from tinygrad_seq.grad_checks import checked_grad_setter
from tinygrad_seq.grad_fn_names import grad_fn_of, named
from tinygrad_seq.grad_mode import _state
from tinygrad_seq.host_data import to_array
from tinygrad_seq.inplace import InPlaceOps
from tinygrad_seq.memory_formats import clone_array, is_contiguous_as
from tinygrad_seq import tensor_pickle as _pickle
from tinygrad_seq.size import Size  # noqa: F401  (t.size(); ts.Size)
from tinygrad_seq.tensor_logic import LogicOps
from tinygrad_seq.tensor_autograd import AutogradAttrs, _HookHandle, warn_scalar_of_grad_tensor  # noqa: F401
from tinygrad_seq.tensor_math import MathOps
from tinygrad_seq.tensor_reduce import MaxResult, ReduceOps  # noqa: F401  MaxResult re-exported
from tinygrad_seq.tensor_repr import format_tensor
from tinygrad_seq.tensor_shape import ShapeOps
from tinygrad_seq.tensor_pieces import PieceOps

_NO_DATA = object()   # Tensor() without data


def _from_user():
    """True when Tensor.__init__ was called from outside this package (Tensor(data) itself, not a
    subclass's __init__ in the package such as nn.Parameter's)."""
    caller = sys._getframe(2).f_globals.get("__name__", "")
    return not caller.startswith("tinygrad_seq.")


class Tensor(AutogradAttrs, InPlaceOps, MathOps, LogicOps, ReduceOps, ShapeOps, PieceOps):
    # __dict__: attributes of the user's own (learn2learn's `p.update = ...`), as torch's tensors
    # take them; made on the first such assignment, so other tensors never pay for it
    __slots__ = ("array", "_grad_value", "requires_grad", "device", "_ctx", "_idx", "_ver", "_hooks",
                 "__weakref__", "__dict__")
    # (base tensor, kind, arg) on a view (tensor_shape.view_fns), kept in the view's __dict__: a
    # class default, not a slot, so that the many reads on tensors that are no view (every
    # in-place write asks) find None without an unset slot's AttributeError and __getattr__ call
    _view = None
    # set only where used, kept in __dict__ like _view (class defaults: every in-place write reads
    # them, and an unset slot's read cost an AttributeError through __getattr__, ~1.4 us each):
    # _hist, earlier graph nodes of a tensor rebased by in-place ops (write_history.History);
    # _untracked, .data's writes are not recorded; _inference, made under inference_mode()
    _hist = None
    _shape_history = None   # (clock, the tensor before) per in-place reshape in the graph (inplace_reshape.py)
    _untracked = False
    _inference = False
    _is_buffer = False   # nn.Buffer's mark (nn/buffer.py): read on every Module attribute assignment
    _torch_layout = None   # the host array whose strides are torch's (a *_like's): view() applies torch's rule
    __array_priority__ = 1000  # numpy scalars/arrays on the left defer to our operators

    def __init__(self, data=_NO_DATA, requires_grad=False, dtype=None, device="cpu", *more_sizes):
        if data is _NO_DATA:   # torch.Tensor(): an empty tensor of the default dtype
            data = np.zeros((0,), dtypes.get_default_dtype())
        if type(data) is int and type(requires_grad) is int:
            # torch.Tensor(2, 3): a size, torch's legacy form (2 ints or more: one int stays data, API.md)
            sizes = (data, requires_grad) + tuple(v for v in (dtype, device) if type(v) is int) + more_sizes
            if not all(type(v) is int and v >= 0 for v in sizes):
                raise TypeError(f"Tensor(*sizes): sizes must be non-negative integers, got {sizes}")
            data, requires_grad = np.zeros(sizes, dtypes.get_default_dtype()), False
            dtype = None if type(dtype) is int else dtype
            device = "cpu" if type(device) is int else device
        if isinstance(data, Size):   # torch.Tensor(x.size()): a tensor of that shape, not the sizes as data
            data = np.zeros(tuple(data), dtypes.get_default_dtype())
        dev = _device.canonical(device)
        user_array = isinstance(data, np.ndarray)   # a Tensor's memory is shared, as torch.Tensor(t)'s
        if isinstance(data, Tensor):
            data = data.numpy()
        elif not isinstance(data, np.ndarray) and _device.device_of_array(data) == "cuda":
            data = data.copy_to_host()
        arr = to_array(data, dtype)
        if user_array and (arr is data or np.may_share_memory(arr, data)) and _from_user():
            # a user's array (API.md's Tensor(data, ...) has torch.tensor's signature): a copy, so
            # that an optimizer step or an in-place op never writes into the user's numpy data; the
            # library's own calls (Parameter(t), loading, views) wrap their arrays without a copy
            arr = arr.copy()
        if requires_grad and arr.dtype.kind != "f":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        self.array = arr if dev == "cpu" else _device.backend(dev).asarray(arr)
        self.device, self._grad_value, self.requires_grad = dev, None, bool(requires_grad)
        self._ctx, self._idx, self._ver, self._hooks = None, 0, 0, None
        if _state.inference:   # made inside an inference_mode() block: an inference tensor
            self._inference = True

    @classmethod
    def _wrap(cls, arr, device="cpu", requires_grad=False):
        t = cls.__new__(cls)
        t.array, t._grad_value, t.requires_grad = arr, None, requires_grad
        t.device = _device._CANONICAL.get(device) or _device.canonical(device)
        t._ctx, t._idx, t._ver, t._hooks = None, 0, 0, None
        if _state.inference:
            t._inference = True
        return t

    # ------------------------------------------------------------ attributes
    # .array is the raw backend array (numpy on "cpu", a numba device array on "cuda"), no copy:
    # the engine, optimizers and kernels read it. .data is PyTorch's: a detached Tensor over the
    # same storage whose in-place writes autograd does not track (p.data.add_(...) in a
    # hand-written SGD step); assigning a Tensor to it swaps the storage (older views keep the old).
    @property
    def data(self):
        t = Tensor._wrap(self._shared_array(), self.device)
        t._untracked = True
        inference = self.is_inference()
        if inference or t._inference:   # written only when it differs from the class default
            t._inference = inference
        return t

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"Tensor.data must be set to a Tensor, got {type(value).__name__}; "
                            f"wrap arrays with ts.tensor(...)")
        if self.requires_grad and value.array.dtype.kind not in "fc":
            raise RuntimeError(f"data set to a tensor that requires gradients must be floating point or complex "
                               f"dtype (got {value.dtype})")
        self.array, self.device = value.array, value.device
        if self._view is not None:   # its own memory replaced: no longer a view of its base (torch's)
            self._view = None

    shape = property(lambda self: tuple(self.array.shape))
    dtype = property(lambda self: self.array.dtype)
    ndim = property(lambda self: self.array.ndim)
    is_leaf = property(lambda self: self._ctx is None)
    grad_fn = property(lambda self: grad_fn_of(self))
    is_cuda = property(lambda self: self.device == "cuda")

    def size(self, dim=None, *, axis=None):
        if axis is not None:   # numpy's alias, as torch's parser takes it
            dim = dim_from_axis(dim, axis, "size")
        if dim is None:   # a Size (a tuple that prints and counts as torch's); .shape stays a plain tuple
            return Size(self.array.shape)
        return self.shape[ops._norm_axes(dim, self.ndim)[0]] if self.ndim else self.shape[dim]

    def numel(self):
        return int(self.array.size)

    nelement = numel

    def ndimension(self):
        return self.ndim

    __reduce_ex__ = _pickle.reduce_ex   # pickle / copy.copy: a new leaf (tensor_pickle.py)

    def __deepcopy__(self, memo):
        """A copy of a leaf (its data, requires_grad and .grad), as torch's; a tensor computed in
        a graph raises, as torch's does."""
        if self._ctx is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the "
                               "deepcopy protocol: deepcopy x.detach() instead")
        out = type(self).__new__(type(self))
        out.array, out.device, out.requires_grad = _device.backend(self.device).copy(self.array), self.device, self.requires_grad
        out.grad, out._ctx, out._idx, out._ver, out._hooks = None, None, 0, 0, None
        if self.grad is not None:
            out.grad = copy.deepcopy(self.grad, memo)
        for k, v in getattr(self, "__dict__", {}).items():
            if k not in _pickle.INTERNAL_ATTRS:   # a copy is no view and has no write history
                setattr(out, k, copy.deepcopy(v, memo))
        memo[id(self)] = out
        return out

    def dim(self):
        return self.ndim

    def element_size(self):
        return self.dtype.itemsize

    def is_contiguous(self, memory_format=None):
        """Whether the data is laid out in row-major order (t.t() and a transposed view are not),
        or in the channels-last order memory_format names (memory_formats.py)."""
        if memory_format is not None:
            return is_contiguous_as(self.array, memory_format)
        flags = getattr(self.array, "flags", None)
        return True if flags is None else bool(flags["C_CONTIGUOUS"])

    def is_floating_point(self):
        return self.dtype.kind == "f"

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __repr__(self):
        return format_tensor(self, self.numpy())   # torch's layout (tensor_repr.py)

    def __format__(self, spec):
        # f"{loss:.4f}": a 0-d tensor formats as its number, as torch's do; not a subclass's (a
        # 0-d Parameter prints "Parameter containing: ...", as torch's type(self) is Tensor test)
        if self.ndim == 0 and type(self) is Tensor:
            return format(self.item(), spec)
        if spec:   # torch's: object.__format__ refuses a format spec
            raise TypeError(f"unsupported format string passed to {type(self).__name__}.__format__")
        return str(self)

    def __hash__(self):
        return id(self)   # == is elementwise, so containers of tensors must use identity

    def __bool__(self):
        if self.array.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {'no values' if self.array.size == 0 else 'more than one value'}"
                               f" is ambiguous")
        return bool(self.item())

    def __int__(self):
        return int(self._scalar("int"))

    def __float__(self):
        if self.requires_grad and _state.grad:   # torch's one-time warning (ReduceLROnPlateau.step(loss))
            warn_scalar_of_grad_tensor()
        return float(self._scalar("float"))

    def __index__(self):
        if self.dtype.kind not in "iub" or self.array.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def _scalar(self, what):
        if self.array.size != 1:
            raise ValueError(f"only one element tensors can be converted to Python scalars "
                             f"({what}() of a tensor of shape {self.shape})")
        return self.item()

    def __array__(self, dtype=None, copy=None):
        # np.array(t), np.asarray(t): the values, as torch's tensors give them
        arr = self.numpy()
        if dtype is not None:
            arr = arr.astype(dtype, copy=False)
        return arr.copy() if copy else arr

    def __contains__(self, element):
        """`x in t`: whether any element equals x (a tensor or a number), as torch's."""
        if not isinstance(element, (Tensor, int, float, complex, np.generic)):
            raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you passed in a "
                               f"{type(element)}.")
        return bool((self == element).any().item())

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self)))

    def __getattr__(self, name):
        # only reached for names Tensor does not have (and for unset private slots)
        if name[0] == "_":
            raise AttributeError(name)
        if name == "grad":   # after `del t.grad`: None, as torch's (a __delattr__ would slow every store)
            return None
        from tinygrad_seq.missing import tensor_attribute_error
        raise tensor_attribute_error(name)

    # ------------------------------------------------------------ conversion and devices
    def numpy(self, force=False) -> np.ndarray:   # force: torch's, for grad / GPU tensors (both fine here)
        if self.device != "cpu":
            return _device.backend(self.device).to_host(self.array)
        return self._shared_array()

    def _shared_array(self):
        """self.array, made an array first where an op left a numpy scalar (a reduction's, or
        any ufunc's on 0-d input): a later in-place write then reaches every handle taken here
        (.numpy(), .detach(), .data), as torch's 0-d tensors share their memory."""
        a = self.array
        if type(a) is not np.ndarray and isinstance(a, np.generic):
            scalar, a = a, np.asarray(a)   # a new writable 0-d array
            self.array = a
            writes.note_scalar_array(scalar, a)   # a node that saved the scalar sees a's writes
        return a

    def __array_wrap__(self, array, context=None, return_scalar=False):
        """A numpy ufunc applied to a Tensor gives a Tensor (a 0-d one for a 0-d input), as
        torch's; a bool result comes back as uint8, torch's workaround."""
        array = np.asarray(array)
        return Tensor._wrap(array.astype(np.uint8) if array.dtype == np.bool_ else array, "cpu")

    def __reversed__(self):
        """reversed(t): t flipped along dim 0 (a 0-d tensor itself), as torch's."""
        return self if self.ndim == 0 else self.flip(0)

    def item(self):
        if self.array.size != 1:
            raise ShapeMismatch(f"item(): a tensor with {self.array.size} elements cannot be converted to a scalar")
        return self.numpy().reshape(()).item()

    def tolist(self):
        return self.numpy().tolist()

    def to(self, *args, **kwargs) -> "Tensor":
        """to(device), to(dtype), to(device, dtype), to(other tensor), with device=/dtype=
        keywords; non_blocking and copy are accepted as torch's are."""
        device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        memory_format = kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to(): unexpected arguments {sorted(kwargs)}")
        flags = [a for a in args if isinstance(a, bool)]   # to(device, dtype, non_blocking, copy)
        if len(flags) > 1:
            copy = flags[1]
        args = [a for a in args if not isinstance(a, bool)]
        for a in args:
            if isinstance(a, Tensor):
                device, dtype = a.device, a.dtype
            elif isinstance(a, (_device.Device, int)) and not isinstance(a, bool) or \
                    (isinstance(a, str) and not a.startswith("torch.") and a not in dtypes.NAMES):
                device = a   # a device, or an unknown name _device.canonical refuses
            elif a is not None:
                dtype = a
        out = self
        if dtype is not None:
            dt = dtypes.as_dtype(dtype)
            if dt != self.dtype:
                out = ops.Cast.apply(out, dtype=dt) if out.dtype.kind == "f" and dt.kind == "f" \
                    else Tensor._wrap(_device.backend(out.device).astype(out.array, dt), out.device)
        if device is not None:
            dev = _device.canonical(device)
            if dev != out.device:
                out = ToDevice.apply(out, device=dev)
        # a memory_format the result is not laid out in yet: torch's copy in that layout
        relaid = getattr(memory_format, "name", "preserve_format") != "preserve_format" and \
            not out.is_contiguous(memory_format=memory_format)
        if out is self and (copy or relaid):
            return named(self.clone(memory_format=memory_format if relaid else None), "ToCopyBackward0")
        if relaid and type(out.array) is np.ndarray:
            out.array = clone_array(out.array, memory_format)
        return out

    def type(self, dtype=None):
        """type() -> 'torch.FloatTensor' style name; type(dtype or that name) -> converted."""
        if dtype is None:
            return dtypes.type_name(self.dtype)
        if getattr(dtype, "is_legacy_type", False):   # ts.FloatTensor, ts.LongTensor, ...
            dtype = dtype.dtype
        elif dtype is Tensor:   # t.type(torch.Tensor): the default float type, as torch's
            dtype = dtypes.get_default_dtype()
        return self.to(dtype=dtypes.as_dtype(dtype))

    def cpu(self, memory_format=None):
        return self.to("cpu") if memory_format is None else self.to("cpu", memory_format=memory_format)

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        return self.to("cuda" if device is None else (f"cuda:{device}" if isinstance(device, int) else device))

    # memory_format= as in .to(): a copy in that layout unless already in it
    def float(self, *, memory_format=None): return self.to(dtype=np.float32, memory_format=memory_format)
    def double(self, *, memory_format=None): return self.to(dtype=np.float64, memory_format=memory_format)
    def half(self, *, memory_format=None): return self.to(dtype=np.float16, memory_format=memory_format)
    def long(self, *, memory_format=None): return self.to(dtype=np.int64, memory_format=memory_format)
    def int(self, *, memory_format=None): return self.to(dtype=np.int32, memory_format=memory_format)
    def bool(self, *, memory_format=None): return self.to(dtype=np.bool_, memory_format=memory_format)
    def byte(self, *, memory_format=None): return self.to(dtype=np.uint8, memory_format=memory_format)

    def type_as(self, other):
        return self.to(dtype=other.dtype)

    def contiguous(self, memory_format=None):
        """self when row-major already, else a row-major copy (differentiable), as torch's; with a
        channels-last memory_format, the same in that format's order (clone's strides)."""
        if getattr(memory_format, "name", None) in ("channels_last", "channels_last_3d"):
            return self if self.is_contiguous(memory_format=memory_format) else self.clone(memory_format=memory_format)
        if self.is_contiguous():
            return self
        out = self.clone()   # the graph node; its copy keeps the source's order, so make it row-major
        out.array = _device.backend(self.device).ascontiguous(out.array)
        return out

    def clone(self, *, memory_format=None):
        # a host array gets torch's strides for memory_format (an expanded tensor's clone is
        # row-major, a permuted one's keeps the permuted order); a device copy is row-major
        arr = self.array
        relaid = type(arr) is np.ndarray and (memory_format is not None or not arr.flags.c_contiguous)
        if self.requires_grad and autograd.is_grad_enabled():
            out = ops_extra.Clone.apply(self)
            if relaid:
                out.array = clone_array(arr, memory_format)
            return out
        return Tensor._wrap(clone_array(arr, memory_format) if relaid else _device.backend(self.device).copy(arr),
                            self.device)

    def __getitem__(self, idx):
        return self._view_getitem(idx)

    def __delitem__(self, idx):   # torch's TypeError (without this, Python's AttributeError)
        raise TypeError("Tensor does not support deleting items")


_NON_LEAF_GRAD = ("The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute "
                  "won't be populated during autograd.backward(). If you indeed want the .grad field to be populated "
                  "for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf "
                  "Tensor by mistake, make sure you access the leaf Tensor instead.")


def _grad_getter(self):
    """t.grad; None on a non-leaf tensor that requires grad and does not retain it warns as
    torch's (an LSTM's h_n.grad after backward: "why is my grad None")."""
    g = self._grad_value
    if g is None and self._ctx is not None and self.requires_grad and not self.retains_grad:
        warnings.warn(_NON_LEAF_GRAD, UserWarning, stacklevel=2)
    return g


# .grad: a property over the slot _grad_value, so that an assigned gradient is checked as
# torch's (grad_checks.py)
Tensor.grad = property(_grad_getter, checked_grad_setter(Tensor._grad_value.__set__),
                       lambda self: setattr(self, "_grad_value", None))   # del t.grad: None, as torch's
autograd._Tensor = Tensor


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


# methods composed from the ones above (tensor_more.py)
from tinygrad_seq import tensor_more as _more, tensor_new as _new  # noqa: E402
for _name, _fn in {**_more.METHODS, **_new.METHODS}.items():
    setattr(Tensor, _name, _fn)
