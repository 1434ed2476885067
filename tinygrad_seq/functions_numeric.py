"""torch's top-level numeric functions that compose from the Tensor ops and torch.linalg /
torch.special: tensordot, isin, frexp, polygamma, mvlgamma, the trapezoid rules, and the older
names of the linalg ones (det, inverse, slogdet, logdet, pinverse, svd, qr, cholesky,
cholesky_solve, cholesky_inverse). Autograd differentiates the compositions; linalg and special
load on first use."""
import numbers

import warnings

import numpy as np

from tinygrad_seq.autograd import Function
from tinygrad_seq.dim_alias import dim_from_axis
from tinygrad_seq.grad_fn_names import named
from tinygrad_seq.tensor import Tensor
from tinygrad_seq.tensor_reduce import return_type

FrexpResult = return_type("frexp", ("mantissa", "exponent"))
SlogdetResult = return_type("slogdet", ("sign", "logabsdet"))
SvdResult = return_type("svd", ("U", "S", "V"))
QrResult = return_type("qr", ("Q", "R"))
TriangularSolveResult = return_type("triangular_solve", ("solution", "cloned_coefficient"))


def tensordot(a, b, dims=2, out=None):
    """Contract the last `dims` dimensions of a with the first `dims` of b, or the listed pairs
    (dims=([a dims], [b dims])); the free dimensions of a then of b remain. out=: torch's (its
    dtype must be the result's; resized as needed)."""
    result = _tensordot(a, b, dims)
    if out is None:
        return result
    if isinstance(out, Tensor) and out.dtype != result.dtype:
        from tinygrad_seq.tensor_matmul import scalar_name
        raise RuntimeError(f"tensordot: Expected the output tensor to have dtype {scalar_name(result.dtype)}, but got "
                           f"an output tensor with dtype {scalar_name(out.dtype)}")
    from tinygrad_seq.functions import _into
    return _into(out, result.detach(), "tensordot")   # torch's tensordot out= does not refuse a graph


def _tensordot(a, b, dims):
    if a.dtype != b.dtype:
        raise RuntimeError("both inputs should have same dtype")
    if isinstance(dims, Tensor):
        dims = dims.item() if dims.ndim == 0 else dims.tolist()
    if isinstance(dims, numbers.Integral):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        dims_a, dims_b = ([d] if isinstance(d, numbers.Integral) else list(d) for d in dims)
    if len(dims_a) != len(dims_b):
        raise RuntimeError("both dimension lists should have same length")
    dims_a, dims_b = _wrapped_dims(dims_a, a.ndim), _wrapped_dims(dims_b, b.ndim)
    for da, db in zip(dims_a, dims_b):
        if a.shape[da] == b.shape[db]:
            continue
        # a size-1 contracted dim broadcasts, as torch's: the other side is summed over it first
        if b.shape[db] == 1:
            a = a.sum(da, keepdim=True, dtype=a.dtype)
        elif a.shape[da] == 1:
            b = b.sum(db, keepdim=True, dtype=b.dtype)
        else:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a.shape[da]} in dim {da} "
                               f"and second has size {b.shape[db]} in dim {db}")
    free_a = [d for d in range(a.ndim) if d not in dims_a]
    free_b = [d for d in range(b.ndim) if d not in dims_b]
    k, m, n = (int(np.prod([t.shape[d] for d in ds], dtype=np.int64))
               for t, ds in ((a, dims_a), (a, free_a), (b, free_b)))
    left = a.permute(*free_a, *dims_a).reshape(m, k)      # [free_a..., contracted] (k may be 0: zeros)
    right = b.permute(*dims_b, *free_b).reshape(k, n)     # [contracted, free_b...]
    return (left @ right).reshape((*[a.shape[d] for d in free_a], *[b.shape[d] for d in free_b]))


