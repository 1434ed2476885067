"""torch 2.13's weight= of F.mse_loss, F.l1_loss and F.huber_loss: the elementwise loss times a
weight of the input's shape, reduced as torch's: "mean" is sum(w * loss) / sum(w) for mse and
l1, and the plain mean of w * loss for huber."""


def weighted_reduce(elems, weight, input, reduction, reduce, by_weight_sum=True):
    """elems: the unreduced loss; reduce: losses._reduce (the unweighted reduction)."""
    if weight is None:
        return reduce(elems, reduction)
    if tuple(weight.shape) != tuple(input.shape):
        raise ValueError("Weights and input must have the same size.")
    out = elems * weight
    if reduction == "mean" and by_weight_sum:
        return out.sum() / weight.sum()
    return reduce(out, reduction)
