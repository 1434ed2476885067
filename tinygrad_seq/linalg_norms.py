"""torch.linalg's norms: vector_norm (one Function with torch's norm_backward), matrix_norm (Tensor
ops over the vector norms and the singular values) and norm, which picks between the two as
torch.linalg.norm does."""
import numbers

import numpy as np

from tinygrad_seq.argument_types import require_tensor_argument
from tinygrad_seq.autograd import Function
from tinygrad_seq.backend_cpu_reduce import row_major
from tinygrad_seq.dim_alias import takes_axis
from tinygrad_seq.out_param import takes_out
from tinygrad_seq.tensor_matmul import scalar_name

_INF = float("inf")


def check_float(name, t, half_ok=False, argument="A", position=1):
    """torch's dtype check of the linalg functions: float32 or float64 (float16 too where half_ok:
    the vector norms and the matrix norms that need no decomposition). A non-Tensor t: torch's
    TypeError, under its op name ("linalg.svdvals" -> "linalg_svdvals(): argument 'A' ...")."""
    require_tensor_argument(t, name.removeprefix("torch.").replace(".", "_"), argument, position)
    if t.dtype == np.float16 and not half_ok:
        raise RuntimeError(f"{name}: Low precision dtypes not supported. Got {scalar_name(t.dtype)}")
    if t.dtype.kind != "f":
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as input. Got {scalar_name(t.dtype)}")


def _dims(dim, ndim, name):
    """dim (None, int or sequence) -> a sorted tuple of non-negative axes (None: all)."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, numbers.Integral) else tuple(int(d) for d in dim)
    if not dims:   # dim=(): every dimension, as torch's norms reduce
        return tuple(range(ndim))
    bound = max(ndim, 1)
    out = []
    for d in dims:
        if not -bound <= d < bound:
            raise IndexError(f"{name}: Dimension out of range (expected to be in range of [{-bound}, {bound - 1}], "
                             f"but got {d})")
        out.append(d % bound)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{name}: dim {list(dims)} appears multiple times in the list of dims")
    return tuple(sorted(out)) if ndim else ()


def _check_dtype(name, x, dtype):
    """torch's dtype= of the norms: a floating dtype x converts to without narrowing."""
    if dtype is None:
        return
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise RuntimeError(f"{name}: dtype should be floating point or complex, but got {scalar_name(dtype)}")
    if np.promote_types(x.dtype, dtype) != dtype:
        raise RuntimeError(f"{name}: the dtype of the input ({scalar_name(x.dtype)}) should be convertible without "
                           f"narrowing to the specified dtype ({scalar_name(dtype)})")


def _check_identity(x, ord, dim):
    """The inf and negative-order norms have no identity: over an empty tensor or an empty dim
    they raise, in torch's words (the dim as given; its missing space kept)."""
    if not (ord < 0 or ord == _INF):
        return
    ord_text = str(int(ord)) if float(ord).is_integer() else str(ord)
    given = () if dim is None else (dim,) if isinstance(dim, numbers.Integral) else tuple(dim)
    if not given and x.numel() == 0:
        raise RuntimeError(f"linalg.vector_norm cannot compute the {ord_text} norm on an empty tensor because the "
                           "operation does not have an identity")
    for d in given:
        if x.ndim and x.shape[d] == 0:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {ord_text} norm on the dimension {d}because "
                               "this dimension is empty and the operation does not have an identity")


