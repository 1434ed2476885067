"""The values of Module.state_dict(): numpy array copies (API.md), which also answer the
torch.Tensor calls programs make on state-dict values. `best = {k: v.cpu().clone() for k, v in
model.state_dict().items()}` (an early-stopping snapshot), `v.detach().cpu().numpy()`,
`v.size(0)`, `v.numel()`, `v.float()`, `v.abs()`, `v.equal(w)`, `v.allclose(w)` (and
`ts.equal` / `ts.allclose` of them) work as on torch's values. In-place writes (`copy_`) do not exist: a state dict here is a copy,
so writing into it would not reach the model (torch's shares the parameters' memory); use
load_state_dict."""
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
    def __repr__(self):   # printed as the numpy array it is
        return repr(self.view(np.ndarray))

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


def state_array(arr):
    """A StateArray copy of a host array."""
    return np.array(arr, copy=True).view(StateArray)
