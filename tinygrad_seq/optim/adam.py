"""Adam and AdamW (PyTorch's algorithms, including amsgrad)."""
import math

import numpy as np

from tinygrad_seq.tensor import Tensor
from tinygrad_seq.optim import half_steps as half
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
        if half.is_half(p):
            return _half_update(p, g, state, group, step, vmax)
        if wd != 0:
            if group["decoupled_weight_decay"]:
                B.imul(p.array, 1 - lr * wd)
            else:
                g = B.add(g, B.mul(p.array, wd))
        m, v = state["exp_avg"].array, state["exp_avg_sq"].array   # the state Tensors' own memory
        self._lerp_(B, m, g, 1 - beta1)
        B.copy_into(v, B.add(B.mul(v, beta2), B.mul(B.mul(g, 1 - beta2), g)))   # torch's addcmul order: g * g first
        # would overflow float32 from |g| = 1.8e19 where ((1 - beta2) g) g stays finite
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
    """torch's Adam / AdamW step on a float16 CPU parameter, op by op (half_steps.py)."""
    lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
    g = np.asarray(g, np.float16)
    if wd != 0:
        if group["decoupled_weight_decay"]:
            p.array[...] = half.mul(p.array, 1 - lr * wd)
        else:
            g = half.add(g, p.array, wd)
    m, v = state["exp_avg"].array, state["exp_avg_sq"].array
    m[...] = half.lerp(m, g, 1 - beta1)
    v[...] = half.addcmul(half.mul(v, beta2), g, g, 1 - beta2)
    if vmax is not None:
        vmax[...] = np.maximum(vmax, v)
        v = vmax
    denom = half.add_number(half.div(half.sqrt(v), math.sqrt(1 - beta2 ** step)), eps)   # eps 1e-8: 0 in float16
    p.array[...] = half.addcdiv(p.array, m, denom, -lr / (1 - beta1 ** step))
