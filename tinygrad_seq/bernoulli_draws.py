"""torch.bernoulli(input, p=None): 0/1 draws with probability input (or p), in input's dtype,
with torch's checks (a probability outside [0, 1], nan included, raises; an integer input
without p has no kernel) and torch's graph: a result of an input that requires grad requires
grad too, with a zero gradient (BernoulliBackward0). out= (without p, as torch's) takes the draws
made in out's memory order."""
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


def bernoulli(input, p=None, generator=None, *, out=None):
    if out is not None:
        if p is not None:   # torch's overloads: (input, *, generator, out) or (input, p, *, generator)
            raise TypeError("bernoulli() received an invalid combination of arguments - got (Tensor, float, "
                            "out=Tensor): out= is taken without p only")
        return _into_out(input, generator, out)
    return _draws(input, p, generator)


def _draws(input, p, generator, strides=None):
    """bernoulli's result; strides: the element strides of the tensor torch draws into (None:
    row-major), whose memory order the draws follow."""
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
    if p is not None:
        draw = stream.bernoulli(prob.size, p).reshape(prob.shape)
    elif strides is None:
        draw = stream.bernoulli_each(prob)
    else:   # element k of the written tensor's memory order takes the k-th draw
        position = random.in_memory_order(np.arange(prob.size), prob.shape, strides)
        in_memory = np.empty(prob.size, prob.dtype)
        in_memory[position.reshape(-1)] = prob.reshape(-1)
        draw = stream.bernoulli_each(in_memory)[position]
    out = Tensor._wrap(draw.astype(input.dtype), "cpu")
    if input.device != "cpu":
        out = out.to(input.device)
    if input.requires_grad and autograd.is_grad_enabled():
        return named(_Draws.apply(input, draws=out.array), "BernoulliBackward0")
    return out


def _into_out(input, generator, out):
    """torch.bernoulli(input, out=out): input's draws made in out's memory order, cast to out's
    dtype (out resized to input's shape silently, as torch's resize_as_)."""
    from tinygrad_seq.functions import _into
    from tinygrad_seq.tensor import Tensor
    if not isinstance(out, Tensor):
        raise TypeError(f"bernoulli(): argument 'out' must be Tensor, not {type(out).__name__}")
    if input.requires_grad and autograd.is_grad_enabled():   # before any draw, as torch's
        raise RuntimeError("bernoulli(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    strides = None
    if tuple(out.shape) == tuple(input.shape) and not out.is_contiguous():
        strides = random.element_strides(out.array)
    draws = _draws(input, None, generator, strides)   # zeros and ones: exact in any dtype (bool too)
    return _into(out, draws.to(dtype=out.dtype), "bernoulli")