def _wrapped_dims(dims, ndim):
    n = max(ndim, 1)
    for d in dims:
        if not -n <= d < n:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
    return [d % n for d in dims]


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """A bool tensor of elements' shape: whether each is in test_elements (either may be a
    number); invert gives the complement. No gradient."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin(): expected at least one Tensor argument")
    ref = elements if isinstance(elements, Tensor) else test_elements
    values = elements.numpy() if isinstance(elements, Tensor) else np.asarray(elements)
    tests = test_elements.numpy() if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    out = np.isin(values, tests, assume_unique=assume_unique, invert=invert)
    return Tensor._wrap(np.array(out, dtype=np.bool_), "cpu").to(ref.device)


class Frexp(Function):
    """(mantissa, exponent) of each element; the mantissa's gradient is 2^-exponent (torch's)."""
    @staticmethod
    def forward(ctx, a):
        x = ctx.b.to_host(a)
        mantissa, exponent = np.frexp(x)
        exponent = exponent.astype(np.int32)
        ctx.save_for_backward(exponent)
        return ctx.b.asarray(mantissa), ctx.b.asarray(exponent)

    @staticmethod
    def backward(ctx, g_mantissa, g_exponent):
        exponent, = ctx.saved_tensors
        g = ctx.b.to_host(g_mantissa)
        with np.errstate(over="ignore"):
            return ctx.b.asarray(g / np.exp2(exponent).astype(g.dtype))


def frexp_graph_backward(ctx, ps, grads):
    """Frexp's gradient with a graph (create_graph=True): torch's grad / exponent.exp2(), the
    exponent a constant, so only the incoming gradient carries a graph."""
    g = grads[0]
    if g is None:
        return (None,)
    exponent, = ctx.saved_tensors
    with np.errstate(over="ignore"):
        scale = np.exp2(exponent).astype(g.dtype)
    return (g / Tensor._wrap(ctx.b.asarray(scale), g.device),)


def frexp(input, *, out=None):
    """(mantissa, exponent) with input = mantissa * 2^exponent, |mantissa| in [0.5, 1) (0, inf and
    nan keep exponent 0); exponent is int32. out=(mantissa, exponent): out_param.write_frexp_out."""
    if input.dtype.kind != "f":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    result = FrexpResult(*Frexp.apply(input))
    if out is None:
        return result
    from tinygrad_seq.out_param import write_frexp_out
    return write_frexp_out(input, out, result)


def polygamma(n, input, *, out=None):
    from tinygrad_seq import special
    return special.polygamma(n, input, out=out)


def mvlgamma(input, p, *, out=None):
    from tinygrad_seq import special
    return special.multigammaln(input, p, out=out)


def _spacing(y, x, dx, dim, name):
    """The widths of the intervals along dim: x's differences (x 1-D, or broadcasting with y), or dx."""
    n = y.shape[dim]
    if x is None:
        return 1.0 if dx is None else dx
    if x.ndim == 1:
        if x.shape[0] != n:
            raise RuntimeError(f"{name}: There must be one `x` value for each sample point")
        return x.diff().reshape(tuple([n - 1 if d == dim else 1 for d in range(y.ndim)]))
    return x.diff(dim=dim - y.ndim if dim - y.ndim >= -x.ndim else dim)


def _along(y, dim, name):
    if y.ndim == 0:
        raise IndexError(f"{name}: Dimension out of range (expected to be in range of [-1, 0], but got {dim})")
    if not -y.ndim <= dim < y.ndim:
        raise IndexError(f"{name}: Dimension out of range (expected to be in range of [{-y.ndim}, {y.ndim - 1}], "
                         f"but got {dim})")
    return y._floating(), dim % y.ndim


def trapezoid(y, x=None, *, dx=None, dim=-1, axis=None):
    """The trapezoid rule along dim: sum of (y[i] + y[i+1]) / 2 * (x[i+1] - x[i]), or * dx."""
    if axis is not None:   # numpy's name for dim, which torch takes too
        dim = dim_from_axis(dim, axis, "trapezoid", -1)
    if x is not None and dx is not None:
        raise TypeError("trapezoid(): pass either x or dx, not both")
    given, (y, d) = y, _along(y, dim, "trapezoid")
    n = y.shape[d]
    if n == 0:   # torch's zeros of y's dtype (bool too), without a graph
        return given.new_zeros(given.shape[:d] + given.shape[d + 1:])
    _refuse_bool(given, x, dx, "trapezoid")
    mids = (y.narrow(d, 0, n - 1) + y.narrow(d, 1, n - 1)) * 0.5
    # torch's last node: the * dx of its sum - ends / 2, or the / 2 of its sum of dx * (y[i] + y[i+1])
    return named((mids * _spacing(y, x, dx, d, "trapezoid")).sum(d), "MulBackward1" if x is None else "DivBackward1")


