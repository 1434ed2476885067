"""Tensor methods sequence code reaches for that compose from the others: addcmul/addcdiv,
index_put_, movedim, fmod; and the free functions broadcast_tensors and meshgrid. Attached to
Tensor by tensor.py (each is a plain composition: autograd differentiates it)."""
import numpy as np

from tinygrad_seq.errors import ShapeMismatch


def addcmul(self, tensor1, tensor2, value=1):
    """self + value * tensor1 * tensor2."""
    return self + tensor1 * tensor2 * value


def addcdiv(self, tensor1, tensor2, value=1):
    """self + value * tensor1 / tensor2."""
    return self + tensor1 / tensor2 * value


def addcmul_(self, tensor1, tensor2, value=1):
    return self.add_(tensor1 * tensor2 * value)


def addcdiv_(self, tensor1, tensor2, value=1):
    return self.add_(tensor1 / tensor2 * value)


def index_put_(self, indices, values, accumulate=False):
    """self[indices] = values (accumulate: += with repeated indices adding up), as torch's."""
    if not isinstance(indices, tuple):
        raise TypeError(f"index_put_: indices must be a tuple of tensors, got {type(indices).__name__}")
    if accumulate:   # repeated positions add up (numpy's unbuffered np.add.at)
        if getattr(values, "requires_grad", False):
            raise NotImplementedError("index_put_(accumulate=True) with values that require grad is not "
                                      "supported; use index_add_ along one dim")
        index = tuple(i.array if hasattr(i, "array") else np.asarray(i) for i in indices)
        vals = np.asarray(values.array if hasattr(values, "array") else values, dtype=self.dtype)
        contrib = np.zeros(self.shape, dtype=self.dtype)
        np.add.at(contrib, index, np.broadcast_to(vals, contrib[index].shape))
        return self.add_(type(self)(contrib))
    self[indices] = values
    return self


def index_put(self, indices, values, accumulate=False):
    return index_put_(self.clone(), indices, values, accumulate)


def movedim(self, source, destination):
    """The dims in source moved to the positions in destination, the others in their order."""
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise ShapeMismatch(f"movedim: Invalid source or destination dims: source ({src} dims) should contain "
                            f"the same number of dims as destination ({dst} dims)")
    n = self.ndim
    for d in src + dst:
        if not -n <= d < max(n, 1):
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
    src, dst = [d % n for d in src], [d % n for d in dst]
    if len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise ValueError(f"movedim: repeated dim in source {src} or destination {dst}")
    order = [None] * n
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(n) if d not in src)
    return self.permute(*[o if o is not None else next(rest) for o in order])


def fmod(self, other):
    """Remainder with the dividend's sign (C's fmod): self - trunc(self / other) * other."""
    other = self._other(other)
    if self.dtype.kind == "f" or other.dtype.kind == "f":
        return self - (self / other).trunc() * other
    if not np.all(other.array):
        raise RuntimeError("ZeroDivisionError: integer division by zero")   # torch's
    from tinygrad_seq.autograd import _Tensor
    return _Tensor._wrap(np.fmod(*np.broadcast_arrays(self.array, other.array)), self.device)


METHODS = dict(addcmul=addcmul, addcdiv=addcdiv, addcmul_=addcmul_, addcdiv_=addcdiv_, index_put_=index_put_,
               index_put=index_put, movedim=movedim, moveaxis=movedim, fmod=fmod)


def broadcast_tensors(*tensors):
    shape = np.broadcast_shapes(*[t.shape for t in tensors])
    return tuple(t.expand(*shape) for t in tensors)


def meshgrid(*tensors, indexing="ij"):
    """Grids from 1-D tensors; indexing 'ij' (matrix) or 'xy' (Cartesian), as torch's."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise ValueError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    n = len(tensors)
    shape = [t.numel() for t in tensors]
    if indexing == "xy" and n >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for k, t in enumerate(tensors):
        view = [1] * n
        axis = (1 - k if k < 2 else k) if indexing == "xy" and n >= 2 else k
        view[axis] = t.numel()
        out.append(t.reshape(*view).expand(*shape))
    return tuple(out)
