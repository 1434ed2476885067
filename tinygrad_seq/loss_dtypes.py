"""torch's dtype rules for the pointwise losses of losses.py: which integer and bool operands it
refuses, and which operand's dtype the loss takes where the two differ (huber_loss: the
input's; binary_cross_entropy_with_logits: the target's). Each check an O(1) dtype test."""
from tinygrad_seq.errors import DTypeMismatch
from tinygrad_seq.functional_checks import refuse_float_into, refuse_integral_pair, torch_type_name
from tinygrad_seq.tensor import Tensor


def pointwise_difference(kernel, input, target):
    """input - target for mse_loss / smooth_l1_loss, after torch's refusal of an integer / bool
    pair (an int64 pair used to give an int64 or float loss); one float operand makes a float
    loss, a bool one against it taken as 0 / 1 (torch's kernels do; the `-` operator refuses)."""
    refuse_integral_pair(kernel, input, target)
    if input.dtype.kind == "b":
        input = input.to(dtype=target.dtype)
    elif target.dtype.kind == "b":
        target = target.to(dtype=input.dtype)
    return input - target


def huber_target(input, target):
    """target for huber_loss, whose result torch writes into the input's dtype: an integer or
    bool input is refused (against a float target: the float can't be cast into it); a bool
    target is taken as 0 / 1 (the `-` operator refuses it)."""
    if input.dtype.kind not in "fc":
        if target.dtype.kind in "fc":
            refuse_float_into(input)
        refuse_integral_pair("huber_cpu", input, target)
    return target.to(dtype=input.dtype) if target.dtype.kind == "b" else target


def in_dtype_of(loss, like):
    """loss in like's dtype (torch's loss kernels write into it; a float64 target used to make a
    float32 input's loss float64)."""
    return loss if loss.dtype == like.dtype else loss.to(dtype=like.dtype)


def bce_operands(input, target):
    """binary_cross_entropy: torch's RuntimeError for a target of another dtype than the input's
    (it used to promote), then its NotImplementedError for an integer or bool input."""
    if target.dtype != input.dtype:
        raise DTypeMismatch(f"Found dtype {torch_type_name(target.dtype)} but expected "
                            f"{torch_type_name(input.dtype)}")
    if input.dtype.kind not in "fc":
        raise NotImplementedError(f'"binary_cross_entropy" not implemented for \'{torch_type_name(input.dtype)}\'')


def logits_loss_dtype(input, target):
    """The dtype of binary_cross_entropy_with_logits' loss: the target's, as torch's (it computes
    (1 - target) * input in place); an integer input refused (torch's log_sigmoid has no integer
    kernel), and an integer target too (the float loss can't be written into it)."""
    if input.dtype.kind not in "fc":
        raise NotImplementedError(f'"log_sigmoid_cpu" not implemented for \'{torch_type_name(input.dtype)}\'')
    if target.dtype.kind not in "fc":
        if target.dtype.kind == "b":
            raise DTypeMismatch("Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
                                "trying to invert a mask, use the `~` or `logical_not()` operator instead.")
        refuse_float_into(target)
    return target.dtype


def class_weight(weight, like):
    """cross_entropy / nll_loss: a weight Tensor of another dtype than the input's refused, as
    torch's RuntimeError (it used to be cast); a list or array is still taken."""
    if isinstance(weight, Tensor) and weight.dtype != like.dtype:
        raise DTypeMismatch(f"expected scalar type {torch_type_name(like.dtype)} but found "
                            f"{torch_type_name(weight.dtype)}")
    return weight
