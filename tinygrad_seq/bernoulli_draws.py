"""torch.bernoulli(input, p=None): 0/1 draws with probability input (or p), in input's dtype,
with torch's checks (a probability outside [0, 1], nan included, raises; an integer input
without p has no kernel) and torch's graph: a result of an input that requires grad requires
grad too, with a zero gradient (BernoulliBackward0)."""
import numpy as np

from tinygrad_seq import autograd, random
from tinygrad_seq.grad_fn_names import named

_P_IN_MESSAGE = ("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error message be "
                 "improved?  If so, please report an enhancement request to PyTorch.)")


class _Draws(autograd.Function):
    """The draws as a node of input's graph; the gradient is zero, as torch's."""
    @staticmethod
    def forward(ctx, a, draws=None):
        return draws

    @staticmethod
    def backward(ctx, g):
        return ctx.b.zeros(g.shape, g.dtype)


def bernoulli(input, p=None, generator=None):
    from tinygrad_seq.tensor import Tensor
    from tinygrad_seq.tensor_matmul import scalar_name
    if p is None:
        if input.dtype.kind != "f":
            raise NotImplementedError(f'"bernoulli_tensor_cpu_p_" not implemented for '
                                      f"'{scalar_name(input.dtype)}'")
        prob = input.detach().numpy()
        if not ((prob >= 0) & (prob <= 1)).all():   # nan fails both compares
            raise RuntimeError(_P_IN_MESSAGE)
    else:
        p = float(p)
        if not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        prob = np.broadcast_to(np.float64(p), input.shape)
    stream = random.generator(generator).stream   # torch's: per-element float draws, or its bernoulli_(p)
    draw = stream.bernoulli_each(prob) if p is None else stream.bernoulli(prob.size, p).reshape(prob.shape)
    out = Tensor._wrap(draw.astype(input.dtype), "cpu")
    if input.device != "cpu":
        out = out.to(input.device)
    if input.requires_grad and autograd.is_grad_enabled():
        return named(_Draws.apply(input, draws=out.array), "BernoulliBackward0")
    return out
