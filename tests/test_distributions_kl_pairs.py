"""Every KL pair torch 2.13 registers between the families ts.distributions has, against
torch.distributions.kl_divergence on the same parameters (float64), with the gradients into p's
parameters; pairs where q lacks p's mass give inf, as torch's."""
import zlib

import numpy as np
import pytest
import torch
import torch.distributions.kl as torch_kl

import tinygrad_seq as ts

D, TD = ts.distributions, torch.distributions


def _families(rng):
    pos = lambda: rng.random(3) + 0.5           # noqa: E731
    real = lambda: rng.standard_normal(3)        # noqa: E731
    spd = lambda: (lambda a: a @ a.T + 3 * np.eye(3))(rng.standard_normal((3, 3)))   # noqa: E731
    low = rng.random(3) * 0.3
    return {
        "Bernoulli": ((rng.random(3) * 0.8 + 0.1,), lambda M, p: M.Bernoulli(probs=p)),
        "Poisson": ((pos() * 2,), lambda M, r: M.Poisson(r)),
        "Beta": ((pos() * 2, pos() * 2), lambda M, a, b: M.Beta(a, b)),
        "Exponential": ((pos(),), lambda M, r: M.Exponential(r)),
        "Gamma": ((pos() * 2, pos()), lambda M, a, b: M.Gamma(a, b)),
        "Normal": ((real(), pos()), lambda M, m, s: M.Normal(m, s)),
        "Uniform": ((low, low + rng.random(3) * 0.5 + 0.1), lambda M, lo, hi: M.Uniform(lo, hi)),
        "Binomial": ((rng.random(3) * 0.8 + 0.1,), lambda M, p: M.Binomial(5, probs=p)),
        "Geometric": ((rng.random(3) * 0.8 + 0.1,), lambda M, p: M.Geometric(probs=p)),
        "Gumbel": ((real(), pos()), lambda M, m, s: M.Gumbel(m, s)),
        "Laplace": ((real(), pos()), lambda M, m, s: M.Laplace(m, s)),
        "Cauchy": ((real(), pos()), lambda M, m, s: M.Cauchy(m, s)),
        "HalfNormal": ((pos(),), lambda M, s: M.HalfNormal(s)),
        "Pareto": ((pos(), pos() * 3), lambda M, s, a: M.Pareto(s, a)),
        "MultivariateNormal": ((rng.standard_normal((2, 3)), np.linalg.cholesky(spd())),
                               lambda M, m, l: M.MultivariateNormal(m, scale_tril=l)),
        "LowRankMultivariateNormal": ((rng.standard_normal((2, 3)), rng.standard_normal((2, 3, 2)), rng.random((2, 3)) + 0.5),
                                      lambda M, m, w, d: M.LowRankMultivariateNormal(m, w, d)),
    }


NAMES = set(_families(np.random.default_rng(0)))
PAIRS = sorted((a.__name__, b.__name__) for a, b in torch_kl._KL_REGISTRY if a.__name__ in NAMES and b.__name__ in NAMES)


def test_the_pairs_cover_torchs_registry():
    assert len(PAIRS) >= 68


@pytest.mark.parametrize("p_name,q_name", PAIRS)
def test_kl_matches_torch_with_gradients(p_name, q_name):
    families = _families(np.random.default_rng(zlib.crc32(f"{p_name} {q_name}".encode())))
    (p_args, make_p), (q_args, make_q) = families[p_name], families[q_name]
    ours = [ts.tensor(a, requires_grad=True) for a in p_args]
    theirs = [torch.tensor(a, requires_grad=True) for a in p_args]
    kl = D.kl_divergence(make_p(D, *ours), make_q(D, *[ts.tensor(a) for a in q_args]))
    kl_t = TD.kl_divergence(make_p(TD, *theirs), make_q(TD, *[torch.tensor(a) for a in q_args]))
    assert tuple(kl.shape) == tuple(kl_t.shape)
    np.testing.assert_allclose(kl.detach().numpy(), kl_t.detach().numpy(), rtol=1e-9, atol=1e-12)
    if np.isfinite(kl_t.detach().numpy()).all() and kl_t.requires_grad:
        kl.sum().backward()
        kl_t.sum().backward()
        for a, b in zip(ours, theirs):
            if b.grad is not None:
                np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-7, atol=1e-10)


def test_binomial_kl_with_a_larger_q_count_raises_as_torch():
    for M, t in ((D, ts.tensor), (TD, torch.tensor)):
        with pytest.raises(NotImplementedError, match="q.total_count > p.total_count"):
            M.kl_divergence(M.Binomial(3, probs=t([0.5])), M.Binomial(5, probs=t([0.5])))
