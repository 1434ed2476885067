"""torch's CPU gamma and Dirichlet samplers, number for number, over tinygrad_seq's generator
(torch's stream): the draws Wishart (through Chi2) and LKJCholesky (through Beta) make, so their
samples are torch's under the same seed.

    torch_standard_gamma(alpha)      torch._standard_gamma: differentiable in alpha
    torch_sample_dirichlet(alpha)    torch._sample_dirichlet: no gradient (LKJCholesky.sample)

Both run torch's sample_gamma (ATen/native/Distributions.h: Marsaglia-Tsang, boosted below 1)
one element at a time in memory order, as its cpu_serial_kernel does, taking uniforms from
at::uniform_real_distribution<double> and normals from at::normal_distribution<double> (with
the stream's cached second Box-Muller sample). _standard_gamma of float32 keeps alpha, 1 / alpha
and alpha - 1/3 in float32 (the kernel's scalar_t) and the rest in double; _sample_dirichlet
computes in double throughout. Float literals (1.0f / 3.0f, 0.0331f) are float32 constants."""
import math

import numpy as np

from tinygrad_seq import random
from tinygrad_seq.tensor import Tensor

from .gamma import StandardGamma

__all__ = ["torch_sample_dirichlet", "torch_standard_gamma"]

_THIRD_F = float(np.float32(1.0) / np.float32(3.0))   # 1.0f / 3.0f
_SQUEEZE_F = float(np.float32(0.0331))                # 0.0331f


def _sample_gamma(alpha, stream, single):
    """One Gamma(alpha, 1) draw as torch's sample_gamma; single: scalar_t is float32."""
    def uniform():
        return float(stream.uniform(1, 0.0, 1.0, np.float64)[0])

    scale = 1.0
    if single:
        alpha = np.float32(alpha)
        if alpha < 1.0:
            if alpha == 0.0:
                return 0.0
            scale *= math.pow(1 - uniform(), float(np.float32(1.0) / alpha))
            alpha = alpha + np.float32(1.0)
        d = float(alpha - np.float32(_THIRD_F))   # float32 arithmetic, then widened
    else:
        alpha = float(alpha)
        if alpha < 1.0:
            if alpha == 0.0:
                return 0.0
            scale *= math.pow(1 - uniform(), 1.0 / alpha)
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
        u = 1 - uniform()
        xx = x * x
        if u < 1.0 - _SQUEEZE_F * xx * xx:
            return scale * d * v
        if math.log(u) < 0.5 * xx + d * (1.0 - v + math.log(v)):
            return scale * d * v


def _host(concentration, name):
    if not isinstance(concentration, Tensor):
        raise TypeError(f"{name}(): argument 'self' must be Tensor, not {type(concentration).__name__}")
    if concentration.dtype not in (np.float32, np.float64):
        from tinygrad_seq.functional_checks import torch_type_name
        kernel = "gamma_cpu" if name == "_standard_gamma" else "dirichlet"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{torch_type_name(concentration.dtype)}'")
    return np.array(concentration.detach().cpu().numpy())   # a copy, C order: the kernel's order


def torch_standard_gamma(concentration):
    """torch._standard_gamma on the CPU: torch's draws (a draw that rounds to 0 becomes the
    dtype's smallest normal number), with gamma.StandardGamma's implicit gradient into alpha."""
    alpha = _host(concentration, "_standard_gamma")
    stream, single = random.generator().stream, alpha.dtype == np.float32
    flat = [_sample_gamma(a, stream, single) for a in alpha.reshape(-1)]
    draws = np.asarray(flat, alpha.dtype).reshape(alpha.shape)   # float32: the kernel's cast
    draws = np.maximum(draws, np.finfo(alpha.dtype).tiny).astype(alpha.dtype)
    return StandardGamma.apply(concentration, draws=draws, alpha_host=alpha)


def torch_sample_dirichlet(concentration):
    """torch._sample_dirichlet on the CPU: double gamma draws normalised over the last
    dimension, cast back and kept in [tiny, the largest value below 1] (torch's clamp)."""
    alpha = _host(concentration, "_sample_dirichlet")
    stream = random.generator().stream
    gamma = np.asarray([max(_sample_gamma(float(a), stream, False), np.finfo(np.float64).tiny)
                        for a in alpha.reshape(-1)], np.float64).reshape(alpha.shape)
    shares = (gamma / gamma.sum(-1, keepdims=True)).astype(alpha.dtype)
    below_one = np.nextafter(alpha.dtype.type(1), alpha.dtype.type(0))
    shares = np.minimum(below_one, np.maximum(np.finfo(alpha.dtype).tiny, shares))
    return Tensor(shares.astype(alpha.dtype))
