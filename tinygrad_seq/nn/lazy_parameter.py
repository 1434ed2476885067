"""nn.UninitializedParameter and nn.UninitializedBuffer (torch.nn.parameter): the placeholders a
lazy module (nn/lazy.py) holds until its first call tells it the shapes.

They hold an empty array of their dtype on their device; `.to()` / `.double()` / `.cuda()` change
those, and materialize(shape) fills them with an array of that shape in place and turns the
object into a Parameter (a plain Tensor for the buffer) by changing its class, as torch's, so
that an optimizer made before the first call holds the materialized parameters. Until then
their shape raises RuntimeError and other tensor methods ValueError, as torch's."""
import numpy as np

from tinygrad_seq import device as _device
from tinygrad_seq import dtypes
from tinygrad_seq.nn.parameter import Parameter
from tinygrad_seq.tensor import Tensor

_SHAPE_ERROR = ("Can't access the shape of an uninitialized parameter or buffer. This error usually happens in "
                "`load_state_dict` when trying to load an uninitialized parameter into an initialized one. "
                "Call `forward` to initialize the parameters before accessing their attributes.")

# what torch's UninitializedTensorMixin._allowed_methods lets through, and the attributes every
# tensor carries (the engine and Module read them)
_ALLOWED = frozenset((
    "materialize", "cls_to_become", "size", "copy_", "is_complex", "is_floating_point", "half", "float",
    "double", "char", "short", "int", "long", "cuda", "cpu", "to", "get_device", "array", "grad",
    "requires_grad", "requires_grad_", "device", "dtype", "is_leaf", "grad_fn", "persistent", "is_cuda",
    "data", "detach", "shape", "numpy", "share_memory_"))


def _uninitialized_use(name):
    def refuse(self, *args, **kwargs):
        raise ValueError(f"Attempted to use an uninitialized parameter in {name}. This error happens when you are "
                         f"using a `LazyModule` or explicitly manipulating `torch.nn.parameter."
                         f"{type(self).__name__}` objects. When using LazyModules Call `forward` with a dummy "
                         "batch to initialize the parameters before calling torch functions")
    refuse.__name__ = name
    return refuse


class UninitializedTensorMixin:
    __slots__ = ()
    cls_to_become = None
    _is_uninitialized = True   # what ts.*_like tests (creation.py), without importing this module

    def _refuse_use(self, name):
        """Raises torch's ValueError for a use of this placeholder in the function `name`."""
        _uninitialized_use(name)(self)

    def materialize(self, shape, device=None, dtype=None):
        """Gives this placeholder an array of `shape` (zeros; the module's reset_parameters
        draws the values), on its device and of its dtype unless given, and makes it a
        cls_to_become (Parameter / Tensor) in place."""
        device = _device.canonical(device) if device is not None else self.device
        dt = np.dtype(dtypes.as_dtype(dtype)) if dtype is not None else self.dtype
        shape = (shape,) if isinstance(shape, int) else shape   # torch.empty(10) is 1-d
        arr = np.zeros(tuple(int(s) for s in shape), dt)
        object.__setattr__(self, "array", arr if device == "cpu" else _device.backend(device).asarray(arr))
        object.__setattr__(self, "device", device)
        object.__setattr__(self, "__class__", self.cls_to_become)

    @property
    def shape(self):
        raise RuntimeError(_SHAPE_ERROR)

    def numpy(self, *args, **kwargs):
        raise RuntimeError(_SHAPE_ERROR)

    def size(self, dim=None):
        raise RuntimeError(_SHAPE_ERROR)

    def share_memory_(self):
        raise RuntimeError("Can't share memory on an uninitialized parameter or buffer. Call `forward` to "
                           "initialize the parameters before calling `module.share_memory()`.")

    def __repr__(self):
        return f"<{type(self).__name__}>"

    def __getattribute__(self, name):
        if name[0] == "_" or name in _ALLOWED:
            return object.__getattribute__(self, name)
        if hasattr(Tensor, name) and callable(getattr(Tensor, name)):
            return _uninitialized_use(name).__get__(self)
        return object.__getattribute__(self, name)

    def __reduce_ex__(self, proto):
        return (type(self), (self.requires_grad,))


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__", "__rtruediv__",
              "__matmul__", "__rmatmul__", "__pow__", "__neg__", "__getitem__", "__setitem__", "__iter__",
              "__len__", "__float__", "__int__", "__bool__", "__array__"):
    setattr(UninitializedTensorMixin, _name, _uninitialized_use(_name))


def _new_empty(cls, requires_grad, device, dtype):
    """An instance of cls over an empty array of dtype (default: the default dtype) on device."""
    arr = np.zeros((0,), np.dtype(dtypes.as_dtype(dtype)) if dtype is not None else dtypes.get_default_dtype())
    dev = _device.canonical(device) if device is not None else "cpu"
    t = Tensor.__new__(cls)
    t.array = arr if dev == "cpu" else _device.backend(dev).asarray(arr)
    t.device, t._grad_value, t.requires_grad = dev, None, bool(requires_grad)
    t._ctx, t._idx, t._ver, t._hooks = None, 0, 0, None
    return t


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A Parameter whose shape is not known yet: UninitializedParameter(requires_grad=True,
    device=None, dtype=None); materialize(shape) makes it a Parameter."""
    __slots__ = ()
    cls_to_become = Parameter

    def __new__(cls, requires_grad=True, device=None, dtype=None):
        return _new_empty(cls, requires_grad, device, dtype)

    def __init__(self, requires_grad=True, device=None, dtype=None):
        pass

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.requires_grad, self.device, self.dtype)
        return memo[id(self)]


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer whose shape is not known yet: UninitializedBuffer(requires_grad=False,
    device=None, dtype=None, persistent=True); materialize(shape) makes it a Tensor."""
    __slots__ = ()
    cls_to_become = Tensor

    def __new__(cls, requires_grad=False, device=None, dtype=None, persistent=True):
        t = _new_empty(cls, requires_grad, device, dtype)
        t.persistent, t._is_buffer = persistent, True
        return t

    def __init__(self, requires_grad=False, device=None, dtype=None, persistent=True):
        pass

    def __deepcopy__(self, memo):
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.requires_grad, self.device, self.dtype, self.persistent)
        return memo[id(self)]


def is_lazy(param):
    """Whether param is an UninitializedParameter or UninitializedBuffer (torch's is_lazy)."""
    return isinstance(param, UninitializedTensorMixin)
