"""SparseAdam: PyTorch's lazy Adam for embedding tables, on this library's dense gradients.

torch's SparseAdam takes only sparse-layout gradients (nn.Embedding(sparse=True)'s) and raises
on dense ones; it updates the moments and the parameter only at the rows the sparse gradient
holds. This library has no sparse layout: nn.Embedding(sparse=True) gives a dense gradient
with zero rows where nothing was looked up. So SparseAdam here takes dense gradients and
updates only the rows (slices along dim 0; the whole tensor for a 0-d parameter) whose gradient
has a nonzero entry: exactly torch's update for the rows an embedding lookup touched. The one
difference: a row that was looked up but whose gradient is exactly zero everywhere is left
alone here, where torch would decay its moments and move it.
"""
import math

import numpy as np

from tinygrad_seq.optim.optimizer import Optimizer
from tinygrad_seq.tensor import Tensor


class SparseAdam(Optimizer):
    r"""For the rows r whose gradient is nonzero, and the rows an Embedding(sparse=True) looked up
    (torch's sparse gradient lists those; the others keep their moments and values):
    m_r = m_r + (1 - beta1)(g_r - m_r);  v_r = v_r + (1 - beta2)(g_r^2 - v_r);
    p_r = p_r - lr sqrt(1 - beta2^t) / (1 - beta1^t) m_r / (sqrt(v_r) + eps)."""
    _step_kind = "int"   # torch's SparseAdam counts in a Python int

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))

    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        for p in self.param_groups[-1]["params"]:   # their Embedding(sparse=True) lookups note the rows
            p.__dict__["_sparse_adam"] = True      # (functional.embedding)

    def _update(self, B, p, g, state, group):
        beta1, beta2 = group["betas"]
        if not state:
            # torch keeps SparseAdam's step a Python int
            state.update(step=0, exp_avg=self._state_zeros(B, p), exp_avg_sq=self._state_zeros(B, p))
        state["step"] += 1   # counted also when no row has a gradient, as torch's
        touched = _nonzero_rows(B, g, p.dtype)   # bool, p.shape[:1] + (1,) * (ndim - 1); () when 0-d
        looked_up = p.__dict__.pop("_sparse_rows", None) if hasattr(p, "__dict__") else None
        if looked_up is not None and len(g.shape) >= 1:   # an Embedding(sparse=True)'s rows, zero gradients too
            rows = np.zeros((g.shape[0],) + (1,) * (len(g.shape) - 1), bool)
            rows[looked_up] = True
            touched = B.logical_or(touched, B.asarray(rows))
        m, v = state["exp_avg"].array, state["exp_avg_sq"].array
        # torch's order of operations on the gathered rows: old + (1 - beta)(new - old)
        m_change = B.mul(B.sub(g, m), 1 - beta1)
        v_change = B.mul(B.sub(B.mul(g, g), v), 1 - beta2)
        new_m, new_v = B.add(m_change, m), B.add(v_change, v)
        denom = B.add(B.sqrt(new_v), group["eps"])
        step = state["step"]
        step_size = group["lr"] * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
        new_p = B.add(p.array, B.mul(B.div(new_m, denom), -step_size))
        B.copy_into(m, B.where(touched, new_m, m))
        B.copy_into(v, B.where(touched, new_v, v))
        B.copy_into(p.array, B.where(touched, new_p, p.array))


def _nonzero_rows(B, g, dtype):
    """Whether each row of g (slice along dim 0) has a nonzero entry, shaped to broadcast over g."""
    nonzero = B.ne(g, 0)
    if len(g.shape) <= 1:
        return nonzero
    counts = B.sum(B.astype(nonzero, dtype), axis=tuple(range(1, len(g.shape))), keepdims=True)
    return B.gt(counts, 0)
