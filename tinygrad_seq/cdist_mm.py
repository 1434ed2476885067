"""cdist's p = 2 by matrix product, as torch computes it where compute_mode asks for it (always
with "use_mm_for_euclid_dist", and with the default "use_mm_for_euclid_dist_if_necessary" when
either input has more than 25 rows): ||a||^2 - 2 a.b + ||b||^2 as one product of padded rows
[-2 a, ||a||^2, 1] . [b, 1, ||b||^2], clamped at 0, square-rooted (torch's _euclidean_dist). It
cancels: points near 1000 a few hundredths apart come out 0 or 0.25 in float32, and the matrix of
a set with itself is not exactly symmetric (a Gaussian process's kernel then fails torch's
positive-definite check), as torch's do. The gradient is torch's _euclidean_dist_backward
(0 where a distance is 0)."""
import numpy as np

from tinygrad_seq.autograd import Function


def mm_mode(compute_mode, rows1, rows2):
    """Whether torch's cdist takes the product path for p = 2."""
    return compute_mode == "use_mm_for_euclid_dist" or (
        compute_mode == "use_mm_for_euclid_dist_if_necessary" and (rows1 > 25 or rows2 > 25))


class EuclideanDist(Function):
    """a [.., P, M], b [.., R, M] (batch dims broadcast already) -> [.., P, R]."""
    @staticmethod
    def forward(ctx, a, b):
        an = (a * a).sum(-1, keepdims=True)
        bn = (b * b).sum(-1, keepdims=True)
        a_ = np.concatenate([a * a.dtype.type(-2), an, np.ones_like(an)], -1)
        b_ = np.concatenate([b, np.ones_like(bn), bn], -1)
        out = np.sqrt(np.maximum(a_ @ np.swapaxes(b_, -1, -2), 0))
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, res = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(res == 0, 0, g / res).astype(g.dtype)
        ga = a * ratio.sum(-1, keepdims=True) - ratio @ b
        gb = b * ratio.sum(-2)[..., None] - np.swapaxes(ratio, -1, -2) @ a
        return ga, gb


def euclidean_dist_graph_backward(ctx, ps, grads):
    """torch's _euclidean_dist_backward with Tensor ops (recompose.DIRECT: create_graph=True),
    its result recomputed from the inputs so a second derivative reaches them through it too."""
    a, b = ps
    res = EuclideanDist.apply(a, b)
    ratio = (grads[0] / res).masked_fill(res == 0, 0.0)
    ga = a * ratio.sum(-1, keepdim=True) - ratio @ b
    gb = b * ratio.sum(-2).unsqueeze(-1) - ratio.transpose(-1, -2) @ a
    return ga, gb


def chebyshev_distance(d):
    """max |d| over the last dim of the differences d [.., M], with torch's cdist / pdist gradient
    for p = inf: sign(d) at every coordinate where |d| reaches the max, ties each taking all of it
    (vector_norm's ord=inf splits it among the ties)."""
    dist = d.abs().amax(-1)
    if not d.requires_grad:
        return dist
    from tinygrad_seq.ops_extra import ZeroCarryingGrad
    host = np.abs(d.detach().numpy())
    if np.isnan(host).any():   # nan gradients, as the norm's (torch's kernels differ there among themselves)
        return d.norm(p=float("inf"), dim=-1)
    at_max = host == host.max(-1, keepdims=True)
    slope = d.new_tensor(np.sign(d.detach().numpy()) * at_max)   # a constant
    return dist.detach() + (ZeroCarryingGrad.apply(d) * slope).sum(-1)
