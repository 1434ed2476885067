"""The array backend of a create_graph=True backward: backend_cpu.py's names over Tensors.

An op's backward is written against ctx.b (backend_cpu / backend_cuda: raw arrays in, raw
arrays out). Run with a GraphBackend as ctx.b, and with its saved arrays replaced by the
Tensors they came from (higher_order.py), the same backward code builds differentiable Tensor
ops: its result is a gradient with a graph, which a second backward can differentiate (torch's
double backward). No op's backward is written twice.

Values that depend on nothing in the graph stay raw arrays: masks from comparisons (gt, eq,
sign), zeros and ones, the constants an op kept in ctx (an index, a condition). A method given
only raw arrays computes on the device's own backend; given a Tensor, it applies the engine's
op (grad mode is on during a create_graph sweep), wrapping the raw operands as constants.
"""
import numbers

import numpy as np

from tinygrad_seq import autograd, ops, ops_extra
from tinygrad_seq import device as _device
from tinygrad_seq.autograd import Function


def _Tensor_type():
    return autograd._Tensor   # tensor.py sets it (importing Tensor here is a cycle)


class IndexAdd(Function):
    """zeros(shape) with g added at [idx] (GetItem's backward) as a differentiable op of g: its
    own backward reads g's gradient back at idx."""
    @staticmethod
    def forward(ctx, g, shape=None, idx=None, advanced=False):
        ctx.idx = idx
        return ctx.b.index_add(shape, g.dtype, idx, g, advanced)

    @staticmethod
    def backward(ctx, gg):
        return ctx.b.ascontiguous(ctx.b.getitem(gg, ctx.idx))


def _comparison(name):
    """The backend's comparison `name` on the values (a mask: no gradient flows through it)."""
    def compare(self, a, b):
        return getattr(self.raw, name)(self._value(a), self._value(b))
    compare.__name__ = name
    return compare


