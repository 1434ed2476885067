"""ASGD: averaged SGD (Polyak & Juditsky 1992), PyTorch's single-tensor algorithm and state."""
import numpy as np

from tinygrad_seq.optim.optimizer import Optimizer, check_lr, scalar_dtype
from tinygrad_seq.tensor import Tensor


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
            state.update(step=_scalar(0.0), eta=_scalar(lr), mu=_scalar(1.0),
                         ax=Tensor._wrap(B.zeros(p.shape, p.dtype), p.device))
        step, eta, mu, ax = state["step"], state["eta"], state["mu"], state["ax"]
        step.array[...] += 1
        if wd != 0:
            g = B.add(g, B.mul(p.array, wd))
        eta_value = float(eta.array)
        B.imul(p.array, 1 - lambd * eta_value)   # decay term
        B.iadd(p.array, B.mul(g, -eta_value))
        if float(mu.array) != 1:
            B.iadd(ax.array, B.mul(B.sub(p.array, ax.array), float(mu.array)))
        else:
            B.copy_into(ax.array, p.array)
        t = float(step.array)
        eta.array[...] = lr / ((1 + lambd * lr * t) ** alpha)
        mu.array[...] = 1 / max(1, t - t0)
        ax._version += 1

    def _load_state_dict(self, state_dict):
        """The base class loads numbers and arrays; ASGD's state is Tensors again afterwards."""
        super()._load_state_dict(state_dict)
        for p, state in self.state.items():
            for name in ("step", "eta", "mu"):
                if name in state and not isinstance(state[name], Tensor):
                    state[name] = _scalar(state[name])
            if "ax" in state and not isinstance(state["ax"], Tensor):
                state["ax"] = Tensor._wrap(state["ax"], p.device)


def _scalar(value):
    """A 0-d CPU tensor of torch's scalar dtype for optimizer state (step, eta, mu)."""
    return Tensor._wrap(np.array(value, scalar_dtype()), "cpu")
