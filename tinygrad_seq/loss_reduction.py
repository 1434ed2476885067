"""The reduction arguments of the losses: 'mean' / 'sum' / 'none', PyTorch's deprecated
size_average / reduce pair mapped onto them, and the refusal of weights that require grad
(torch's derivatives.yaml makes a loss's weight non-differentiable). Used by losses.py."""
import warnings

from tinygrad_seq.autograd import is_grad_enabled

_REDUCTIONS = ("mean", "sum", "none")


def check_reduction(name, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def reduce_loss(loss, reduction):
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def legacy_reduction(size_average, reduce, reduction):
    # PyTorch's deprecated size_average / reduce pair, mapped as torch's legacy_get_string does
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    reduction = ("mean" if size_average else "sum") if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{reduction}' "
                  f"instead.", UserWarning)
    return reduction


def refuse_grad_arguments(function, **arguments):
    """torch's RuntimeError for a Tensor argument (weight, pos_weight) that requires grad where
    the function has no gradient for it; only while grad mode is on, as torch's."""
    if not is_grad_enabled():
        return
    for name, x in arguments.items():
        if getattr(x, "requires_grad", False):
            raise RuntimeError(f"The function '{function}' is not differentiable with respect to argument "
                               f"'{name}'. This input cannot have requires_grad True.")
