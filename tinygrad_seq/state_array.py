"""The values of Module.state_dict(): numpy array copies (API.md), which also answer the
torch.Tensor calls programs make on state-dict values. `best = {k: v.cpu().clone() for k, v in
model.state_dict().items()}` (an early-stopping snapshot), `v.detach().cpu().numpy()`,
`v.size(0)`, `v.numel()`, `v.float()`, `v.half()`, `v.abs()`, `v.norm()`, `v.t()`, `v.view(-1)`,
`v.unsqueeze(0)`, `v.equal(w)`, `v.allclose(w)` (and `ts.equal` / `ts.allclose` / `ts.stack` /
`ts.zeros_like` of them) work as on torch's values: a Tensor method numpy has no name for runs
on a tensor over the array's memory, and a tensor it returns comes back as a StateArray. Where
numpy's method of the same name means something else, torch's call form gets torch's meaning:
`view(shape)`, `transpose(d0, d1)`, `max(dim)` / `min(dim)` (values and indices), `std()` /
`var()` (unbiased), and any reduction given `dim=` or `keepdim=`; numpy's own calls (keywords
`axis=`, `ddof=`, `out=`, a dtype to `view`) keep numpy's.

In-place methods (`copy_`, `mul_`, ...) refuse a value straight from state_dict() (and views of
it): that dict is a copy, so writing into it would not reach the model, where torch's shares the
parameters' memory (use load_state_dict). Its clone(), a loaded checkpoint's values and the
results of arithmetic take them (`avg = v.clone(); avg.mul_(0.5)`)."""
import numpy as np


class _Size(int):
    """ndarray.size (the element count, as numpy code reads it) that can also be called as
    torch's Tensor.size(): size() -> the shape, size(dim) -> one dimension."""

    def __new__(cls, count, shape):
        out = super().__new__(cls, count)
        out.shape = tuple(shape)
        return out

    def __call__(self, dim=None):
        if dim is None:
            return self.shape
        if not -len(self.shape) <= dim < len(self.shape):
            raise IndexError(f"size({dim}): a {len(self.shape)}-dim array has dims -{len(self.shape)}..{len(self.shape) - 1}")
        return self.shape[dim]


class StateArray(np.ndarray):
    def __array_finalize__(self, obj):
        # a view of a module's value is one too (in place on it would not reach the model);
        # a new array (arithmetic, a copy) is not
        self._of_module = (getattr(obj, "_of_module", False) and isinstance(obj, np.ndarray)
                           and np.may_share_memory(self, obj))

    def __repr__(self):   # printed as the numpy array it is
        return repr(self.view(np.ndarray))

    def __getattr__(self, name):
        """A torch.Tensor method or attribute numpy's arrays lack (half, long, norm, t,
        unsqueeze, is_floating_point, ...), run on a tensor over this array's memory."""
        from tinygrad_seq.tensor import Tensor
        if name.startswith("_") or name == "array" or not hasattr(Tensor, name):
            raise AttributeError(f"'StateArray' object has no attribute '{name}'")
        if name.endswith("_") and not name.endswith("__") and getattr(self, "_of_module", False):
            raise AttributeError(
                f"'StateArray' object has no attribute '{name}': a state_dict() value is a copy, so writing "
                "into it in place would not reach the module (torch's state dict shares the parameters' "
                "memory); change the module's parameter, or write into v.clone() and load_state_dict")
        attr = getattr(_tensor_over(self), name)
        if not callable(attr):
            return _back(attr)
        return lambda *args, **kwargs: _back(attr(*args, **kwargs), self)

    def view(self, *args, **kwargs):
        """torch's view(*shape) (a view of the same memory; -1 allowed), else numpy's view(dtype)."""
        shape = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
        if args and not kwargs and all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in shape):
            out = np.ndarray.reshape(self, tuple(int(d) for d in shape))
            if not np.shares_memory(out, self) and out.size:
                raise RuntimeError(f"view size is not compatible with input tensor's size and stride; use "
                                   f".reshape({', '.join(map(str, shape))}) instead")
            return out
        return np.ndarray.view(self, *args, **kwargs)

    def transpose(self, *axes):
        """torch's transpose(dim0, dim1) (two dims swapped), else numpy's transpose(axes)."""
        if len(axes) == 2 and all(isinstance(d, (int, np.integer)) for d in axes):
            return np.ndarray.swapaxes(self, *axes)
        return np.ndarray.transpose(self, *axes)

    # max, min, std, ... below: torch's call forms (see _TORCH_FORMS) go to torch, numpy's stay numpy's

    @property
    def size(self):
        return _Size(np.ndarray.size.__get__(self), self.shape)

    def clone(self):
        return self.copy()

    def detach(self):
        return self

    def cpu(self):
        return self

    def numpy(self):
        """The plain ndarray (v.detach().cpu().numpy(), as on torch's values)."""
        return self.view(np.ndarray)

    def numel(self):
        return int(np.ndarray.size.__get__(self))

    def dim(self):
        return self.ndim

    def contiguous(self):
        return np.ascontiguousarray(self).view(StateArray)

    def float(self):
        return self.astype(np.float32)

    def double(self):
        return self.astype(np.float64)

    def abs(self):
        return np.abs(self)

    def equal(self, other):
        """torch's v.equal(w): same shape and elements (w a state-dict value, array or Tensor)."""
        other = other.numpy() if hasattr(other, "numpy") else np.asarray(other)
        return self.shape == other.shape and bool((self.view(np.ndarray) == other).all())

    def allclose(self, other, rtol=1e-5, atol=1e-8, equal_nan=False):
        other = other.numpy() if hasattr(other, "numpy") else np.asarray(other)
        return bool(np.allclose(self.view(np.ndarray), other, rtol=rtol, atol=atol, equal_nan=equal_nan))

    def to(self, *args, dtype=None, **kwargs):
        """to("cpu") / to(dtype) / to(device, dtype): a host array stays a host array; dtype casts."""
        for a in args:
            if isinstance(a, (np.dtype, type)):
                dtype = a
        return self if dtype is None else self.astype(dtype)


