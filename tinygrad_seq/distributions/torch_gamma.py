"""torch's CPU gamma and Dirichlet samplers, number for number, over tinygrad_seq's generator
(torch's stream): every gamma-based draw (Gamma, Chi2, StudentT, FisherSnedecor, InverseGamma,
Wishart through _standard_gamma; Dirichlet, Beta, LKJCholesky through _sample_dirichlet), so their
samples, and every draw after them, are torch's under the same seed.

    torch_standard_gamma(alpha)      torch._standard_gamma: differentiable in alpha (implicit gradient)
    torch_sample_dirichlet(alpha)    torch._sample_dirichlet: no gradient (LKJCholesky.sample)
    torch_dirichlet_rsample(alpha)   the same draws, differentiable (Dirichlet / Beta rsample)

Both run torch's sample_gamma (ATen/native/Distributions.h: Marsaglia-Tsang, boosted below 1)
one element at a time in C order, as its cpu_serial_kernel over a fresh contiguous result does,
taking uniforms from at::uniform_real_distribution<double> and normals from
at::normal_distribution<double> (with the stream's cached second Box-Muller sample). _standard_gamma
of float32 keeps alpha, 1 / alpha and alpha - 1/3 in float32 (the kernel's scalar_t) and the rest
in double; _sample_dirichlet computes in double throughout. Float literals (1.0f / 3.0f, 0.0331f)
are float32 constants. From count_draws.COMPILED_FROM elements on (finite alpha >= 0) the same loop
runs compiled over the stream in place (kernels/sampler_draws_cpu.py): the same draws, the same
stream after them.

Gradients: dx/dalpha of a gamma draw is the implicit reparameterisation gradient
-(dP(alpha, x)/dalpha) / p(x; alpha) (P the regularised incomplete gamma, its alpha-derivative by
central differences in float64: the quantity torch's _standard_gamma_grad approximates). A
Dirichlet draw x = g / sum(g) passes it on pathwise through the normalisation of its gamma draws g
(torch's _dirichlet_grad differentiates the joint draw instead: both are unbiased
reparameterisation gradients)."""
import math

import numpy as np
from scipy import special as sp

from tinygrad_seq import count_draws, random
from tinygrad_seq.autograd import Function
from tinygrad_seq.cascade_sum import last_axis_sums
from tinygrad_seq.count_draws import compiled_draws, uniform_double
from tinygrad_seq.tensor import Tensor

__all__ = ["torch_dirichlet_rsample", "torch_sample_dirichlet", "torch_standard_gamma"]

_THIRD_F = float(np.float32(1.0) / np.float32(3.0))   # 1.0f / 3.0f
_SQUEEZE_F = float(np.float32(0.0331))                # 0.0331f


def _sample_gamma(alpha, stream, single):
    """One Gamma(alpha, 1) draw as torch's sample_gamma; single: scalar_t is float32."""
    scale = 1.0
    if single:
        alpha = np.float32(alpha)
        if alpha < 1.0:
            if alpha == 0.0:
                return 0.0
            scale *= math.pow(1 - uniform_double(stream), float(np.float32(1.0) / alpha))
            alpha = alpha + np.float32(1.0)
        d = float(alpha - np.float32(_THIRD_F))   # float32 arithmetic, then widened
    else:
        alpha = float(alpha)
        if alpha < 1.0:
            if alpha == 0.0:
                return 0.0
            scale *= math.pow(1 - uniform_double(stream), 1.0 / alpha)
            alpha += 1.0
        d = alpha - _THIRD_F
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        while True:
            x = stream._normal_scalar()
            y = 1.0 + c * x
            if y > 0:
                break
        v = y * y * y
        u = 1 - uniform_double(stream)
        xx = x * x
        if u < 1.0 - _SQUEEZE_F * xx * xx:
            return scale * d * v
        if math.log(u) < 0.5 * xx + d * (1.0 - v + math.log(v)):
            return scale * d * v


def _gamma_draws(alpha, stream, single):
    """_sample_gamma over alpha's elements in C order: float64 [n]."""
    flat = alpha.reshape(-1).astype(np.float64)
    if flat.size >= count_draws.COMPILED_FROM and np.isfinite(flat).all() and (flat >= 0).all():
        from tinygrad_seq.kernels.sampler_draws_cpu import standard_gamma
        draws = compiled_draws(stream, standard_gamma, flat, single)
        if draws is not None:
            return draws
    return np.asarray([_sample_gamma(a, stream, single) for a in flat.tolist()], np.float64)


