"""torch.poisson and torch.binomial: random counts drawn per element from floating tensors of
rates / trial counts and probabilities (tinygrad_seq.random's generator: ts.manual_seed or a
ts.Generator): torch's samplers over torch's stream (count_draws.py), so the counts and every
draw after them are torch's. Results keep the input's dtype; poisson's gradient is zero, as
torch's."""
import numpy as np

from tinygrad_seq import random
from tinygrad_seq.count_draws import binomial_draws, poisson_draws
from tinygrad_seq.autograd import Function
from tinygrad_seq.functional_checks import torch_type_name


class PoissonDraw(Function):
    """The draws (made in poisson()) as a function of the rates, with torch's zero gradient."""
    @staticmethod
    def forward(ctx, rate, draws=None):
        return ctx.b.asarray(draws)

    @staticmethod
    def backward(ctx, g):
        return ctx.b.zeros(g.shape, g.dtype)


def poisson(input, generator=None):
    """Each element a Poisson draw with rate input[i] (>= 0)."""
    if input.dtype.kind != "f":
        raise NotImplementedError(f"\"poisson_cpu\" not implemented for '{torch_type_name(input.dtype)}'")
    rate = input.detach().cpu().numpy()
    if (rate < 0).any() or np.isnan(rate).any():
        raise RuntimeError("poisson: every rate must be a non-negative number")
    draws = poisson_draws(rate, random.generator(generator).stream)   # 0-d too
    return PoissonDraw.apply(input, draws=draws)


def binomial(count, prob, generator=None):
    """Each element the number of successes of count[i] trials of probability prob[i] (broadcast);
    not differentiable (torch has no derivative for it either)."""
    from tinygrad_seq.tensor import Tensor
    if count.dtype.kind != "f":
        raise ValueError(f"binomial only supports floating-point dtypes for count, got: "
                         f"{torch_type_name(count.dtype)}")
    n = count.detach().cpu().numpy()
    p = prob.detach().cpu().numpy()
    if (n < 0).any() or ((p < 0) | (p > 1)).any():
        raise RuntimeError("binomial: count must be >= 0 and prob in [0, 1]")
    n, p = np.broadcast_arrays(n, p)   # torch's TensorIterator: C order of the broadcast shape
    draws = binomial_draws(n, p, random.generator(generator).stream)
    return Tensor(draws, device=count.device)


FUNCTIONS = dict(poisson=poisson, binomial=binomial)
