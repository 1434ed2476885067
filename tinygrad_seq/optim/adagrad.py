"""Adagrad (PyTorch's algorithm, with learning-rate decay)."""
import numpy as np

from tinygrad_seq import device as _device
from tinygrad_seq.optim import half_steps as half
from tinygrad_seq.optim.optimizer import Optimizer, check_lr, group_numbers
from tinygrad_seq.optim.optimizer_state import count_step, new_scalar, state_tensor


class Adagrad(Optimizer):
    r"""g = g + weight_decay * p;  lr_t = lr / (1 + (t - 1) lr_decay);
    s = s + g^2 (s starts at initial_accumulator_value);  p = p - lr_t g / (sqrt(s) + eps)."""
    _implementation_keywords = ("foreach", "differentiable", "fused")

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 *, maximize=False, **implementation):
        check_lr(lr)
        if lr_decay < 0.0:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if initial_accumulator_value < 0.0:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      maximize=maximize), implementation)

        # PyTorch creates the state of the constructor's groups with the optimizer, not on the first
        # step (a group added later gets its state at its first step), each sum from the
        # constructor's initial_accumulator_value: a group's own value is ignored, as torch's
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = _initial_state(_device.backend(p.device), p, self.defaults)

    def _update(self, B, p, g, state, group):
        if not state:
            state.update(_initial_state(B, p, self.defaults))
        step = count_step(state)
        if half.is_half(p):   # torch's float16 step, op by op (half_steps.py)
            g = np.asarray(g, np.float16)
            if group["weight_decay"] != 0:
                g = half.add(g, p.array, group["weight_decay"])
            s = state["sum"].array
            s[...] = half.addcmul(s, g, g, 1.0)
            clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
            p.array[...] = half.addcdiv(p.array, g, half.add_number(half.sqrt(s), group["eps"]), -clr)
            return
        if group["weight_decay"] != 0:
            g = B.add(g, B.mul(p.array, group["weight_decay"]))
        clr = group["lr"] / (1 + (step - 1) * group["lr_decay"])
        s = state["sum"].array
        B.iadd(s, B.mul(g, g))
        std = B.add(B.sqrt(s), group["eps"])
        B.iadd(p.array, B.mul(B.div(g, std), -clr))


def _initial_state(B, p, defaults):
    """torch's Adagrad state: step 0 and the sum of squares at the constructor's
    initial_accumulator_value (a 1-element Tensor as its number)."""
    value = group_numbers(defaults)["initial_accumulator_value"]
    return {"step": new_scalar(), "sum": state_tensor(B.full(p.shape, value, p.dtype), p)}
