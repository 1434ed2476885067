"""Primitive differentiable ops. Each works on raw arrays through ctx.b (the device's backend);
gradients may come back in broadcast shape: autograd._unbroadcast reduces them, in one place."""
import math
import operator
from functools import partial

import numpy as np

from tinygrad_seq import outer_grad as _outer
from tinygrad_seq.autograd import Function
from tinygrad_seq.dim_arg import dim_int, is_one_int
from tinygrad_seq.elementwise_layout import elementwise, relaid_as_elementwise
from tinygrad_seq.indexing import index_arrays, index_laid_as_torch


# ---------------------------------------------------------------- elementwise, binary
class Add(Function):
    @staticmethod
    def forward(ctx, a, b):
        return elementwise(ctx.b.add, a, b)

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Function):
    @staticmethod
    def forward(ctx, a, b):
        return elementwise(ctx.b.sub, a, b)

    @staticmethod
    def backward(ctx, g):
        return g, (ctx.b.neg(g) if ctx.needs_input_grad[1] else None)


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        na, nb = ctx.needs_input_grad  # keep only what backward reads (torch's saved-tensor rule)
        ctx.save_for_backward(a if nb else None, b if na else None)
        return elementwise(ctx.b.mul, a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        na, nb = ctx.needs_input_grad
        return (ctx.b.mul(g, b) if na else None), (ctx.b.mul(g, a) if nb else None)


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)   # (a only for b's gradient, as torch's)
        return elementwise(ctx.b.div, a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        B = ctx.b
        ga = B.div(g, b) if ctx.needs_input_grad[0] else None
        # torch's -g * ((a / b) / b): no overflow of b * b or g * a (1e20 / 1e20, a 0 over a subnormal b)
        gb = B.mul(B.neg(g), B.div(B.div(a, b), b)) if ctx.needs_input_grad[1] else None
        return ga, gb


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b):
        out = elementwise(ctx.b.power, a, b)
        # the output only for the exponent's gradient (torch's pow by a number saves only a: an
        # in-place op on the result may follow)
        ctx.save_for_backward(a, b, out if ctx.needs_input_grad[1] else None)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        B = ctx.b
        ga = gb = None
        if ctx.needs_input_grad[0]:
            # b * a^(b-1), written so that a=0, b=2 gives 0 and not 0*inf; 0 where b == 0 (a^0
            # is constant: torch masks it, a=0 would give 0 * inf)
            with np.errstate(divide="ignore", invalid="ignore"):   # the masked entries' 0 * inf
                d = B.mul(b, B.power(a, B.sub(b, 1)))
            ga = B.mul(g, B.where(B.eq(b, 0), B.zeros(d.shape, d.dtype), d))
        if ctx.needs_input_grad[1]:
            # d/db a^b = a^b log a, masked to 0 where a == 0 and b >= 0 (torch's formula); a == 0
            # with b < 0 keeps inf * log 0 = -inf (or +inf for -0.0 with an odd b)
            with np.errstate(divide="ignore", invalid="ignore"):
                d = B.mul(out, B.log(a))
            gb = B.mul(g, B.where(B.logical_and(B.eq(a, 0), B.ge(b, 0)), B.zeros(d.shape, d.dtype), d))
        return ga, gb


