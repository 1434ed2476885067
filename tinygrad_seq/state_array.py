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

    def max(self, *args, **kwargs):
        return self._reduction("max", args, kwargs)

    def min(self, *args, **kwargs):
        return self._reduction("min", args, kwargs)

    def std(self, *args, **kwargs):
        return self._reduction("std", args, kwargs, torch_without_args=True)

    def var(self, *args, **kwargs):
        return self._reduction("var", args, kwargs, torch_without_args=True)

    def sum(self, *args, **kwargs):
        return self._reduction("sum", args, kwargs)

    def mean(self, *args, **kwargs):
        return self._reduction("mean", args, kwargs)

    def prod(self, *args, **kwargs):
        return self._reduction("prod", args, kwargs)

    def _reduction(self, name, args, kwargs, torch_without_args=False):
        """torch's form (a positional dim for max / min, or dim= / keepdim=; std / var with no
        arguments: unbiased) on a tensor, numpy's otherwise (numpy's own functions pass axis=)."""
        torch_form = ("dim" in kwargs or "keepdim" in kwargs or "unbiased" in kwargs or "correction" in kwargs
                      or (torch_without_args and not args and not kwargs)
                      or (name in ("max", "min") and args and not kwargs and isinstance(args[0], (int, np.integer))))
        if torch_form:
            return _back(getattr(_tensor_over(self), name)(*args, **kwargs), self)
        return getattr(np.ndarray, name)(self, *args, **kwargs)

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
        if owner is not None and np.shares_memory(out, owner) and out.shape == owner.shape:
            return owner if out.__array_interface__["data"] == owner.__array_interface__["data"] else out
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
