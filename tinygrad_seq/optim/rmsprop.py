"""RMSprop (PyTorch's algorithm, with momentum and the centered variant)."""
import numpy as np

from tinygrad_seq.optim import half_steps as half
from tinygrad_seq.optim.optimizer import Optimizer, check_lr
from tinygrad_seq.optim.optimizer_state import count_step, new_scalar


class RMSprop(Optimizer):
    r"""g = g + weight_decay * p;  v = alpha v + (1 - alpha) g^2;
    centered: m = alpha m + (1 - alpha) g, denom = sqrt(v - m^2) + eps, else denom = sqrt(v) + eps;
    momentum > 0: b = momentum b + g / denom, p = p - lr b;  else p = p - lr g / denom."""
    _implementation_keywords = ("foreach", "capturable", "differentiable")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 *, maximize=False, **implementation):
        check_lr(lr)
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if alpha < 0.0:
            raise ValueError(f"Invalid alpha value: {alpha}")
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize),
                         implementation)

    def _update(self, B, p, g, state, group):
        lr, alpha, eps, wd = group["lr"], group["alpha"], group["eps"], group["weight_decay"]
        momentum = group["momentum"]
        if not state:
            state["step"] = new_scalar()
            state["square_avg"] = self._state_zeros(B, p)
            if momentum > 0:
                state["momentum_buffer"] = self._state_zeros(B, p)
            if group["centered"]:
                state["grad_avg"] = self._state_zeros(B, p)
        count_step(state)
        if half.is_half(p):
            return _half_update(self, p, g, state, group)
        if wd != 0:
            g = B.add(g, B.mul(p.array, wd))
        sq = state["square_avg"].array
        B.copy_into(sq, B.add(B.mul(sq, alpha), B.mul(B.mul(g, 1 - alpha), g)))
        if group["centered"]:
            ga = self._state_array(B, p, state, "grad_avg")
            self._lerp_(B, ga, g, 1 - alpha)
            avg = B.sqrt(B.sub(sq, B.mul(ga, ga)))
        else:
            avg = B.sqrt(sq)
        avg = B.add(avg, eps)
        if momentum > 0:
            buf = self._state_array(B, p, state, "momentum_buffer")
            B.copy_into(buf, B.add(B.mul(buf, momentum), B.div(g, avg)))
            B.iadd(p.array, B.mul(buf, -lr))
        else:
            B.iadd(p.array, B.mul(B.div(g, avg), -lr))


def _half_update(opt, p, g, state, group):
    """torch's RMSprop step on a float16 CPU parameter, op by op (half_steps.py)."""
    lr, alpha, eps, momentum = group["lr"], group["alpha"], group["eps"], group["momentum"]
    g = np.asarray(g, np.float16)
    if group["weight_decay"] != 0:
        g = half.add(g, p.array, group["weight_decay"])
    sq = state["square_avg"].array
    sq[...] = half.addcmul(half.mul(sq, alpha), g, g, 1 - alpha)
    if group["centered"]:
        ga = state["grad_avg"].array
        ga[...] = half.lerp(ga, g, 1 - alpha)
        avg = half.sqrt(half.addcmul(sq, ga, ga, -1))
    else:
        avg = half.sqrt(sq)
    avg = half.add_number(avg, eps)
    if momentum > 0:
        buf = state["momentum_buffer"].array
        buf[...] = half.addcdiv(half.mul(buf, momentum), g, avg)
        p.array[...] = half.add(p.array, buf, -lr)
    else:
        p.array[...] = half.addcdiv(p.array, g, avg, -lr)