class GraphBackend:
    """ctx.b for a backward that builds a graph, on one device."""

    def __init__(self, device):
        self.device = device
        self.raw = _device.backend(device)   # constants compute here
        self.name = getattr(self.raw, "name", str(device))

    # ------------------------------------------------------------ operands
    def _is_t(self, x):
        return isinstance(x, _Tensor_type())

    def _const(self, x, like=None):
        """A raw operand as a Tensor without grad (a Python number in like's dtype)."""
        if isinstance(x, numbers.Number) and like is not None:
            x = np.asarray(x, like.array.dtype)
        return _Tensor_type()._wrap(self.raw.asarray(x), self.device)

    def _operand(self, x):
        """A binary operator's operand: a Tensor, a Python number (torch's scalar rules: no
        promotion of the Tensor's dtype) or a raw array as a constant Tensor."""
        if self._is_t(x):
            return x
        if isinstance(x, np.generic) or isinstance(x, numbers.Number):
            return x.item() if isinstance(x, np.generic) else x
        return self._const(x)

    def _binary(self, name, op, a, b):
        if not (self._is_t(a) or self._is_t(b)):
            return getattr(self.raw, name)(a, b)
        return op(self._operand(a), self._operand(b))

    # ------------------------------------------------------------ elementwise
    def add(self, a, b):
        return self._binary("add", lambda x, y: x + y, a, b)

    def sub(self, a, b):
        return self._binary("sub", lambda x, y: x - y, a, b)

    def mul(self, a, b):
        return self._binary("mul", lambda x, y: x * y, a, b)

    def div(self, a, b):
        return self._binary("div", lambda x, y: x / y, a, b)

    def power(self, a, b):
        return self._binary("power", lambda x, y: x ** y, a, b)

    def maximum(self, a, b):
        if not (self._is_t(a) or self._is_t(b)):
            return self.raw.maximum(a, b)
        a, b = self._tensors(a, b)
        return ops.Maximum.apply(a, b)

    def minimum(self, a, b):
        if not (self._is_t(a) or self._is_t(b)):
            return self.raw.minimum(a, b)
        a, b = self._tensors(a, b)
        return -ops.Maximum.apply(-a, -b)

    def _tensors(self, *xs):
        like = next(x for x in xs if self._is_t(x))
        return [x if self._is_t(x) else self._const(x, like) for x in xs]

    def _unary(self, name, op, a):
        return op.apply(a) if self._is_t(a) else getattr(self.raw, name)(a)

    def neg(self, a):
        return self._unary("neg", ops.Neg, a)

    def exp(self, a):
        return self._unary("exp", ops.Exp, a)

    def log(self, a):
        return self._unary("log", ops.Log, a)

    def sqrt(self, a):
        return self._unary("sqrt", ops.Sqrt, a)

    def tanh(self, a):
        return self._unary("tanh", ops.Tanh, a)

    def sigmoid(self, a):
        return self._unary("sigmoid", ops.Sigmoid, a)

    def relu(self, a):
        return self._unary("relu", ops.Relu, a)

    def sigmoid_backward(self, g, y):
        if not (self._is_t(g) or self._is_t(y)):
            return self.raw.sigmoid_backward(g, y)
        return self.mul(self.mul(g, self.sub(1, y)), y)

    def relu_backward(self, g, y):
        if not (self._is_t(g) or self._is_t(y)):
            return self.raw.relu_backward(g, y)
        return self.zero_where(self.le(y, 0), g)

    def tanh_backward(self, g, y):
        if not (self._is_t(g) or self._is_t(y)):
            return self.raw.tanh_backward(g, y)
        return self.mul(g, self.sub(1, self.mul(y, y)))

    def abs(self, a):
        return self._unary("abs", ops.Abs, a)

    def sin(self, a):
        return self._unary("sin", ops_extra.Sin, a)

    def cos(self, a):
        return self._unary("cos", ops_extra.Cos, a)

    def log1p(self, a):
        return self._unary("log1p", ops_extra.Log1p, a)

    def expm1(self, a):
        return self._unary("expm1", ops_extra.Expm1, a)

    def clip(self, a, lo, hi):
        return ops.Clamp.apply(a, lo=lo, hi=hi) if self._is_t(a) else self.raw.clip(a, lo, hi)

    def where(self, cond, a, b):
        cond = self._value(cond)
        if not (self._is_t(a) or self._is_t(b)):
            return self.raw.where(cond, a, b)
        a, b = self._tensors(a, b)
        return ops.Where.apply(a, b, cond=cond)

    def zero_where(self, drop, g):
        """0 where drop, else g (the masking backwards: relu, clamp, maximum), as a Where node on a
        Tensor g."""
        drop = self._value(drop)
        return self.where(drop, 0.0, g) if self._is_t(g) else self.raw.zero_where(drop, g)

    # piecewise-constant functions and comparisons: raw arrays (no gradient flows through them)
    def _value(self, x):
        return x.array if self._is_t(x) else x

    def sign(self, a):
        return self.raw.sign(self._value(a))

    # piecewise constant, as sign: values without a graph (their derivative is zero)
    def trunc(self, a):
        return self.raw.trunc(self._value(a))

    def floor_divide(self, a, b):
        return self.raw.floor_divide(self._value(a), self._value(b))

    gt, ge, lt, le, eq, ne = map(_comparison, ("gt", "ge", "lt", "le", "eq", "ne"))

    def logical_not(self, a):
        return self.raw.logical_not(self._value(a))

    def logical_or(self, a, b):
        return self.raw.logical_or(self._value(a), self._value(b))

    def logical_and(self, a, b):
        return self.raw.logical_and(self._value(a), self._value(b))

    # ------------------------------------------------------------ creation and dtype
    def zeros(self, shape, dtype):
        return self.raw.zeros(shape, dtype)

    def ones(self, shape, dtype):
        return self.raw.ones(shape, dtype)

    def full(self, shape, value, dtype):
        return self.raw.full(shape, value, dtype)

    def asarray(self, x, dtype=None):
        if self._is_t(x):
            return x if dtype is None else self.astype(x, dtype)
        return self.raw.asarray(x, dtype)

    def astype(self, a, dtype):
        if not self._is_t(a):
            return self.raw.astype(a, dtype)
        return a if a.array.dtype == np.dtype(dtype) else ops.Cast.apply(a, dtype=np.dtype(dtype))

    def copy(self, a):
        return ops_extra.Clone.apply(a) if self._is_t(a) else self.raw.copy(a)

    def ascontiguous(self, a):
        return a if self._is_t(a) else self.raw.ascontiguous(a)

    # ------------------------------------------------------------ reductions
    def sum(self, a, axis=None, keepdims=False):
        if not self._is_t(a):
            return self.raw.sum(a, axis=axis, keepdims=keepdims)
        return ops.Sum.apply(a, axis=axis, keepdim=keepdims)

    def max(self, a, axis=None, keepdims=False):
        if not self._is_t(a):
            return self.raw.max(a, axis=axis, keepdims=keepdims)
        return ops.Max.apply(a, axis=axis, keepdim=keepdims)

    def cumsum(self, a, axis):
        return ops_extra.CumSum.apply(a, dim=axis) if self._is_t(a) else self.raw.cumsum(a, axis)

    def cumprod(self, a, axis):
        return a.cumprod(axis) if self._is_t(a) else self.raw.cumprod(a, axis)

    def log_softmax(self, a, dim):
        return ops_extra.LogSoftmax.apply(a, dim=dim) if self._is_t(a) else self.raw.log_softmax(a, dim)

    def softmax(self, a, dim):
        return ops_extra.Softmax.apply(a, dim=dim) if self._is_t(a) else self.raw.softmax(a, dim)

    def softmax_backward(self, g, y, axis):
        if not (self._is_t(g) or self._is_t(y)):
            return self.raw.softmax_backward(g, y, axis)
        return self.mul(y, self.sub(g, self.sum(self.mul(g, y), axis=axis, keepdims=True)))

    def log_softmax_backward(self, g, y, axis):
        if not (self._is_t(g) or self._is_t(y)):
            return self.raw.log_softmax_backward(g, y, axis)
        return self.sub(g, self.mul(self.exp(y), self.sum(g, axis=axis, keepdims=True)))

    # ------------------------------------------------------------ shape and indexing
    def reshape(self, a, shape):
        if not self._is_t(a):
            return self.raw.reshape(a, shape)
        return a if tuple(a.array.shape) == tuple(shape) else ops.Reshape.apply(a, shape=tuple(shape))

    def transpose(self, a, axes):
        return ops.Permute.apply(a, order=tuple(axes)) if self._is_t(a) else self.raw.transpose(a, axes)

    def broadcast_to(self, a, shape):
        if not self._is_t(a):
            return self.raw.broadcast_to(a, shape)
        return a if tuple(a.array.shape) == tuple(shape) else ops.Expand.apply(a, shape=tuple(shape))

    def getitem(self, a, idx):
        if not self._is_t(a):
            return self.raw.getitem(a, idx)
        advanced = any(isinstance(i, (np.ndarray, list)) or
                       (hasattr(i, "shape") and not isinstance(i, (numbers.Number, slice, np.generic)))
                       for i in (idx if isinstance(idx, tuple) else (idx,)))
        return ops.GetItem.apply(a, idx=idx, advanced=advanced)

    def index_add(self, shape, dtype, idx, g, advanced):
        if not self._is_t(g):
            return self.raw.index_add(shape, dtype, idx, g, advanced)
        return IndexAdd.apply(self.astype(g, dtype), shape=tuple(shape), idx=idx, advanced=advanced)

    def concatenate(self, arrays, axis):
        if not any(self._is_t(a) for a in arrays):
            return self.raw.concatenate(arrays, axis)
        return ops.Cat.apply(*self._tensors(*arrays), axis=axis)

    def stack(self, arrays, axis):
        if not any(self._is_t(a) for a in arrays):
            return self.raw.stack(arrays, axis)
        return ops.Stack.apply(*self._tensors(*arrays), axis=axis)

    def split(self, a, sizes, axis):
        if not self._is_t(a):
            return self.raw.split(a, sizes, axis)
        out, start = [], 0
        for s in sizes:
            out.append(self.getitem(a, (slice(None),) * axis + (slice(start, start + s),)))
            start += s
        return out

    def matmul(self, a, b):
        if not (self._is_t(a) or self._is_t(b)):
            return self.raw.matmul(a, b)
        a, b = self._tensors(a, b)
        return ops.MatMul.apply(a, b)

    def gather(self, a, dim, index):
        return ops_extra.Gather.apply(a, dim=dim, index=index) if self._is_t(a) else self.raw.gather(a, dim, index)

    def scatter_add(self, out, dim, index, src):
        if not (self._is_t(out) or self._is_t(src)):
            return self.raw.scatter_add(out, dim, index, src)
        out, src = self._tensors(out, src)
        return ops_extra.Scatter.apply(out, src, dim=dim, index=index, add=True)

    def scatter(self, out, dim, index, src):
        if not (self._is_t(out) or self._is_t(src)):
            return self.raw.scatter(out, dim, index, src)
        out, src = self._tensors(out, src)
        return ops_extra.Scatter.apply(out, src, dim=dim, index=index, add=False)

    def setitem(self, a, idx, v):
        """a with a[idx] = v, as a new Tensor (the raw backend writes a in place and returns it:
        the backward code this runs uses the returned value)."""
        if not (self._is_t(a) or self._is_t(v)):
            return self.raw.setitem(a, idx, v)
        a, v = self._tensors(a, v)
        return ops_extra.IndexPut.apply(a, v, idx=idx)
