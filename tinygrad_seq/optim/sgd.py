"""SGD with momentum, dampening, Nesterov momentum and weight decay (PyTorch's algorithm)."""
import numpy as np

from tinygrad_seq.optim.fused_steps import sgd_step
from tinygrad_seq.optim.optimizer import Optimizer, check_lr
from tinygrad_seq.optim.optimizer_state import state_tensor


class SGD(Optimizer):
    r"""d = g + weight_decay * p;
    with momentum: b = d (first step) else b = momentum * b + (1 - dampening) * d, and
    d = d + momentum * b (nesterov) or d = b;  p = p - lr * d."""
    _implementation_keywords = ("foreach", "differentiable", "fused")

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
        if getattr(p.array, "dtype", None) == np.float16 and isinstance(p.array, np.ndarray):
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
    """torch's SGD step on a float16 CPU parameter, each of its in-place ops as torch's vectorised
    loop computes it: in float32, a number multiplied as float32 (an add's alpha rounded to float16
    first), rounded to float16 once per op. (Computed in float16 steps, lr * grad was rounded
    before the add: a unit in the last place a step.) torch's element loop, which takes the last
    elements past a multiple of its vector width and non-contiguous parameters, rounds lr * grad
    first: there the two can differ by a unit."""
    def axpy(a, b, alpha):   # a + alpha * b, torch's add(b, alpha=alpha); an array also for 0-d
        return np.asarray(a.astype(np.float32) + np.float32(np.float16(alpha)) * np.asarray(b, np.float32)
                          ).astype(np.float16)

    lr, momentum, wd = group["lr"], group["momentum"], group["weight_decay"]
    d = axpy(np.asarray(g, np.float16), p.array, wd) if wd != 0 else np.asarray(g, np.float16)
    if momentum != 0:
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = d.copy()
            state["momentum_buffer"] = state_tensor(buf, p)
        else:
            buf = buf.array
            buf[...] = axpy(np.asarray(buf.astype(np.float32) * np.float32(momentum)).astype(np.float16), d,
                            1 - group["dampening"])
        d = axpy(d, buf, momentum) if group["nesterov"] else buf
    p.array[...] = axpy(p.array, d, -lr)
