"""Adam and AdamW (PyTorch's algorithms, including amsgrad)."""
import math

import numpy as np

from tinygrad_seq.tensor import Tensor
from tinygrad_seq.optim.fused_steps import adam_step
from tinygrad_seq.optim.optimizer import Optimizer, check_lr
from tinygrad_seq.optim.optimizer_state import count_step, new_scalar


class Adam(Optimizer):
    r"""g = g + weight_decay * p (Adam) or p = p * (1 - lr * weight_decay) (AdamW);
    m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2;  (amsgrad: v_max = max(v_max, v))
    p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)."""
    _implementation_keywords = ("foreach", "capturable", "differentiable", "fused")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False,
                 *, maximize=False, decoupled_weight_decay=False, **implementation):
        # torch's refusals: a Tensor lr or beta with foreach=True (capturable is always False here)
        foreach = implementation.get("foreach")
        if isinstance(lr, Tensor) and foreach:
            raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
        check_lr(lr)
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not (all(isinstance(b, float) for b in betas[:2]) or all(isinstance(b, Tensor) for b in betas[:2])):
            raise ValueError("betas must be either both floats or both Tensors")   # torch's (betas=(0, 0.99))
        for i, beta in enumerate(betas[:2]):
            if isinstance(beta, Tensor):
                if foreach:
                    raise ValueError(f"betas[{i}] as a Tensor is not supported for capturable=False and foreach=True")
                if beta.numel() != 1:
                    raise ValueError(f"Tensor betas[{i}] must be 1-element")
        # a 1-element Tensor beta of some dimensions kept 0-d (torch's _to_scalar)
        betas = tuple(b.reshape(()) if isinstance(b, Tensor) and b.ndim != 0 else b for b in betas)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay), implementation)

    def _update(self, B, p, g, state, group):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if not state:
            state["step"] = new_scalar()
            state["exp_avg"] = self._state_zeros(B, p)
            state["exp_avg_sq"] = self._state_zeros(B, p)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = self._state_zeros(B, p)
        step = count_step(state)
        vmax = self._state_array(B, p, state, "max_exp_avg_sq") if group["amsgrad"] else None
        if adam_step(p.array, g, state["exp_avg"].array, state["exp_avg_sq"].array, vmax, step, group):
            return   # one compiled pass (fused_steps: contiguous float32 / float64 numpy arrays)
        if getattr(p.array, "dtype", None) == np.float16 and isinstance(p.array, np.ndarray):
            return _half_update(p, g, state, group, step, vmax)
        if wd != 0:
            if group["decoupled_weight_decay"]:
                B.imul(p.array, 1 - lr * wd)
            else:
                g = B.add(g, B.mul(p.array, wd))
        m, v = state["exp_avg"].array, state["exp_avg_sq"].array   # the state Tensors' own memory
        self._lerp_(B, m, g, 1 - beta1)
        B.copy_into(v, B.add(B.mul(v, beta2), B.mul(B.mul(g, g), 1 - beta2)))
        step_size = lr / (1 - beta1 ** step)
        bc2_sqrt = math.sqrt(1 - beta2 ** step)
        if group["amsgrad"]:
            B.copy_into(vmax, B.maximum(vmax, v))
            v = vmax
        denom = B.add(B.div(B.sqrt(v), bc2_sqrt), eps)
        B.iadd(p.array, B.mul(B.div(m, denom), -step_size))


class AdamW(Adam):
    """Adam with decoupled weight decay: p = p * (1 - lr * weight_decay) before the Adam step."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                 *, maximize=False, **implementation):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True, **implementation)


def _half_update(p, g, state, group, step, vmax):
    """torch's Adam / AdamW step on a float16 CPU parameter, op by op as torch's vectorised loops
    compute float16: each in float32, rounded to float16 once (a number added to a tensor, eps
    here, rounded to float16 first)."""
    f32, f16 = np.float32, np.float16

    def done(x):   # one op's float32 result, rounded once (an array also for 0-d)
        return np.asarray(x).astype(f16)
    lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
    g = np.asarray(g, f16)
    if wd != 0:
        if group["decoupled_weight_decay"]:
            p.array[...] = done(p.array.astype(f32) * f32(1 - lr * wd))
        else:
            g = done(g.astype(f32) + f32(f16(wd)) * p.array.astype(f32))   # grad.add(param, alpha=wd)
    m, v = state["exp_avg"].array, state["exp_avg_sq"].array
    w = f32(1 - beta1)   # m.lerp_(g, 1 - beta1), torch's two-sided formula
    m32, g32 = m.astype(f32), g.astype(f32)
    m[...] = done(np.where(w < 0.5, m32 + w * (g32 - m32), g32 - (g32 - m32) * (f32(1) - w)))
    v[...] = done(v.astype(f32) * f32(beta2))
    v[...] = done(v.astype(f32) + f32(1 - beta2) * g32 * g32)
    if vmax is not None:
        vmax[...] = np.maximum(vmax, v)
        v = vmax
    step_size = lr / (1 - beta1 ** step)
    bc2_sqrt = math.sqrt(1 - beta2 ** step)
    denom = done(done(np.sqrt(v.astype(f32))).astype(f32) / f32(bc2_sqrt))
    denom = done(denom.astype(f32) + f32(f16(eps)))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):   # eps 1e-8 is 0 in float16: inf, as torch's
        p.array[...] = done(p.array.astype(f32) + f32(-step_size) * m.astype(f32) / denom.astype(f32))