class Maximum(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return elementwise(ctx.b.maximum, a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        B = ctx.b
        # torch's: ties split g evenly (a divisor: an inf of g stays inf), the smaller side's is 0 by
        # a select (an inf or nan of g too); a nan in a or b (neither smaller) passes g to both
        split = B.div(g, B.add(B.astype(B.eq(a, b), g.dtype), 1))   # g / 2 at a tie, exact
        na, nb = ctx.needs_input_grad
        return (B.zero_where(B.lt(a, b), split) if na else None), (B.zero_where(B.gt(a, b), split) if nb else None)


# ---------------------------------------------------------------- elementwise, unary
class Neg(Function):
    @staticmethod
    def forward(ctx, a):
        return ctx.b.neg(a)

    @staticmethod
    def backward(ctx, g):
        return ctx.b.neg(g)


class Exp(Function):
    @staticmethod
    def forward(ctx, a):
        out = ctx.b.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        return ctx.b.mul(g, ctx.saved_tensors[0])


class Log(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.b.log(a)

    @staticmethod
    def backward(ctx, g):
        return ctx.b.div(g, ctx.saved_tensors[0])


class Tanh(Function):
    @staticmethod
    def forward(ctx, a):
        out = ctx.b.tanh(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        return ctx.b.tanh_backward(g, ctx.saved_tensors[0])   # g (1 - y^2), one pass on the CPU


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, a):
        out = ctx.b.sigmoid(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        return ctx.b.sigmoid_backward(g, ctx.saved_tensors[0])   # g (1 - y) y, one pass on the CPU


class Relu(Function):
    @staticmethod
    def forward(ctx, a):
        out = ctx.b.relu(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        # torch's threshold_backward: 0 where the output is <= 0 (an inf or nan of g too), else g
        return ctx.b.relu_backward(g, ctx.saved_tensors[0])


class Abs(Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.b.abs(a)

    @staticmethod
    def backward(ctx, g):
        return ctx.b.mul(g, ctx.b.sign(ctx.saved_tensors[0]))


class Sqrt(Function):
    @staticmethod
    def forward(ctx, a):
        out = ctx.b.sqrt(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        return ctx.b.div(g, ctx.b.mul(ctx.saved_tensors[0], 2))


class Clamp(Function):
    @staticmethod
    def forward(ctx, a, lo=None, hi=None):
        ctx.save_for_backward(a)
        ctx.lo, ctx.hi = lo, hi
        return ctx.b.clip(a, lo, hi)

    @staticmethod
    def backward(ctx, g):
        a, = ctx.saved_tensors
        B = ctx.b
        # torch's: g where lo <= a <= hi, else 0 by a select (an inf or nan of g too; a nan a drops)
        if ctx.lo is not None:
            g = B.zero_where(B.logical_not(B.ge(a, ctx.lo)), g)
        if ctx.hi is not None:
            g = B.zero_where(B.logical_not(B.le(a, ctx.hi)), g)
        return g


class Where(Function):
    """where(cond, a, b); cond is a non-differentiable array passed as a keyword."""
    holds_saved = True   # its condition, saved in torch's node: a second backward raises
    @staticmethod
    def forward(ctx, a, b, cond=None):
        ctx.cond = cond
        return relaid_as_elementwise(ctx.b.where(cond, a, b), cond, a, b)   # (host arrays: torch's layout)

    @staticmethod
    def backward(ctx, g):
        B, (na, nb) = ctx.b, ctx.needs_input_grad
        z = B.zeros((), g.dtype)
        return (B.where(ctx.cond, g, z) if na else None), (B.where(ctx.cond, z, g) if nb else None)


class MaskedFill(Function):
    holds_saved = True   # its mask, saved in torch's node: a second backward raises
    @staticmethod
    def forward(ctx, a, mask=None, value=0.0):
        ctx.mask = mask   # torch's result is contiguous whatever a's layout (numpy's where keeps a's)
        out = ctx.b.where(mask, ctx.b.asarray(value, a.dtype), a)
        return out if len(out.shape) == 0 else ctx.b.ascontiguous(out)   # (ascontiguous makes a 0-d one 1-d)

    @staticmethod
    def backward(ctx, g):
        return ctx.b.where(ctx.mask, ctx.b.zeros((), g.dtype), g)


class Cast(Function):
    @staticmethod
    def forward(ctx, a, dtype=None):
        ctx.src = a.dtype
        return ctx.b.astype(a, dtype)

    @staticmethod
    def backward(ctx, g):
        return ctx.b.astype(g, ctx.src)


# ---------------------------------------------------------------- reductions
def _norm_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if type(axis) is int:   # the hot path
        axes = (axis,)
    elif is_one_int(axis) or not hasattr(axis, "__iter__"):   # a numpy integer, a 0-d tensor; a bool
        axes = (dim_int(axis),)                                 # or a float: dim_int's TypeError
    else:
        given = tuple(axis)
        if given and type(given[0]) is not int:   # torch's parser refuses a bool first element only:
            dim_int(given[0])                     # sum((True,)) raises, sum((0, True)) is dims 0 and 1
        axes = tuple(a if type(a) is int else operator.index(a) for a in given)
    out = []
    for a in axes:
        if not -ndim <= a < max(ndim, 1):
            raise IndexError(f"dimension {a} out of range for a tensor of {ndim} dimensions")
        out.append(a % max(ndim, 1))
    if len(set(out)) != len(out):   # torch: "dim 0 appears multiple times in the list of dims"
        raise RuntimeError(f"dim {next(a for a in out if out.count(a) > 1)} appears more than once in "
                           f"the dims {axes}")
    return tuple(sorted(out))


def _keepdim_shape(shape, axes):
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


class Sum(Function):
    @staticmethod
    def forward(ctx, a, axis=None, keepdim=False):
        ctx.axes, ctx.shape = _norm_axes(axis, a.ndim), tuple(a.shape)
        return ctx.b.sum(a, axis=ctx.axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        B = ctx.b
        g = B.reshape(g, _keepdim_shape(ctx.shape, ctx.axes))
        return B.broadcast_to(g, ctx.shape)


# ---------------------------------------------------------------- shape
class Reshape(Function):
    @staticmethod
    def forward(ctx, a, shape=None):
        ctx.shape = tuple(a.shape)
        return ctx.b.reshape(a, shape)

    @staticmethod
    def backward(ctx, g):
        return ctx.b.reshape(g, ctx.shape)


class Permute(Function):
    @staticmethod
    def forward(ctx, a, order=None):
        ctx.order = order
        return ctx.b.transpose(a, order)

    @staticmethod
    def backward(ctx, g):
        inv = [0] * len(ctx.order)
        for i, o in enumerate(ctx.order):
            inv[o] = i
        return ctx.b.transpose(g, tuple(inv))


class Expand(Function):
    @staticmethod
    def forward(ctx, a, shape=None):
        if math.prod(shape) == a.size:
            # no element repeats: a writable view (torch writes through it), not broadcast_to's read-only one
            out = ctx.b.reshape(a, shape)
            if a.size == 0 or ctx.b.may_share_memory(out, a):
                return out
        if type(a) is np.ndarray and a.flags.c_contiguous and a.size:
            # the strided array over a's buffer itself: 1 us, where broadcast_to + as_strided
            # take 10 (writable when a is, as below); a repeated dim's stride is 0
            lead = len(shape) - a.ndim
            strides = (0,) * lead + tuple(st if n == s else 0 for n, s, st in zip(a.shape, shape[lead:], a.strides))
            return np.ndarray(shape, a.dtype, a, 0, strides)
        out = ctx.b.broadcast_to(a, shape)
        if type(out) is np.ndarray and type(a) is np.ndarray and a.flags.writeable:
            # torch writes through an expand where the written region repeats nothing (v[2, 2] = 0,
            # v.fill_(0), a split piece); in-place ops check the region (internal_overlap)
            out = np.lib.stride_tricks.as_strided(a, out.shape, out.strides, writeable=True)
        return out

    @staticmethod
    def backward(ctx, g):
        return g  # reduced back to the input's shape by _unbroadcast


class GetItem(Function):
    @staticmethod
    def forward(ctx, a, idx=None, advanced=False):
        ctx.shape, ctx.dtype, ctx.idx, ctx.advanced = tuple(a.shape), a.dtype, idx, advanced
        if advanced:   # torch's IndexBackward0 saves the indices: a second backward without
            ctx.saved_tensors = (None,)   # retain_graph raises (a slice's node saves nothing),
            ctx.write_checked = index_arrays(idx)   # and an index written in place before it too
        if advanced and type(a) is np.ndarray:
            return index_laid_as_torch(a, idx)
        return ctx.b.getitem(a, idx)

    @staticmethod
    def backward(ctx, g):
        return ctx.b.index_add(ctx.shape, g.dtype, ctx.idx, g, ctx.advanced)


class Cat(Function):
    @staticmethod
    def forward(ctx, *arrays, axis=0, skip=frozenset()):
        # skip: positions of 1-D empty inputs torch leaves out of the join (each gets an empty gradient)
        ctx.skip, ctx.n = skip, len(arrays)
        if skip:
            arrays = [a for i, a in enumerate(arrays) if i not in skip]
        ctx.axis, ctx.sizes = axis, [a.shape[axis] for a in arrays]
        return ctx.b.concatenate(arrays, axis)

    @staticmethod
    def backward(ctx, g):
        parts = ctx.b.split(g, ctx.sizes, ctx.axis)
        if ctx.skip:   # the skipped inputs' empty gradients in their places
            parts = iter(parts)
            parts = [ctx.b.zeros((0,), g.dtype) if i in ctx.skip else next(parts) for i in range(ctx.n)]
        return tuple(parts)


class Stack(Function):
    @staticmethod
    def forward(ctx, *arrays, axis=0):
        ctx.axis, ctx.n = axis, len(arrays)
        return ctx.b.stack(arrays, axis)

    @staticmethod
    def backward(ctx, g):
        B = ctx.b
        parts = B.split(g, [1] * ctx.n, ctx.axis)
        return tuple(B.reshape(p, tuple(p.shape)[:ctx.axis] + tuple(p.shape)[ctx.axis + 1:]) for p in parts)


# ---------------------------------------------------------------- matmul
class MatMul(Function):
    """torch.matmul semantics: 1-D operands are promoted and the added axis removed; batch
    dimensions broadcast (and are summed back by _unbroadcast in backward)."""
    @staticmethod
    def forward(ctx, a, b):
        # each operand only where backward reads it, as torch's (b for a's gradient, a for b's)
        needs = ctx.needs_input_grad
        ctx.save_for_backward(a if needs[1] else None, b if needs[0] else None)
        ctx.ndims = (a.ndim, b.ndim)
        return ctx.b.matmul(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        a_nd, b_nd = ctx.ndims
        B = ctx.b
        if a_nd == 1 and b_nd == 1:
            return (B.mul(g, b) if b is not None else None), (B.mul(g, a) if a is not None else None)
        a2 = B.reshape(a, (1,) + tuple(a.shape)) if a_nd == 1 and a is not None else a
        b2 = B.reshape(b, tuple(b.shape) + (1,)) if b_nd == 1 and b is not None else b
        g2 = B.reshape(g, tuple(g.shape)[:-1] + (1,) + tuple(g.shape)[-1:]) if a_nd == 1 else g
        g2 = B.reshape(g2, tuple(g2.shape) + (1,)) if b_nd == 1 else g2
        ga = gb = None
        # a short contraction (attention's keys, read at every decoder step) stays factored until
        # the gradient is final (outer_grad.BatchedOuter); not with a 1-d operand (reshaped below)
        product = B.matmul if a_nd == 1 or b_nd == 1 else partial(_outer.product, B)
        if ctx.needs_input_grad[0]:
            ga = product(g2, _swap(B, b2))
            if a_nd == 1:
                ga = B.reshape(ga, tuple(ga.shape)[:-2] + tuple(ga.shape)[-1:])
        if ctx.needs_input_grad[1]:
            gb = product(_swap(B, a2), g2)
            if b_nd == 1:
                gb = B.reshape(gb, tuple(gb.shape)[:-1])
        return ga, gb


def _swap(B, x):
    order = tuple(range(x.ndim - 2)) + (x.ndim - 1, x.ndim - 2)
    return B.transpose(x, order)


# max reductions (amax, max(), max(dim)): ops_max.py
from tinygrad_seq.ops_max import Max, MaxAlong  # noqa: E402,F401
