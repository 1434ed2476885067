"""lerp(start, end, weight) as torch computes it: start + weight * (end - start) where |weight| <
0.5, end - (end - start) * (1 - weight) elsewhere (exact at weight 1, and inf where an end is
inf: the one-sided formula gave inf - inf = nan there, and quantile's interpolation with it).
Gradients, torch's: g * (1 - weight), g * weight, g * (end - start)."""
import numpy as np

from tinygrad_seq.autograd import Function
from tinygrad_seq.elementwise_layout import relaid_as_elementwise
from tinygrad_seq.bool_arith import refuse_non_float_lerp
from tinygrad_seq.grad_fn_names import named
from tinygrad_seq.half_opmath import HALF, rounded_once


def lerp(self, end, weight):
    """Tensor.lerp: torch's checks, its node (LerpBackward0 for a number weight, 1 for a tensor);
    float16 computed in float32 and rounded once (half_opmath.py)."""
    from tinygrad_seq.tensor_more import lerp_dtypes   # (tensor_more imports tensor_math, which imports this)
    lerp_dtypes(self, end, weight)
    refuse_non_float_lerp(self, weight)
    is_tensor = hasattr(weight, "_ctx")
    name = "LerpBackward1" if is_tensor else "LerpBackward0"
    if self.dtype == HALF and end.dtype == HALF:   # torch's value, its float16 gradients
        if is_tensor:   # (a 0-d weight of another dtype counts as float16)
            return named(rounded_once(lambda s, e, w: s + (e - s) * w, self, end, weight.to(dtype=HALF)), name)
        return named(rounded_once(lambda s, e: s + (e - s) * weight, self, end), name)
    if is_tensor and weight.dtype != self.dtype:   # a 0-d weight of another dtype (lerp_dtypes let it by): self's
        weight = weight.to(dtype=self.dtype)
    return named(Lerp.apply(self, end, weight) if is_tensor else Lerp.apply(self, end, weight=float(weight)), name)


def _is_number(w):
    return not hasattr(w, "shape")


def _one_minus(B, w):
    """1 - w; a number weight in Python (a numpy float64 scalar would promote float32 operands)."""
    return 1.0 - w if _is_number(w) else B.sub(1, w)


def _lerp_value(B, s, e, w):
    """The two-branch value on arrays (w an array or a number)."""
    with np.errstate(invalid="ignore", over="ignore"):
        diff = B.sub(e, s)
        if _is_number(w):   # one branch
            return B.add(s, B.mul(w, diff)) if abs(w) < 0.5 else B.sub(e, B.mul(diff, _one_minus(B, w)))
        near_start = B.add(s, B.mul(w, diff))
        far = B.ge(B.abs(w), 0.5)
        if type(far) is np.ndarray and not far.any():   # (an EMA's small weights: the one branch)
            return near_start
        return B.where(far, B.sub(e, B.mul(diff, _one_minus(B, w))), near_start)


class Lerp(Function):
    saved_are_inputs = True   # create_graph: the backward below on the operands as Tensors

    @staticmethod
    def forward(ctx, s, e, w=None, weight=None):
        """w: a tensor weight, or None with weight a number."""
        need = ctx.needs_input_grad   # s and e only for the weight's gradient (torch's saved tensors)
        keep = len(need) > 2 and need[2]
        ctx.save_for_backward(s if keep else None, e if keep else None, w)
        ctx.weight = weight
        return relaid_as_elementwise(_lerp_value(ctx.b, s, e, weight if w is None else w), s, e)   # torch's layout

    @staticmethod
    def backward(ctx, g):
        s, e, w = ctx.saved_tensors
        B = ctx.b
        w = ctx.weight if w is None else w
        need = ctx.needs_input_grad
        gs = B.mul(g, _one_minus(B, w)) if need[0] else None
        ge = B.mul(g, w) if need[1] else None
        if len(need) < 3:
            return gs, ge
        return gs, ge, (B.mul(g, B.sub(e, s)) if need[2] else None)