class VectorNorm(Function):
    """(sum |x|^p)^(1/p) over `dims` (inf: max |x|, -inf: min |x|, 0: count of non-zeros).
    Backward: torch's norm_backward (ties of the inf norms share the gradient evenly; a zero
    vector's 2-norm has gradient 0). float16 is computed in float32 and rounded once (torch's
    accumulate type), so squares past float16's range do not overflow."""
    @staticmethod
    def forward(ctx, a, ord=2.0, dims=(), keepdim=False):
        x = ctx.b.to_host(a)
        ctx.half = x.dtype == np.float16
        x = x.astype(np.float32) if ctx.half else x
        ax = np.abs(x)
        with np.errstate(all="ignore"):
            if ord == _INF:
                out = np.max(ax, axis=dims, keepdims=True)
            elif ord == -_INF:
                out = np.min(ax, axis=dims, keepdims=True)
            elif ord == 0:
                out = np.sum(x != 0, axis=dims, keepdims=True).astype(x.dtype)
            elif ord == 1:
                out = np.sum(ax, axis=dims, keepdims=True)
            elif ord == 2:
                out = np.sqrt(np.sum(x * x, axis=dims, keepdims=True))
            else:
                out = np.sum(ax ** ord, axis=dims, keepdims=True) ** (1.0 / ord)
        out = row_major(np.asarray(out, dtype=x.dtype))   # torch's layout, whatever x's
        ctx.ord, ctx.dims = ord, dims
        ctx.save_for_backward(x, out)
        out = out.astype(np.float16) if ctx.half else out
        return ctx.b.asarray(out if keepdim else out.reshape([s for i, s in enumerate(out.shape) if i not in dims]))

    @staticmethod
    def backward(ctx, g):
        x, norm = ctx.saved_tensors
        p = ctx.ord
        if p == 0:   # no gradient at all (torch's undefined one: .grad stays None)
            return None
        g = ctx.b.to_host(g).reshape(norm.shape)
        with np.errstate(all="ignore"):
            if p == 1:
                d = np.sign(x) * g
            elif p == 2:
                d = g * np.where(norm == 0, 0.0, x / np.where(norm == 0, 1.0, norm))
            elif abs(p) == _INF:
                ax = np.abs(x)
                mask = (ax == norm) | np.isnan(ax)
                d = np.sign(x) * (g / np.sum(mask, axis=ctx.dims, keepdims=True) * mask)
            elif p < 1:
                scaled = np.where(x == 0, 0.0, np.sign(x) * np.abs(x) ** (p - 1))
                d = scaled * g * norm ** (1 - p)
            else:
                scaled = np.sign(x) * np.abs(x) ** (p - 1)
                scale = np.where(norm == 0, 0.0, g / norm ** (p - 1))
                d = scaled * scale
        return ctx.b.asarray(np.asarray(d, dtype=np.float16 if ctx.half else x.dtype))


def vector_norm_graph_backward(ctx, ps, grads):
    """VectorNorm's gradient with graphs (create_graph=True): torch's norm_backward written with
    Tensor ops, so its double backward differentiates that formula as torch's does (the masks
    give a zero vector, a zero entry of a p < 1 norm, its subgradient 0; negative p too)."""
    x, g, p = ps[0], grads[0], ctx.ord
    if p == 0 or g is None:
        return (None,)
    keep_shape = tuple(ctx.saved_tensors[1].shape)   # the norm's shape with the reduced dims kept
    g = g.reshape(keep_shape)
    norm = VectorNorm.apply(x, ord=p, dims=ctx.dims, keepdim=True)   # torch's result, with its graph
    if p == 1:
        return (x.sign() * g,)
    if p == 2:
        return (g * (x / norm).masked_fill(norm == 0, 0.0),)
    if abs(p) == _INF:   # ties (and nans) share the gradient
        ax = x.abs()
        mask = ((ax == norm) | ax.isnan()).to(dtype=x.dtype)
        return (x.sign() * ((g / mask.sum(ctx.dims, keepdim=True)) * mask),)
    if p < 1:
        return (x.sign() * (x.abs() ** (p - 1)).masked_fill(x == 0, 0.0) * g * norm ** (1 - p),)
    scaled = x.sign() * x.abs() ** (p - 1) if p < 2 else x * x.abs() ** (p - 2)
    return (scaled * (g / norm ** (p - 1)).masked_fill(norm == 0, 0.0),)


