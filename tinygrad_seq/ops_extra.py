"""Differentiable ops beyond ops.py's primitives: more elementwise functions, softmax, cumulative
sums and products, and the gathers and scatters of indexing (gather, scatter, index_put)."""
import numpy as np

from tinygrad_seq.elementwise_layout import elementwise, relaid_as_elementwise
from tinygrad_seq.autograd import Function
from tinygrad_seq.backend_cpu_reduce import row_major
from tinygrad_seq.indexing import index_arrays


class Clone(Function):
    @staticmethod
    def forward(ctx, a):
        return ctx.b.copy(a)

    @staticmethod
    def backward(ctx, g):
        return g


class Reciprocal(Function):
    """1 / a saving only its result (torch's ReciprocalBackward0: a write to the input after the
    call leaves the gradient alone; a write to the result is caught)."""
    @staticmethod
    def forward(ctx, a):
        out = elementwise(ctx.b.div, np.array(1, a.dtype), a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        out = ctx.saved_tensors[0]
        return ctx.b.mul(ctx.b.neg(g), ctx.b.mul(out, out))   # torch's -grad * (result * result)


class ReciprocalTimes(Function):
    """number / a as torch computes it, reciprocal(a) * number, in one node (one op's cost where
    two cost 50% more a call): only the reciprocal r is kept, an array no one else holds, so a
    write to a after the call is no error, as torch's. Gradient -(g number) (r r)."""
    @staticmethod
    def forward(ctx, a, number=1.0):
        r = elementwise(ctx.b.div, np.array(1, a.dtype), a)
        ctx.save_for_backward(r)
        ctx.number = number
        return ctx.b.mul(r, number)

    @staticmethod
    def backward(ctx, g):
        r = ctx.saved_tensors[0]
        return ctx.b.mul(ctx.b.neg(ctx.b.mul(g, ctx.number)), ctx.b.mul(r, r))


class Sin(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.b.sin(a)

    @staticmethod
    def backward(ctx, g):
        return ctx.b.mul(g, ctx.b.cos(ctx.saved_tensors[0]))


class Cos(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.b.cos(a)

    @staticmethod
    def backward(ctx, g):
        return ctx.b.neg(ctx.b.mul(g, ctx.b.sin(ctx.saved_tensors[0])))


class Log1p(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.b.log1p(a)

    @staticmethod
    def backward(ctx, g):
        return ctx.b.div(g, ctx.b.add(ctx.saved_tensors[0], 1))


class Expm1(Function):
    @staticmethod
    def forward(ctx, a):
        out = ctx.b.expm1(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        return ctx.b.mul(g, ctx.b.add(ctx.saved_tensors[0], 1))


class Rounding(Function):
    """floor, ceil, rint, trunc, sign: piecewise constant, so the gradient is zero (torch's)."""
    @staticmethod
    def forward(ctx, a, fn="floor"):
        ctx.fn = fn   # torch's node name (grad_fn_names.py)
        return getattr(ctx.b, fn)(a)

    @staticmethod
    def backward(ctx, g):
        return ctx.b.zeros(g.shape, g.dtype)


class FloorDivide(Function):
    """a // b of floats: the exact floored quotient (7.0 // 0.1 is 69, as Python's, numpy's and
    torch's; floor(a / b) gives 70), its gradient zero for both, also where b is 0 (torch's
    div(rounding_mode='floor'))."""
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = [(a.shape, a.dtype), (b.shape, b.dtype)]
        return relaid_as_elementwise(ctx.b.floor_divide(a, b), a, b)   # (host arrays: torch's layout)

    @staticmethod
    def backward(ctx, g):
        return tuple(ctx.b.zeros(shape, dtype) for shape, dtype in ctx.shapes)


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, dim=-1):
        out = ctx.b.log_softmax(x, dim)
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, g):
        B, (out,) = ctx.b, ctx.saved_tensors
        if len(out.shape):   # (backend_cpu's runs the row kernels on the last axis of float arrays)
            return B.log_softmax_backward(g, out, ctx.dim)
        return B.sub(g, B.mul(B.exp(out), B.sum(g, axis=None, keepdims=True)))   # 0-d: its own element


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, dim=-1):
        out = ctx.b.softmax(x, dim)
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx, g):
        B, (out,) = ctx.b, ctx.saved_tensors
        if len(out.shape):
            return B.softmax_backward(g, out, ctx.dim)
        return B.mul(out, B.sub(g, B.sum(B.mul(g, out), axis=None, keepdims=True)))   # 0-d: its own element


class LogSumExp(Function):
    """log(sum(exp(x))) over `dims` (a tuple of axes), in one node (a CRF's forward algorithm or a
    mixture's log-likelihood calls it every step): the sum of exp(x - max) plus max on the host;
    float16 as torch's CPU kernel rounds it, at each step (x - max, exp, the sum accumulated in
    float32, log, + max); backward g * exp(x - result), torch's logsumexp_backward (a row of
    -inf: nan, as torch's)."""
    @staticmethod
    def forward(ctx, x, dims=(), keepdim=False):
        ctx.dims, ctx.keepdim = dims, keepdim
        shift = np.max(x, axis=dims, keepdims=True)
        shift = np.where(np.isfinite(shift), shift, 0).astype(x.dtype)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            total = np.sum(np.exp(x - shift), axis=dims, keepdims=True,
                           dtype=np.float32 if x.dtype == np.float16 else None).astype(x.dtype)
            out = np.log(total) + shift
        out = row_major(out if keepdim else out.squeeze(dims))   # torch's layout, whatever x's
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        B, (x, out) = ctx.b, ctx.saved_tensors
        if not ctx.keepdim:   # the reduced dims back as size 1, to broadcast against x
            kept = tuple(1 if d in ctx.dims else n for d, n in enumerate(x.shape))
            g, out = B.reshape(g, kept), B.reshape(out, kept)
        with np.errstate(invalid="ignore"):
            return B.mul(g, B.exp(B.sub(x, out)))


def _reverse(B, a, dim):
    idx = (slice(None),) * dim + (slice(None, None, -1),)
    return B.ascontiguous(B.getitem(a, idx))


class CumSum(Function):
    @staticmethod
    def forward(ctx, a, dim=0):
        ctx.dim = dim
        return ctx.b.cumsum(a, dim)

    @staticmethod
    def backward(ctx, g):
        B = ctx.b   # each input feeds every later output: a reversed cumulative sum
        return _reverse(B, B.cumsum(_reverse(B, g, ctx.dim), ctx.dim), ctx.dim)


def _scan_product(B, a, d):
    """Running products along d in a's dtype (B.cumprod scans float32 in float64, as torch's cumprod)."""
    if type(a) is np.ndarray:
        with np.errstate(over="ignore", invalid="ignore"):
            return np.cumprod(a, axis=d)
    return B.cumprod(a, d)


class Prod(Function):
    """Product along dim (or of all elements when dim is None). The gradient of element i is the
    product of the others, formed from exclusive prefix and suffix products, so zeros are exact."""
    @staticmethod
    def forward(ctx, a, dim=None, keepdim=False):
        B = ctx.b
        ctx.shape, ctx.dim, ctx.keepdim = tuple(a.shape), dim, keepdim
        flat = B.reshape(a, (-1,)) if dim is None else a
        d = 0 if dim is None else dim
        ctx.save_for_backward(flat)
        n = flat.shape[d]
        if type(flat) is np.ndarray:   # one multiplying pass in the input's dtype (torch's order along an outer dim)
            with np.errstate(over="ignore", invalid="ignore"):
                last = np.multiply.reduce(flat, axis=d, keepdims=True)
        else:
            out = B.cumprod(flat, d)
            last = B.getitem(out, (slice(None),) * d + (slice(n - 1, n) if n else slice(0, 0),))
        if n == 0:
            last = B.ones(tuple(1 if i == d else s for i, s in enumerate(flat.shape)), a.dtype)
        if dim is None:
            return B.reshape(last, ())
        last = B.ascontiguous(last)   # a fresh row-major result, as torch's (not a view of the scan)
        return last if keepdim else B.reshape(last, ctx.shape[:dim] + ctx.shape[dim + 1:])

    @staticmethod
    def backward(ctx, g):
        B = ctx.b
        flat, = ctx.saved_tensors
        d = 0 if ctx.dim is None else ctx.dim
        n = flat.shape[d]
        if 0 in tuple(flat.shape):   # nothing to differentiate (an empty product is the constant 1)
            return B.zeros(ctx.shape, flat.dtype)
        ones = B.ones(tuple(1 if i == d else s for i, s in enumerate(flat.shape)), flat.dtype)
        head = (slice(None),) * d
        before = B.concatenate([ones, B.getitem(_scan_product(B, flat, d), head + (slice(0, n - 1),))], d)
        rev = _reverse(B, flat, d)
        after = _reverse(B, B.concatenate([ones, B.getitem(_scan_product(B, rev, d), head + (slice(0, n - 1),))], d), d)
        others = B.mul(before, after)
        gk = B.reshape(g, tuple(ones.shape)) if ctx.dim is not None else B.reshape(g, (1,))
        return B.reshape(B.mul(others, gk), ctx.shape)


class Gather(Function):
    """out[i][j] = a[index[i][j]][j] along dim (torch.gather); index is an int array kwarg."""
    holds_saved = True   # its index, saved in torch's node: a second backward raises
    @staticmethod
    def forward(ctx, a, dim=0, index=None):
        ctx.shape, ctx.dim, ctx.index = tuple(a.shape), dim, index
        return ctx.b.gather(a, dim, index)

    @staticmethod
    def backward(ctx, g):
        B = ctx.b
        return B.scatter_add(B.zeros(ctx.shape, g.dtype), ctx.dim, ctx.index, g)


class Scatter(Function):
    """out = a with src written at index along dim (reduce=None) or added there ('add')."""
    @staticmethod
    def forward(ctx, a, src, dim=0, index=None, add=False):
        ctx.dim, ctx.index, ctx.add, ctx.src_shape = dim, index, add, tuple(src.shape)
        # torch's node saves the index where its backward reads it (a second backward then raises):
        # a write's always, an add's only for a source that needs a gradient
        ctx.holds_saved = not add or ctx.needs_input_grad[1]
        B = ctx.b
        out = B.copy(a)
        return B.scatter_add(out, dim, index, src) if add else B.scatter(out, dim, index, src)

    @staticmethod
    def backward(ctx, g):
        B = ctx.b
        ga = g if ctx.add else B.scatter(B.copy(g), ctx.dim, ctx.index, B.zeros(ctx.index.shape, g.dtype))
        gs = None
        if ctx.needs_input_grad[1]:
            picked = B.gather(g, ctx.dim, ctx.index)      # index.shape
            gs = B.zeros(ctx.src_shape, g.dtype)
            gs = B.setitem(gs, tuple(slice(0, s) for s in ctx.index.shape), picked)
        return ga, gs


class IndexPut(Function):
    """out = a with out[idx] = v (torch's index_put / item assignment); v broadcasts to the
    indexed region. The gradient of a is g with the written region zeroed; v's is g[idx]."""
    holds_saved = True   # its indices, saved in torch's index_put / CopySlices nodes: a second backward raises

    @staticmethod
    def forward(ctx, a, v, idx=None):
        ctx.idx, ctx.write_checked = idx, index_arrays(idx)   # an index written in place after: backward raises
        B = ctx.b
        return B.setitem(B.copy(a), idx, v)

    @staticmethod
    def backward(ctx, g):
        B = ctx.b
        ga = B.setitem(B.copy(g), ctx.idx, 0) if ctx.needs_input_grad[0] else None
        gv = B.ascontiguous(B.getitem(g, ctx.idx)) if ctx.needs_input_grad[1] else None
        return ga, gv


class IndexPutInto(IndexPut):
    """IndexPut written into the array `into` (the tensor's own memory; inplace._put_in_graph):
    input a only stands for the tensor's node before the write, its values are never read."""
    @staticmethod
    def forward(ctx, a, v, idx=None, into=None):
        ctx.idx, ctx.write_checked = idx, index_arrays(idx)
        return ctx.b.setitem(into, idx, v)


class Softplus(Function):
    """log(1 + exp(x)) as log1p(exp(-|x|)) + max(x, 0) (no overflow), its gradient sigmoid(x):
    0.5 at x = 0, as torch's softplus, logsigmoid and BCE-with-logits backward, where the
    composition of abs and relu gave 0 there (a zero-initialised logit's first step)."""
    @staticmethod
    def forward(ctx, x):
        B = ctx.b
        ctx.save_for_backward(x)
        return B.add(B.log1p(B.exp(B.neg(B.abs(x)))), B.maximum(x, 0))

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return ctx.b.mul(g, ctx.b.sigmoid(x))


class Root(Function):
    """a ** (1/p) of a >= 0 (the last step of a p-norm or a standard deviation), its gradient 0
    where a == 0: torch's norm and std backward mask that point, where the plain power's
    gradient is 0 * inf (a zero row's norm, a constant row's std)."""
    @staticmethod
    def forward(ctx, a, p=2.0):
        B = ctx.b
        out = B.sqrt(a) if p == 2 else B.power(a, 1.0 / p)
        ctx.save_for_backward(a, out)
        ctx.p = p
        return out

    @staticmethod
    def backward(ctx, g):
        a, out = ctx.saved_tensors
        B = ctx.b
        zero = B.eq(a, 0)
        if ctx.p == 2:   # torch's g / (2 sqrt(a)): 0 at an inf a (out / (2 a) would be inf / inf)
            d = B.div(0.5, B.where(zero, B.ones(a.shape, a.dtype), out))
        else:
            d = B.div(B.mul(out, 1.0 / ctx.p), B.where(zero, B.ones(a.shape, a.dtype), a))   # (1/p) a^(1/p-1)
        return B.mul(g, B.where(zero, B.zeros(a.shape, a.dtype), d))


class MeanDivide(Function):
    """mean's sum / count (a Python int): torch's MeanBackward saves no tensor, so a second
    backward through a mean runs, where a division saving its operands would raise."""
    saved_are_inputs = True   # (none: its create_graph backward reruns backward on the graph backend)

    @staticmethod
    def forward(ctx, s, count=1):
        ctx.count = count
        return ctx.b.div(s, count)

    @staticmethod
    def backward(ctx, g):
        return ctx.b.div(g, ctx.count)


class ZeroCarryingGrad(Function):
    """Zeros shaped as x that pass the gradient to x unchanged: the x - x.detach() of a value
    written as value.detach() + (x - x.detach()) * slope, without its nan where x is inf (inf - inf;
    hardsigmoid(inf) is 1 in torch, its gradient 0; hardswish(inf)'s gradient is 1)."""
    saved_are_inputs = True   # create_graph: the gradient again (linear, no saved value)

    @staticmethod
    def forward(ctx, x):
        return ctx.b.zeros(tuple(x.shape), x.dtype)

    @staticmethod
    def backward(ctx, g):
        return g
