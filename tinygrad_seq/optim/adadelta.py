"""Adadelta (Zeiler 2012; PyTorch's algorithm)."""
from tinygrad_seq.optim.optimizer import Optimizer, check_lr
from tinygrad_seq.optim.optimizer_state import count_step, new_scalar


class Adadelta(Optimizer):
    r"""g = g + weight_decay * p;  s = rho s + (1 - rho) g^2;
    delta = sqrt(a + eps) / sqrt(s + eps) g;  a = rho a + (1 - rho) delta^2;  p = p - lr delta."""
    _implementation_keywords = ("foreach", "capturable", "differentiable")

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False, **implementation):
        check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if eps < 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize),
                         implementation)

    def _update(self, B, p, g, state, group):
        rho, eps = group["rho"], group["eps"]
        if not state:
            state.update(step=new_scalar(), square_avg=self._state_zeros(B, p), acc_delta=self._state_zeros(B, p))
        count_step(state)
        if group["weight_decay"] != 0:
            g = B.add(g, B.mul(p.array, group["weight_decay"]))
        s, a = state["square_avg"].array, state["acc_delta"].array
        B.copy_into(s, B.add(B.mul(s, rho), B.mul(B.mul(g, 1 - rho), g)))
        delta = B.mul(B.div(B.sqrt(B.add(a, eps)), B.sqrt(B.add(s, eps))), g)
        B.copy_into(a, B.add(B.mul(a, rho), B.mul(B.mul(delta, 1 - rho), delta)))
        B.iadd(p.array, B.mul(delta, -group["lr"]))