_TORCH_KEYWORDS = {"dim", "keepdim", "unbiased", "correction", "descending", "stable"}
# numpy's keywords: a call with any of them is numpy's (np.sort passes stable= beside kind=)
_NUMPY_KEYWORDS = {"axis", "out", "dtype", "ddof", "kind", "order", "keepdims", "where", "initial", "mean"}


def _ints(args):
    return bool(args) and all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in args)


# method -> whether a call (self, args, kwargs) without torch's keywords is torch's form. numpy's
# own functions call these methods with keywords (np.max(a, 0) is a.max(axis=0), np.sort(a) is
# a.sort(axis=-1, kind=None, order=None), np.repeat(a, 2) is a.repeat(2, axis=None)), so a
# positional dim, or no argument where numpy's meaning differs, is a torch program's
_TORCH_FORMS = {
    "max": lambda v, a, k: not k and _ints(a[:1]),                 # (values, indices)
    "min": lambda v, a, k: not k and _ints(a[:1]),
    "std": lambda v, a, k: not k and (not a or _ints(a[:1])),      # unbiased
    "var": lambda v, a, k: not k and (not a or _ints(a[:1])),
    "sum": lambda v, a, k: len(a) > 1 and isinstance(a[1], bool),  # sum(dim, keepdim)
    "mean": lambda v, a, k: len(a) > 1 and isinstance(a[1], bool),
    "prod": lambda v, a, k: len(a) > 1 and isinstance(a[1], bool),
    "argmax": lambda v, a, k: len(a) > 1 and isinstance(a[1], bool),
    "argmin": lambda v, a, k: len(a) > 1 and isinstance(a[1], bool),
    "all": lambda v, a, k: False,
    "any": lambda v, a, k: False,
    "cumsum": lambda v, a, k: False,
    "cumprod": lambda v, a, k: False,
    "flatten": lambda v, a, k: not k and _ints(a),                 # flatten(start_dim): numpy's takes an order
    "squeeze": lambda v, a, k: not k and _ints(a),                 # squeeze(dim): a no-op where the size is not 1
    "repeat": lambda v, a, k: not k and _ints(a) and len(a) >= v.ndim,   # torch's tiling
    "sort": lambda v, a, k: not k and not a,                       # (values, indices), not in place
}


def _method(name):
    numpy_method = getattr(np.ndarray, name)

    def method(self, *args, **kwargs):
        if not _NUMPY_KEYWORDS.intersection(kwargs) and (_TORCH_KEYWORDS.intersection(kwargs)
                                                          or _TORCH_FORMS[name](self, args, kwargs)):
            if len(args) == 1 and name == "repeat" and isinstance(args[0], (tuple, list)):
                args = tuple(args[0])
            return _back(getattr(_tensor_over(self), name)(*args, **kwargs), self)
        return numpy_method(self, *args, **kwargs)
    method.__name__ = name
    method.__doc__ = f"torch's {name} for torch's call forms (dim=, keepdim=, ...), else numpy's."
    return method


for _name in _TORCH_FORMS:
    setattr(StateArray, _name, _method(_name))


def state_value_tensor(arr):
    """A CPU tensor over a StateArray's memory (writes show in it): where torch takes the tensor
    a state-dict value is (ts.stack, ts.cat, ts.zeros_like, ...)."""
    return _tensor_over(arr)


def _tensor_over(arr):
    """A CPU tensor over arr's memory (writes show in arr)."""
    from tinygrad_seq.creation import from_numpy
    plain = arr.view(np.ndarray)
    if not plain.flags.writeable:
        plain = plain.copy()
    return from_numpy(plain)


def _back(value, owner=None):
    """A torch call's result as a state-dict value: a tensor as a StateArray (over its memory),
    the array itself where the call returned its tensor (in place), tuples element by element."""
    from tinygrad_seq.tensor import Tensor
    if isinstance(value, Tensor):
        out = np.asarray(value.numpy()).view(StateArray)
        if owner is not None and np.may_share_memory(out, owner):
            if out.shape == owner.shape and out.__array_interface__ == owner.__array_interface__:
                return owner   # the call returned its tensor (in place)
            out._of_module = getattr(owner, "_of_module", False)   # a view: refuses in place as owner does
        return out
    if isinstance(value, tuple):
        made = tuple(_back(v, owner) for v in value)
        return type(value)(*made) if hasattr(value, "_fields") else made
    return value


def state_array(arr, of_module=False):
    """A StateArray copy of a host array; of_module: a module's state_dict() value (in-place
    methods refuse it: see the module docstring)."""
    out = np.array(arr, copy=True).view(StateArray)
    out._of_module = of_module
    return out