def _host(concentration, name):
    if not isinstance(concentration, Tensor):
        raise TypeError(f"{name}(): argument 'self' must be Tensor, not {type(concentration).__name__}")
    if concentration.dtype not in (np.float32, np.float64):
        from tinygrad_seq.functional_checks import torch_type_name
        kernel = "gamma_cpu" if name == "_standard_gamma" else "dirichlet"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{torch_type_name(concentration.dtype)}'")
    return np.array(concentration.detach().cpu().numpy())   # a copy, C order: the kernel's order


def _gamma_draw_grad(alpha, x):
    """dx/dalpha of x ~ Gamma(alpha, 1) with its uniform noise held fixed (float64 arrays):
    -(dP(alpha, x)/dalpha) / p(x; alpha)."""
    step = np.minimum(1e-5 * np.maximum(alpha, 1.0), alpha / 2)   # (below alpha: gammainc needs alpha - step > 0)
    dp_dalpha = (sp.gammainc(alpha + step, x) - sp.gammainc(alpha - step, x)) / (2 * step)
    log_density = (alpha - 1) * np.log(x) - x - sp.gammaln(alpha)
    return -dp_dalpha / np.exp(log_density)


class StandardGamma(Function):
    """The draws (made in torch_standard_gamma) as a function of the concentrations; backward is
    the implicit reparameterisation gradient (torch's _standard_gamma and its derivative)."""

    @staticmethod
    def forward(ctx, alpha, draws=None, alpha_host=None):
        ctx.alpha, ctx.x = alpha_host, draws
        return ctx.b.asarray(draws)

    @staticmethod
    def backward(ctx, g):
        with np.errstate(all="ignore"):
            grad = _gamma_draw_grad(ctx.alpha.astype(np.float64), ctx.x.astype(np.float64))
        return ctx.b.mul(g, ctx.b.asarray(grad.astype(ctx.x.dtype)))


def torch_standard_gamma(concentration):
    """torch._standard_gamma on the CPU: torch's draws (a draw that rounds to 0 becomes the
    dtype's smallest normal number), differentiable in the concentration."""
    alpha = _host(concentration, "_standard_gamma")
    stream, single = random.generator().stream, alpha.dtype == np.float32
    draws = _gamma_draws(alpha, stream, single).astype(alpha.dtype).reshape(alpha.shape)   # float32: the kernel's cast
    draws = np.maximum(draws, np.finfo(alpha.dtype).tiny).astype(alpha.dtype)
    return StandardGamma.apply(concentration, draws=draws, alpha_host=alpha)


def _dirichlet_draws(concentration):
    """(shares in alpha's dtype, the float64 gamma draws) as torch's _s_dirichlet_cpu: double
    gamma draws normalised over the last dimension, cast back and kept in [tiny, the largest
    value below 1] (torch's clamp)."""
    alpha = _host(concentration, "_sample_dirichlet")
    stream = random.generator().stream
    gamma = np.maximum(_gamma_draws(alpha, stream, False), np.finfo(np.float64).tiny).reshape(alpha.shape)
    shares = (gamma / last_axis_sums(gamma)).astype(alpha.dtype)   # torch's order of the sum
    below_one = np.nextafter(alpha.dtype.type(1), alpha.dtype.type(0))
    shares = np.minimum(below_one, np.maximum(np.finfo(alpha.dtype).tiny, shares))
    return shares.astype(alpha.dtype), alpha, gamma


def torch_sample_dirichlet(concentration):
    """torch._sample_dirichlet on the CPU: torch's draws, no gradient."""
    return Tensor(_dirichlet_draws(concentration)[0])


class DirichletDraw(Function):
    """torch's Dirichlet draws [..., K] as a function of the concentrations: backward is the
    pathwise gradient of x = g / S (S = sum g) through each gamma draw's implicit gradient,
    dL/dalpha_j = dg_j/dalpha_j (gout_j - sum_i gout_i x_i) / S."""

    @staticmethod
    def forward(ctx, alpha, shares=None, alpha_host=None, gamma=None):
        ctx.alpha, ctx.gamma, ctx.dtype = alpha_host, gamma, shares.dtype
        return ctx.b.asarray(shares)

    @staticmethod
    def backward(ctx, g):
        gout = np.asarray(ctx.b.to_host(g), np.float64)
        total = ctx.gamma.sum(-1, keepdims=True)
        x = ctx.gamma / total
        with np.errstate(all="ignore"):
            dg = _gamma_draw_grad(ctx.alpha.astype(np.float64), ctx.gamma)
        grad = dg * (gout - (gout * x).sum(-1, keepdims=True)) / total
        return ctx.b.asarray(grad.astype(ctx.dtype))


def torch_dirichlet_rsample(concentration):
    """Dirichlet(concentration).rsample(): torch's _sample_dirichlet draws, differentiable."""
    shares, alpha, gamma = _dirichlet_draws(concentration)
    return DirichletDraw.apply(concentration, shares=shares, alpha_host=alpha, gamma=gamma)
