"""softmax / log_softmax over a dim of size 0 (torch returns the empty tensor, and its backward
runs): the backend kernels subtract the max over the dim, which numpy refuses on an empty axis,
so the callers route that rare case here after one cheap size test on their hot path."""
from tinygrad_seq import ops_extra
from tinygrad_seq.grad_fn_names import named


def _empty_forward(ctx, x, dim=-1):
    """out of x's shape (one of its sizes 0), saved as Softmax's / LogSoftmax's backward reads it:
    their own formulas then give the empty gradient."""
    out = ctx.b.zeros(x.shape, x.dtype)
    ctx.save_for_backward(out)
    ctx.dim = dim
    return out


class SoftmaxOverEmptyDim(ops_extra.Softmax):
    forward = staticmethod(_empty_forward)


class LogSoftmaxOverEmptyDim(ops_extra.LogSoftmax):
    forward = staticmethod(_empty_forward)


def softmax_over_empty_dim(x, dim, log=False):
    """softmax (log=True: log_softmax) of a float tensor x whose size along dim (>= 0) is 0: the
    empty tensor of x's shape and dtype, with torch's node name."""
    if log:
        return named(LogSoftmaxOverEmptyDim.apply(x, dim=dim), "LogSoftmaxBackward0")
    return named(SoftmaxOverEmptyDim.apply(x, dim=dim), "SoftmaxBackward0")
