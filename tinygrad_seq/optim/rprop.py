"""Rprop (Riedmiller and Braun 1993; PyTorch's algorithm, torch 2.13's single-tensor form)."""
from tinygrad_seq.optim.optimizer import Optimizer, check_lr
from tinygrad_seq.optim.optimizer_state import count_step, new_scalar, state_tensor


class Rprop(Optimizer):
    r"""Resilient backpropagation: each element keeps its own step size eta, which grows by
    etaplus while the gradient keeps its sign and shrinks by etaminus when it flips:
    s = sign(g g_prev);  eta = clamp(eta * {etaplus if s > 0, etaminus if s < 0, 1 if s = 0},
    step_sizes);  g = 0 where s < 0 (no move after a flip);  p = p - eta sign(g);  g_prev = g.
    The step sizes start at lr."""
    _implementation_keywords = ("foreach", "capturable", "differentiable")

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False,
                 foreach=None, maximize=False, differentiable=False):
        check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        # torch's key order: lr, etas, step_sizes, foreach, maximize, differentiable, capturable
        super().__init__(params, dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable),
                         dict(foreach=foreach, capturable=capturable, differentiable=differentiable))

    def _update(self, B, p, g, state, group):
        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        if not state:
            state.update(step=new_scalar(), prev=self._state_zeros(B, p),
                         step_size=state_tensor(B.full(p.shape, group["lr"], p.dtype), p))
        count_step(state)
        prev, step_size = state["prev"].array, state["step_size"].array
        agreement = B.sign(B.mul(g, prev))   # +1 same sign as last step, -1 flipped, 0 either was zero
        flipped = B.lt(agreement, 0)
        # the factors in the parameter's dtype, as torch writes them into its sign tensor
        shape, dtype = p.shape, p.dtype
        factor = B.where(B.gt(agreement, 0), B.full(shape, etaplus, dtype),
                         B.where(flipped, B.full(shape, etaminus, dtype), B.ones(shape, dtype)))
        B.copy_into(step_size, B.clip(B.mul(step_size, factor), step_size_min, step_size_max))
        g = B.where(flipped, B.zeros(p.shape, p.dtype), g)
        B.iadd(p.array, B.neg(B.mul(B.sign(g), step_size)))
        B.copy_into(prev, g)
