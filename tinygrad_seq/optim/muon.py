"""Muon (Keller Jordan 2024), as torch 2.13's torch.optim.Muon computes it: momentum, then the
update matrix orthogonalised by a quintic Newton-Schulz iteration run in bfloat16.

This library has no bfloat16 arrays, so the iteration runs on float32 arrays rounded to
bfloat16's 8 significant bits after every operation torch runs in bfloat16 (the cast, the norm,
the division, each matmul and addmm): torch computes each of those in float32 and rounds once,
so the values are torch's.
"""
import math

import numpy as np

from tinygrad_seq.optim.optimizer import Optimizer
from tinygrad_seq.tensor import Tensor

# Keller Jordan's constants, torch's defaults
EPS = 1e-7
DEFAULT_A, DEFAULT_B, DEFAULT_C = 3.4445, -4.7750, 2.0315
DEFAULT_NS_STEPS = 5


class Muon(Optimizer):
    r"""For 2-D parameters only: buf = lerp(buf, g, 1 - momentum);
    u = lerp(g, buf, momentum) with nesterov, else buf;  O = NS_(a,b,c)^k(u; eps);
    p = p (1 - lr weight_decay) - lr_adjusted O, lr_adjusted = lr sqrt(max(1, A / B)) ("original",
    the default) or 0.2 lr sqrt(max(A, B)) ("match_rms_adamw") for a parameter of shape (A, B)."""

    def __init__(self, params, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(DEFAULT_A, DEFAULT_B, DEFAULT_C), eps=EPS, ns_steps=DEFAULT_NS_STEPS,
                 adjust_lr_fn=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ["original", "match_rms_adamw"]:
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                                      ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps,
                                      adjust_lr_fn=adjust_lr_fn))
        for group in self.param_groups:   # torch checks the groups given here, not later add_param_group's
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(f"Muon only supports 2D parameters whereas we found a parameter with "
                                     f"size: {p.size()}")

    def _update(self, B, p, g, state, group):
        if len(g.shape) != 2:
            raise ValueError("Param gradient must be a 2D matrix")
        momentum = group["momentum"]
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = self._state_zeros(B, p)
        buf = state["momentum_buffer"].array
        self._lerp_(B, buf, g, 1 - momentum)
        update = self._lerp_(B, B.copy(g), buf, momentum) if group["nesterov"] else buf
        ortho = newton_schulz_bfloat16(B, update, group["ns_coefficients"], group["ns_steps"], group["eps"])
        lr = group["lr"]
        B.imul(p.array, 1 - lr * group["weight_decay"])
        B.iadd(p.array, B.mul(B.astype(ortho, p.dtype), -_adjusted_lr(lr, group["adjust_lr_fn"], p.shape)))


def newton_schulz_bfloat16(B, grad, ns_coefficients, ns_steps, eps):
    """torch's _zeropower_via_newtonschulz: grad (A, B) -> an approximately orthogonal (A, B)
    matrix U S' V^T (S' near 1), float32 arrays holding bfloat16 values. Works on the wide
    orientation (the transpose when A > B) so the Gram matrix is the small one."""
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if len(grad.shape) != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = (np.float32(x) for x in ns_coefficients)
    tall = grad.shape[0] > grad.shape[1]
    x = round_to_bfloat16(B, B.astype(grad, np.float32))
    if tall:
        x = B.ascontiguous(B.transpose(x, (1, 0)))
    norm = round_to_bfloat16(B, B.sqrt(B.sum(B.mul(x, x))))   # spectral norm <= Frobenius norm
    norm = round_to_bfloat16(B, B.maximum(norm, np.float32(eps)))
    x = round_to_bfloat16(B, B.div(x, norm))
    for _ in range(ns_steps):
        gram = round_to_bfloat16(B, B.matmul(x, B.transpose(x, (1, 0))))   # (A, A), A the short side
        gram_update = round_to_bfloat16(B, B.add(B.mul(gram, b), B.mul(B.matmul(gram, gram), c)))
        x = round_to_bfloat16(B, B.add(B.mul(x, a), B.matmul(gram_update, x)))
    if tall:
        x = B.ascontiguous(B.transpose(x, (1, 0)))
    return x


def round_to_bfloat16(B, a):
    """float32 array a rounded to the nearest bfloat16 value (ties to even), kept as float32:
    torch's float -> bfloat16 conversion. The bits are rounded on the host (CPU arrays are not
    copied)."""
    host = np.ascontiguousarray(np.asarray(B.to_host(a), dtype=np.float32))
    bits = host.view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000).astype(np.uint32).view(np.float32)
    rounded = np.where(np.isnan(host), host, rounded).reshape(host.shape)
    return B.asarray(rounded)


def _adjusted_lr(lr, adjust_lr_fn, shape):
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return lr * math.sqrt(max(1, rows / cols))
    if adjust_lr_fn == "match_rms_adamw":
        return lr * (0.2 * math.sqrt(max(rows, cols)))
    return lr
