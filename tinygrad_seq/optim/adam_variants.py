"""Adamax, NAdam and RAdam: PyTorch's algorithms (torch 2.13's single-tensor forms), the Adam
relatives older and newer sequence-model code picks."""
import math

from tinygrad_seq.optim.optimizer import Optimizer, check_lr
from tinygrad_seq.optim.optimizer_state import count_step, new_scalar, scalar_value, set_scalar


def _check(lr, betas, eps, weight_decay):
    check_lr(lr)
    if eps < 0.0:
        raise ValueError(f"Invalid epsilon value: {eps}")
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
    if weight_decay < 0.0:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")


def _moments(opt, B, p, g, state, group, *names):
    """Start the state on the first step, count it, apply weight decay (into g, or decoupled
    into p) and return (g, step, the named moments' arrays)."""
    if not state:
        state["step"] = new_scalar()
        for name in names:
            state[name] = opt._state_zeros(B, p)
    step = count_step(state)
    wd = group["weight_decay"]
    if wd != 0:
        if group.get("decoupled_weight_decay", False):
            B.imul(p.array, 1 - group["lr"] * wd)
        else:
            g = B.add(g, B.mul(p.array, wd))
    return (g, step) + tuple(state[name].array for name in names)


class Adamax(Optimizer):
    r"""m = beta1 m + (1 - beta1) g;  u = max(beta2 u, |g| + eps);  p = p - lr / (1 - beta1^t) m / u."""
    _implementation_keywords = ("foreach", "capturable", "differentiable")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 *, maximize=False, **implementation):
        _check(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      maximize=maximize), implementation)

    def _update(self, B, p, g, state, group):
        (beta1, beta2), lr = group["betas"], group["lr"]
        g, step, m, u = _moments(self, B, p, g, state, group, "exp_avg", "exp_inf")
        self._lerp_(B, m, g, 1 - beta1)
        B.copy_into(u, B.maximum(B.mul(u, beta2), B.add(B.abs(g), group["eps"])))
        B.iadd(p.array, B.mul(B.div(m, u), -lr / (1 - beta1 ** step)))


class NAdam(Optimizer):
    r"""Adam with Nesterov momentum (Dozat 2016) and torch's momentum schedule
    mu_t = beta1 (1 - 0.5 * 0.96^(t momentum_decay)):
    p = p - lr (1 - mu_t) / (1 - prod mu) g / d - lr mu_{t+1} / (1 - prod mu * mu_{t+1}) m / d,
    d = sqrt(v / (1 - beta2^t)) + eps."""
    _implementation_keywords = ("foreach", "capturable", "differentiable")

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, maximize=False, **implementation):
        _check(lr, betas, eps, weight_decay)
        if momentum_decay < 0.0:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize),
                         implementation)

    def _update(self, B, p, g, state, group):
        (beta1, beta2), lr, decay = group["betas"], group["lr"], group["momentum_decay"]
        if not state:   # torch's order; the product a 0-d CPU tensor of _get_scalar_dtype()
            state.update(step=new_scalar(), mu_product=new_scalar(1.0), exp_avg=self._state_zeros(B, p),
                         exp_avg_sq=self._state_zeros(B, p))
        g, step, m, v = _moments(self, B, p, g, state, group, "exp_avg", "exp_avg_sq")
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * decay))
        product = state["mu_product"]   # rounded in its own dtype, as torch's mu_product *= mu
        rounded = product.dtype.type
        mu_product = float(rounded(scalar_value(product)) * rounded(mu))
        set_scalar(product, mu_product)
        self._lerp_(B, m, g, 1 - beta1)
        B.copy_into(v, B.add(B.mul(v, beta2), B.mul(B.mul(g, 1 - beta2), g)))
        denom = B.add(B.sqrt(B.div(v, 1 - beta2 ** step)), group["eps"])
        B.iadd(p.array, B.mul(B.div(g, denom), -lr * (1 - mu) / (1 - mu_product)))
        B.iadd(p.array, B.mul(B.div(m, denom), -lr * mu_next / (1 - mu_product * mu_next)))


class RAdam(Optimizer):
    r"""Rectified Adam (Liu et al. 2019): while the variance estimate's length rho_t <= 5 the step
    is lr m / (1 - beta1^t); after, Adam's step times the rectification
    sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))."""
    _implementation_keywords = ("foreach", "capturable", "differentiable")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 decoupled_weight_decay=False, *, maximize=False, **implementation):
        _check(lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize),
                         implementation)

    def _update(self, B, p, g, state, group):
        (beta1, beta2), lr = group["betas"], group["lr"]
        g, step, m, v = _moments(self, B, p, g, state, group, "exp_avg", "exp_avg_sq")
        self._lerp_(B, m, g, 1 - beta1)
        B.copy_into(v, B.add(B.mul(v, beta2), B.mul(B.mul(g, 1 - beta2), g)))
        bias_correction2 = 1 - beta2 ** step
        corrected = B.div(m, 1 - beta1 ** step)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            adaptive = B.div(B.full(p.shape, bias_correction2 ** 0.5, p.dtype),
                             B.add(B.sqrt(v), group["eps"]))
            B.iadd(p.array, B.mul(B.mul(B.mul(corrected, lr), adaptive), -rect))
        else:
            B.iadd(p.array, B.mul(corrected, -lr))
