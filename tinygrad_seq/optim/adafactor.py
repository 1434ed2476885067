"""Adafactor (Shazeer and Stern 2018), as torch 2.13's torch.optim.Adafactor computes it (its
single-tensor form): lr caps the relative step size and scales the decoupled weight decay, and
eps1 guards the variance estimate instead of the factors (see torch's docstring note)."""
import numpy as np

from tinygrad_seq.optim.optimizer import Optimizer
from tinygrad_seq.optim.optimizer_state import count_step, new_scalar
from tinygrad_seq.tensor import Tensor


class Adafactor(Optimizer):
    r"""Step t, gradient G (shape (..., m, n) or a vector / 0-d):
    beta2_hat = 1 - t^beta2_decay;  rho = min(lr, 1 / sqrt(t));  alpha = max(eps2, RMS(p)) rho;
    p = p (1 - lr weight_decay);
    matrices: R = lerp(R, mean_n(G^2), 1 - beta2_hat)  (..., m, 1);  C = lerp(C, mean_m(G^2), ...)  (..., 1, n);
              V = R C / max(mean_m(R), eps1);
    vectors:  V = lerp(V, G^2, 1 - beta2_hat);
    U = G / sqrt(max(V, eps1^2));  p = p - alpha U / max(1, RMS(U) / d).
    eps1=None means the machine epsilon of the group's first parameter with a gradient (torch's)."""
    _implementation_keywords = ("foreach",)

    def __init__(self, params, lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0, weight_decay=0.0, *,
                 foreach=None, maximize=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize), dict(foreach=foreach))

    def _state_shape(self, p, name):
        shape = tuple(p.shape)
        if name == "row_var":   # (..., m, 1)
            return shape[:-1] + (1,)
        if name == "col_var":   # (..., 1, n)
            return shape[:-2] + (1,) + shape[-1:]
        return super()._state_shape(p, name)

    def _update(self, B, p, g, state, group):
        lr, wd, eps2 = group["lr"], group["weight_decay"], group["eps"][1]
        eps1 = group["eps"][0]
        if eps1 is None:   # torch takes it from the first parameter it updates in the group
            first = next(q for q in group["params"] if q.grad is not None)
            eps1 = float(np.finfo(first.dtype).eps)
        factored = len(p.shape) > 1
        if not state:
            state["step"] = new_scalar()
            if factored:
                state["row_var"] = self._state_zeros(B, p, self._state_shape(p, "row_var"))
                state["col_var"] = self._state_zeros(B, p, self._state_shape(p, "col_var"))
            else:
                state["variance"] = self._state_zeros(B, p)
        step = count_step(state)
        one_minus_beta2 = step ** group["beta2_decay"]
        rho = min(lr, 1 / (step ** 0.5))
        alpha = max(eps2, _norm(B, p.array) / (p.numel() ** 0.5)) * rho
        if wd != 0:
            B.imul(p.array, 1 - lr * wd)
        if factored:
            row_var, col_var = state["row_var"].array, state["col_var"].array
            # torch squares the norm over the axis (not the sum of squares) and divides by its length
            row_norm, col_norm = _norm_along(B, g, -1), _norm_along(B, g, -2)
            row_mean = B.div(B.mul(row_norm, row_norm), p.shape[-1])
            self._lerp_(B, row_var, row_mean, one_minus_beta2)
            col_mean = B.div(B.mul(col_norm, col_norm), p.shape[-2])
            self._lerp_(B, col_var, col_mean, one_minus_beta2)
            row_var_mean = B.div(B.sum(row_var, axis=-2, keepdims=True), p.shape[-2])   # (..., 1, 1)
            var_estimate = B.div(B.mul(row_var, col_var), B.clip(row_var_mean, eps1, None))
        else:
            variance = state["variance"].array
            self._lerp_(B, variance, B.mul(g, g), one_minus_beta2)
            var_estimate = variance
        update = B.mul(B.div(1.0, B.sqrt(B.clip(var_estimate, eps1 * eps1, None))), g)
        denom = max(1.0, _norm(B, update) / ((p.numel() ** 0.5) * group["d"]))
        B.iadd(p.array, B.mul(update, -alpha / denom))


def _norm(B, a):
    """The 2-norm of all of a, as a Python float."""
    return float(np.asarray(B.to_host(B.sqrt(B.sum(B.mul(a, a))))))


def _norm_along(B, a, axis):
    return B.sqrt(B.sum(B.mul(a, a), axis=axis, keepdims=True))
