"""softmax / log_softmax over a dim of size 0 (torch returns the empty tensor, and its backward
runs, create_graph=True included): the backend kernels subtract the max over the dim, which numpy
refuses on an empty axis, so the callers route that rare case here after one cheap size test on
their hot path."""
from tinygrad_seq import ops_extra
from tinygrad_seq.grad_fn_names import named


def _empty_forward(ctx, x, dim=-1):
    """out: zeros of x's shape (one of its sizes 0). x is saved as the tensor the gradient is a
    function of: a create_graph=True backward (higher_order.py, saved_are_inputs) then ties the
    empty gradient to x, so that differentiating it again gives x an empty gradient, as torch's."""
    ctx.save_for_backward(x)
    ctx.dim, ctx.in_shape, ctx.in_dtype = dim, x.shape, x.dtype
    return ctx.b.zeros(x.shape, x.dtype)


def _empty_backward(ctx, g):
    """The gradient: the empty array of x's shape (no arithmetic: it holds no element). On the
    create_graph path ctx.b is a GraphBackend and the array becomes a tensor whose graph leads to
    x and g, with zero (empty) derivatives."""
    return ctx.b.zeros(ctx.in_shape, ctx.in_dtype)


class SoftmaxOverEmptyDim(ops_extra.Softmax):
    saved_are_inputs = True   # its backward runs on Tensors too (higher_order.py)
    forward = staticmethod(_empty_forward)
    backward = staticmethod(_empty_backward)


class LogSoftmaxOverEmptyDim(ops_extra.LogSoftmax):
    saved_are_inputs = True
    forward = staticmethod(_empty_forward)
    backward = staticmethod(_empty_backward)


def softmax_over_empty_dim(x, dim, log=False):
    """softmax (log=True: log_softmax) of a float tensor x whose size along dim (>= 0) is 0: the
    empty tensor of x's shape and dtype, with torch's node name."""
    if log:
        return named(LogSoftmaxOverEmptyDim.apply(x, dim=dim), "LogSoftmaxBackward0")
    return named(SoftmaxOverEmptyDim.apply(x, dim=dim), "SoftmaxBackward0")
