"""ASGD: averaged SGD (Polyak & Juditsky 1992), PyTorch's single-tensor algorithm and state."""
import numpy as np

from tinygrad_seq import dtypes as _dtypes
from tinygrad_seq.optim.optimizer import Optimizer, check_lr
from tinygrad_seq.optim.optimizer_state import count_step, new_scalar, scalar_value, set_scalar


class ASGD(Optimizer):
    r"""t = t + 1;  g = g + weight_decay * p;  p = p (1 - lambd eta) - eta g;
    ax = p if mu == 1 else ax + mu (p - ax);
    eta = lr / (1 + lambd lr t)^alpha;  mu = 1 / max(1, t - t0).

    State per parameter, as torch's: `step`, `eta`, `mu` (0-d tensors of the scalar dtype,
    float32 unless the default dtype is float64; eta and mu are rounded to it, as torch's) and
    `ax`, the running average of the parameter (a Tensor of its shape, which NT-ASGD code swaps
    in for evaluation). The 0-d state tensors live on the CPU."""
    _implementation_keywords = ("foreach", "differentiable", "capturable")

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        check_lr(lr)
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                                      maximize=maximize),
                         dict(foreach=foreach, differentiable=differentiable, capturable=capturable))

    def _update(self, B, p, g, state, group):
        lr, lambd, alpha, t0, wd = group["lr"], group["lambd"], group["alpha"], group["t0"], group["weight_decay"]
        if not state:
            state.update(step=new_scalar(0.0), eta=new_scalar(lr), mu=new_scalar(1.0), ax=self._state_zeros(B, p))
        t = count_step(state)
        eta, mu, ax = state["eta"], state["mu"], state["ax"]
        if wd != 0:
            g = B.add(g, B.mul(p.array, wd))
        eta_value, mu_value = scalar_value(eta), scalar_value(mu)
        B.imul(p.array, 1 - lambd * eta_value)   # decay term
        B.iadd(p.array, B.mul(g, -eta_value))
        if mu_value != 1:
            B.iadd(ax.array, B.mul(B.sub(p.array, ax.array), mu_value))
        else:
            B.copy_into(ax.array, p.array)
        # torch.as_tensor(number): rounded to the default dtype, then copied into eta and mu (which
        # a load cast to the parameter's dtype)
        rounded = np.dtype(_dtypes.get_default_dtype()).type
        set_scalar(eta, rounded(lr / ((1 + lambd * lr * t) ** alpha)))
        set_scalar(mu, rounded(1 / max(1, t - t0)))
        ax._version += 1