def _refuse_bool(y, x, dx, name):
    """torch's RuntimeErrors for a bool y or x, or a bool or complex dx."""
    if x is not None and np.bool_ in (y.dtype, getattr(x, "dtype", None)):
        raise RuntimeError(f"{name}: received a bool input for `x` or `y`, but bool is not supported")
    if y.dtype == np.bool_:
        raise RuntimeError(f"{name}: received a bool input for `y`, but bool is not supported")
    if isinstance(dx, (bool, np.bool_, complex)):
        raise RuntimeError(f"{name}: Currently, we only support dx as a real number.")


trapz = trapezoid


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1, axis=None):
    """The running trapezoid rule along dim (one entry fewer than y there)."""
    if axis is not None:   # numpy's name for dim, which torch takes too
        dim = dim_from_axis(dim, axis, "cumulative_trapezoid", -1)
    if x is not None and dx is not None:
        raise TypeError("cumulative_trapezoid(): pass either x or dx, not both")
    _refuse_bool(y, x, dx, "cumulative_trapezoid")
    y, d = _along(y, dim, "cumulative_trapezoid")
    n = y.shape[d]
    if n == 0:
        return y
    mids = (y.narrow(d, 0, n - 1) + y.narrow(d, 1, n - 1)) * 0.5
    result = (mids * _spacing(y, x, dx, d, "cumulative_trapezoid")).cumsum(d)
    return result if x is None else named(result, "DivBackward1")   # torch's: a cumsum of dx * (...), / 2


def det(input):
    from tinygrad_seq import linalg
    return linalg.det(input)


def matrix_exp(input):
    from tinygrad_seq import linalg
    from tinygrad_seq.argument_types import require_tensor_argument
    require_tensor_argument(input, "matrix_exp", "input", 1)   # torch's name for the op here
    return linalg.matrix_exp(input)


def inverse(input, *, out=None):
    from tinygrad_seq import linalg
    return linalg.inv(input, out=out)


def slogdet(input, *, out=None):
    from tinygrad_seq import linalg
    result = SlogdetResult(*linalg.slogdet(input))
    return result if out is None else _write_out("slogdet", out, result)


def logdet(input):
    """log(det): nan where det < 0 (a zero gradient there, as torch's where), -inf where it is 0
    (elsewhere the gradient comes from log|det|)."""
    from tinygrad_seq.grad_fn_names import named
    sign, logabs = slogdet(input)
    return named(logabs.masked_fill(sign.detach() < 0, float("nan")), "WhereBackward0")


def pinverse(input, rcond=1e-15):
    from tinygrad_seq import linalg
    return linalg.pinv(input, rcond=rcond)


def svd(input, some=True, compute_uv=True, *, out=None):
    """torch's older svd: (U, S, V) with input = U diag(S) V^T (V, not linalg.svd's Vh); some=False
    gives square U and V; compute_uv=False gives S with zero-filled U [..., M, M] and V [..., N, N]."""
    from tinygrad_seq import linalg
    from tinygrad_seq.creation import zeros
    if not compute_uv:
        s = linalg.svdvals(input)
        m, n = input.shape[-2:]
        blank = [zeros(*input.shape[:-2], k, k, dtype=input.dtype).to(input.device) for k in (m, n)]
        result = SvdResult(blank[0], s, blank[1])
    else:
        u, s, vh = linalg.svd(input, full_matrices=not some)
        result = SvdResult(u, s, vh.mT)
    return result if out is None else _write_out("svd", out, result)