@takes_axis
@takes_out(same_dtype=True)
def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None):
    """torch.linalg.vector_norm: the ord-norm of x flattened (dim=None) or over dim."""
    if isinstance(ord, str) or not isinstance(ord, numbers.Real):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' must be Number, not {type(ord).__name__}")
    check_float("linalg.vector_norm", x, half_ok=True, argument="input")
    _check_dtype("linalg.vector_norm", x, dtype)
    if dtype is not None:
        x = x.to(dtype=dtype)
    dims = _dims(dim, x.ndim, "linalg.vector_norm")
    _check_identity(x, ord, dim)
    return VectorNorm.apply(x, ord=float(ord), dims=dims, keepdim=bool(keepdim))


_MATRIX_ORDS = ("fro", "nuc", 1, -1, 2, -2, _INF, -_INF)


@takes_axis
@takes_out(same_dtype=True)
def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):
    """torch.linalg.matrix_norm over the two dimensions `dim`: 'fro', 'nuc' (sum of singular
    values), 2 / -2 (largest / smallest singular value), 1 / -1 (max / min column sum of |A|),
    inf / -inf (max / min row sum)."""
    check_float("linalg.matrix_norm", A, half_ok=ord not in ("nuc", 2, -2), argument="input")
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    if isinstance(ord, str) and ord not in ("fro", "nuc") or not isinstance(ord, str) and ord not in _MATRIX_ORDS:
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if not isinstance(dim, (tuple, list)):   # torch's argument parser
        raise TypeError(f"linalg.matrix_norm(): argument 'dim' must be tuple of ints, not {type(dim).__name__}")
    dim = tuple(dim)
    if len(dim) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dim))}")
    d0, d1 = _dims(dim[0], A.ndim, "linalg.matrix_norm")[0], _dims(dim[1], A.ndim, "linalg.matrix_norm")[0]
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    _check_dtype("linalg.matrix_norm", A, dtype)
    if dtype is not None:
        A = A.to(dtype=dtype)
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    summed, across = (d0, d1) if ord in (1, -1) else (d1, d0)   # 1: column sums, inf: row sums
    if not (A.shape[d0] and A.shape[d1]) and ord != "nuc":   # an empty matrix: torch's max over nothing is 0
        if ord == -2 or ord < 0 and A.shape[across] == 0:   # torch's min over an empty dim (its reduced index)
            where = -1 if ord == -2 else across - (across > summed)
            raise IndexError(f"amin(): Expected reduction dim {where} to have non-zero size.")
        return (A.abs().sum((d0, d1), keepdim=True) if keepdim else A.abs().sum((d0, d1)))
    if ord in (1, -1, _INF, -_INF):
        sums = A.abs().sum(summed, keepdim=True)
        out = sums.amax(across, keepdim=True) if ord > 0 else sums.amin(across, keepdim=True)
        return out if keepdim else out.squeeze((d0, d1))
    from tinygrad_seq.linalg import svdvals
    s = svdvals(A.movedim((d0, d1), (-2, -1)))
    out = s.sum(-1) if ord == "nuc" else (s.amax(-1) if ord == 2 else s.amin(-1))
    if keepdim:
        for d in sorted((d0, d1)):
            out = out.unsqueeze(d)
    return out


@takes_axis
@takes_out(same_dtype=True)
def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):
    """torch.linalg.norm: a matrix norm where ord is given and dim has two entries (or A is 2-D
    and dim is None), a vector norm otherwise (ord=None: the 2-norm of the flattened input)."""
    require_tensor_argument(A, "linalg_norm", "input", 1)
    if dim is not None:
        dim = (dim,) if isinstance(dim, numbers.Integral) else tuple(dim)
        if len(dim) not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dim)}")
    if isinstance(ord, str):
        if dim is None and A.ndim != 2:
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 2D. Got {A.ndim}D.")
        if dim is not None and len(dim) != 2:
            raise RuntimeError(f"linalg.norm: If ord is a string, dim must be of length 2. Got {list(dim)}")
        return matrix_norm(A, ord, dim or (-2, -1), keepdim, dtype=dtype)
    if dim is None and ord is not None and A.ndim not in (1, 2):
        raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got {A.ndim}D.")
    if ord is not None and (dim is not None and len(dim) == 2 or dim is None and A.ndim == 2):
        return matrix_norm(A, ord, dim or (0, 1), keepdim, dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
