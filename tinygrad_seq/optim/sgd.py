"""SGD with momentum, dampening, Nesterov momentum and weight decay (PyTorch's algorithm)."""
import numpy as np

from tinygrad_seq.optim import half_steps as half
from tinygrad_seq.optim.fused_steps import sgd_step
from tinygrad_seq.optim.optimizer import Optimizer, check_lr
from tinygrad_seq.optim.optimizer_state import state_tensor
from tinygrad_seq.optim.sgd_differentiable import differentiable_sgd_step


class SGD(Optimizer):
    r"""d = g + weight_decay * p;
    with momentum: b = d (first step) else b = momentum * b + (1 - dampening) * d, and
    d = d + momentum * b (nesterov) or d = b;  p = p - lr * d."""
    _implementation_keywords = ("foreach", "differentiable", "fused")
    _differentiable_step = differentiable_sgd_step

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False,
                 *, maximize=False, **implementation):
        check_lr(lr)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize),
                         implementation)

    def _update(self, B, p, g, state, group):
        lr, momentum, wd = group["lr"], group["momentum"], group["weight_decay"]
        buf = state.get("momentum_buffer")   # a Tensor (or None, as torch's state may hold)
        fused, new_buf = sgd_step(p.array, g, None if buf is None else buf.array, group)
        if fused:   # one compiled pass (fused_steps: contiguous float32 / float64 numpy arrays)
            if new_buf is not None and buf is None:
                state["momentum_buffer"] = state_tensor(new_buf, p)
            return
        if half.is_half(p):
            return _half_update(p, g, state, group)
        d = B.add(g, B.mul(p.array, wd)) if wd != 0 else g
        if momentum != 0:
            if buf is None:
                buf = B.copy(d)
                state["momentum_buffer"] = state_tensor(buf, p)
            else:
                buf = buf.array
                B.copy_into(buf, B.add(B.mul(buf, momentum), B.mul(d, 1 - group["dampening"])))
            d = B.add(d, B.mul(buf, momentum)) if group["nesterov"] else buf
        B.iadd(p.array, B.mul(d, -lr))


def _half_update(p, g, state, group):
    """torch's SGD step on a float16 CPU parameter, op by op (half_steps.py)."""
    lr, momentum, wd = group["lr"], group["momentum"], group["weight_decay"]
    d = np.asarray(g, np.float16)
    if wd != 0:
        d = half.add(d, p.array, wd)
    if momentum != 0:
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = d.copy()
            state["momentum_buffer"] = state_tensor(buf, p)
        else:
            buf = buf.array
            buf[...] = half.add(half.mul(buf, momentum), d, 1 - group["dampening"])
        d = half.add(d, buf, momentum) if group["nesterov"] else buf
    p.array[...] = half.add(p.array, d, -lr)
