"""torch's shape errors of the matrix products (matmul / @, mm, bmm, dot, linear), word for word:
torch's matmul runs one of dot, mv, mm or bmm for the operands' dims (folding a >= 3-D operand
into a matrix when it can), and the error is that kernel's, naming the shapes it saw. Raised only
after a product failed or a check found a mismatch, so nothing here runs on the hot path."""
import math

from tinygrad_seq.errors import ShapeMismatch


def dot_size_error(n1, n2):
    return ShapeMismatch(f"inconsistent tensor size, expected tensor [{n1}] and src [{n2}] to have the same "
                         f"number of elements, but got {n1} and {n2} elements respectively")


def mv_size_error(rows, k, n):
    """mat (rows x k) @ vec (n,), n != k."""
    return ShapeMismatch(f"size mismatch, got input ({rows}), mat ({rows}x{k}), vec ({n})")


def mm_size_error(shape1, shape2):
    """mat1 (r x k) @ mat2 (k2 x c), k2 != k: torch's addmm / mm message."""
    return ShapeMismatch(f"mat1 and mat2 shapes cannot be multiplied ({shape1[0]}x{shape1[1]} and "
                         f"{shape2[0]}x{shape2[1]})")


def bmm_size_error(batch, k, batch2, k2):
    """batch1 (batch, ., k) @ batch2 (batch2, k2, .): torch's bmm check of batch2's first two dims."""
    return ShapeMismatch(f"Expected size for first two dimensions of batch2 tensor to be: [{batch}, {k}] but "
                         f"got: [{batch2}, {k2}].")


def _broadcast_batch(s1, s2):
    """The broadcast of two batch shapes, or torch's infer_size error (last dim checked first)."""
    n = max(len(s1), len(s2))
    p1, p2 = (1,) * (n - len(s1)) + tuple(s1), (1,) * (n - len(s2)) + tuple(s2)
    for i in range(n - 1, -1, -1):
        if p1[i] != p2[i] and p1[i] != 1 and p2[i] != 1:
            raise ShapeMismatch(f"The size of tensor a ({p1[i]}) must match the size of tensor b ({p2[i]}) at "
                                f"non-singleton dimension {i}")
    return tuple(max(x, y) for x, y in zip(p1, p2))


def _leading_dims_fold(shape, strides):
    """torch's should_fold test: the leading dims of a (>= 3-D) operand merge into rows without a
    copy (each stride is the next one times the next size)."""
    if strides is None:   # an array without strides (another device's): as a contiguous one
        return True
    return all(strides[i] == strides[i + 1] * shape[i + 1] for i in range(len(shape) - 2))


def _should_fold(a, o):
    """torch's should_fold: the larger operand (o transposed when it is) is >= 3-D, the other <= 2-D,
    and the smaller requires grad, or (a not 2-D) the larger is empty or folds without a copy."""
    a_larger = a.ndim >= o.ndim
    big, small = (a, o) if a_larger else (o, a)
    if not (big.ndim >= 3 and small.ndim <= 2):
        return False
    if small.requires_grad:
        return True
    if a.ndim == 2:   # o the larger: torch would have to transpose mm's result back, a copy
        return False
    if math.prod(big.shape) == 0:
        return True
    shape, strides = tuple(big.shape), getattr(big.array, "strides", None)
    if not a_larger:   # big.mT: the last two dims (and strides) swapped
        shape = shape[:-2] + (shape[-1], shape[-2])
        strides = None if strides is None else tuple(strides[:-2]) + (strides[-1], strides[-2])
    return _leading_dims_fold(shape, strides)


class OperandShape:
    """What torch's choice of kernel reads of an operand: shape, strides, requires_grad."""
    __slots__ = ("shape", "ndim", "requires_grad", "array")

    def __init__(self, shape, requires_grad, array):
        self.shape, self.ndim, self.requires_grad, self.array = tuple(shape), len(shape), requires_grad, array


def _unbatched(t, other):
    """torch multiplies a 3-D operand of batch 1 that requires grad, against a 3-D one of a larger
    batch, as a matrix (its gradient then needs no sum over the broadcast batch)."""
    if t.requires_grad and t.ndim == 3 and other.ndim == 3 and t.shape[0] == 1 != other.shape[0]:
        strides = getattr(t.array, "strides", None)
        return OperandShape(t.shape[1:], True, None if strides is None else _Strided(strides[1:]))
    return t


class _Strided:
    """An operand's strides, where OperandShape.array is read for them only."""
    __slots__ = ("strides",)

    def __init__(self, strides):
        self.strides = tuple(strides)


def raise_matmul_error(a, o):
    """Raise torch's error for a @ o, whose shapes do not multiply (numpy refused them)."""
    a, o = _unbatched(a, o), _unbatched(o, a)
    d1, d2 = a.ndim, o.ndim
    if d1 == 0 or d2 == 0:
        raise ShapeMismatch(f"both arguments to matmul need to be at least 1D, but they are {d1}D and {d2}D")
    k = a.shape[-1]
    k2 = o.shape[-2] if d2 > 1 else o.shape[0]
    if d1 == 1 and d2 == 1:
        raise dot_size_error(a.shape[0], o.shape[0])
    if d1 <= 2 and d2 <= 2 or (_should_fold(a, o) and d1 >= d2):
        rows = math.prod(a.shape[:-1])   # a folded into (rows, k); a 1-D a is one row
        if d2 == 1:
            raise mv_size_error(rows, k, o.shape[0])
        raise mm_size_error((rows, k), o.shape)
    if _should_fold(a, o):   # o the larger: torch computes (o.mT folded) @ a.mT
        rows = math.prod(o.shape[:-2]) * o.shape[-1]
        if d1 == 1:
            raise mv_size_error(rows, k2, k)
        raise mm_size_error((rows, k2), (k, a.shape[0]))
    batch = math.prod(_broadcast_batch(a.shape[:-2], o.shape[:-2]))
    if k != k2:
        raise bmm_size_error(batch, k, batch, k2)


def check_mm(a, o):
    """torch.mm's checks: two matrices whose inner sizes agree."""
    if a.ndim != 2:
        raise ShapeMismatch("self must be a matrix")
    if getattr(o, "ndim", 0) != 2:
        raise ShapeMismatch("mat2 must be a matrix")
    if a.shape[1] != o.shape[0]:
        raise mm_size_error(a.shape, o.shape)


def check_bmm(a, o):
    """torch.bmm's checks: two 3-D tensors, batch2's first two dims (batch, k) as batch1's."""
    if a.ndim != 3:
        raise ShapeMismatch("batch1 must be a 3D tensor")
    if getattr(o, "ndim", 0) != 3:
        raise ShapeMismatch("batch2 must be a 3D tensor")
    if o.shape[:2] != (a.shape[0], a.shape[2]):
        raise bmm_size_error(a.shape[0], a.shape[2], o.shape[0], o.shape[1])


def check_dot(a, o):
    """torch.dot's checks: two 1-D tensors of one length."""
    if a.ndim != 1 or o.ndim != 1:
        raise ShapeMismatch(f"1D tensors expected, but got {a.ndim}D and {o.ndim}D tensors")
    if a.shape != o.shape:
        raise dot_size_error(a.shape[0], o.shape[0])