def qr(input, some=True, *, out=None):
    """torch's older qr: linalg.qr(input, 'reduced' if some else 'complete'), with its warning."""
    from tinygrad_seq import linalg
    warnings.warn("torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future PyTorch "
                  "release.", UserWarning, stacklevel=2)
    result = QrResult(*linalg.qr(input, "reduced" if some else "complete"))
    return result if out is None else _write_out("qr", out, result)


def cholesky(input, upper=False, *, out=None):
    """torch's older cholesky: linalg.cholesky(input, upper=upper), with its warning."""
    from tinygrad_seq import linalg
    warnings.warn("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a future "
                  "PyTorch release.", UserWarning, stacklevel=2)
    return linalg.cholesky(input, upper=upper, out=out)


def triangular_solve(b, A, upper=True, transpose=False, unitriangular=False, *, out=None):
    """torch's older triangular_solve (arguments reversed from linalg.solve_triangular): the
    solution X of A X = b (A^T X = b with transpose) and a copy of A, with its warning."""
    from tinygrad_seq import linalg
    warnings.warn("torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangular and will be "
                  "removed in a future PyTorch release.", UserWarning, stacklevel=2)
    coefficient = A.mT if transpose else A
    solution = linalg.solve_triangular(coefficient, b, upper=upper != bool(transpose), unitriangular=unitriangular)
    batch = np.broadcast_shapes(tuple(b.shape[:-2]), tuple(A.shape[:-2]))   # A's copy in the batch's shape
    result = TriangularSolveResult(solution, A.expand(*batch, *A.shape[-2:]).clone())
    return result if out is None else _write_out("triangular_solve", out, result)


def chain_matmul(*matrices, out=None):
    """torch's older chain_matmul: linalg.multi_dot of its arguments, with its warning."""
    from tinygrad_seq import linalg
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
                  "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than "
                  "multiple parameters.", UserWarning, stacklevel=2)
    for k, m in enumerate(matrices):
        if m.ndim != 2:
            raise RuntimeError(f"chain_matmul(): Tensor {k} must have 2 dimensions, got {m.ndim}")
    if len(matrices) == 1:
        result = matrices[0].clone()
        return result if out is None else out.resize_(result.shape).copy_(result)
    return linalg.multi_dot(list(matrices), out=out)


def _factor(name, L):
    from tinygrad_seq.linalg import _matrices
    _matrices(name, L)


def cholesky_solve(input, input2, upper=False, *, out=None):
    """X with A X = input for A = L L^T (upper: U^T U), L = input2's lower (upper) triangle;
    input [..., N, K], batches broadcast. torch's gradients into both."""
    from tinygrad_seq.ops_linalg import CholeskySolve
    _factor("cholesky_solve", input2)
    if input.ndim < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {input.ndim} dimensions instead")
    if input.dtype != input2.dtype:
        from tinygrad_seq.tensor_matmul import scalar_name
        raise RuntimeError(f"Expected b and A to have the same dtype, but found b of type {scalar_name(input.dtype)} "
                           f"and A of type {scalar_name(input2.dtype)} instead.")
    n = input2.shape[-1]
    if input.shape[-2] != n:
        raise RuntimeError(f"Incompatible matrix sizes for cholesky_solve: each A matrix is {n} by {n} but each b "
                           f"matrix is {input.shape[-2]} by {input.shape[-1]}")
    result = CholeskySolve.apply(input, input2, upper=bool(upper))
    return result if out is None else _write_out("cholesky_solve", out, result)


def cholesky_inverse(input, upper=False, *, out=None):
    """(L L^T)^-1 (upper: (U^T U)^-1) from the factor's triangle: A's inverse from its Cholesky factor."""
    from tinygrad_seq.ops_linalg import CholeskyInverse
    if input.ndim < 2:
        raise RuntimeError("cholesky_inverse: The input tensor A must have at least 2 dimensions.")
    _factor("cholesky_inverse", input)
    result = CholeskyInverse.apply(input, upper=bool(upper))
    return result if out is None else _write_out("cholesky_inverse", out, result)


def _write_out(name, out, result):
    from tinygrad_seq.out_param import write_out
    return write_out(name, out, result, same_dtype=True)
