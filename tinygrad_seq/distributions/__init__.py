"""torch.distributions: the distributions sequence models sample from and score with.

    Categorical, OneHotCategorical(StraightThrough)   next-token / discrete-action policies
    Normal                                            VAEs (rsample), Gaussian policies, MDNs
    Bernoulli                                         binary actions, stop tokens
    Uniform, Independent                              noise; diagonal multivariate events
    MultivariateNormal                                full-covariance Gaussians (pen offsets, latents)
    MixtureSameFamily                                 mixture density outputs
    Laplace, StudentT, LogNormal, Gumbel, Exponential robust / positive / heavy-tailed likelihoods, noise
    Cauchy, HalfNormal, HalfCauchy, Weibull, Pareto   priors on scales, times to an event (WTTE-RNN)
    Gamma, Chi2, Beta, Dirichlet                      positive and simplex-valued draws
    Poisson, NegativeBinomial, Binomial, Geometric    count likelihoods (DeepAR)
    Multinomial                                       count vectors over K categories (bag of tokens)
    ContinuousBernoulli, Kumaraswamy                  [0, 1]-valued likelihoods / reparameterised latents
    FisherSnedecor, VonMises                          variance ratios; angles (circular data)
    LowRankMultivariateNormal                         low-rank + diagonal covariance (DeepVAR heads)
    Wishart, LKJCholesky                              priors on covariance / correlation matrices
    RelaxedOneHotCategorical, RelaxedBernoulli        Gumbel-softmax / Concrete relaxations
    TransformedDistribution, transforms               pushforwards (tanh-squashed policies)
    kl_divergence, register_kl                        KL(p || q) per batch element

Each mirrors torch's module of the same name (ts.distributions.normal.Normal,
ts.distributions.kl.kl_divergence, ts.distributions.constraints, ...): arguments, shapes,
validation errors, log_prob / entropy / cdf / kl with gradients. Draws come from tinygrad_seq's
generator (ts.manual_seed), torch's stream: Normal, Laplace, Exponential, Gumbel, LogNormal,
(LowRank)MultivariateNormal, Geometric, the relaxed ones, ContinuousBernoulli, Kumaraswamy and
VonMises draw torch's numbers, and so do Wishart and LKJCholesky (torch_gamma.py: torch's gamma
and Dirichlet samplers); the gamma-based ones (Gamma, Chi2, StudentT, Beta, Dirichlet,
FisherSnedecor), Poisson, NegativeBinomial, Binomial and Multinomial are reproducible but not
torch's. Any other torch.distributions name raises an AttributeError saying it is missing."""
from . import constraints, kl_cross, kl_families, kl_more, transforms
from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .cauchy import Cauchy
from .chi2 import Chi2
from .continuous_bernoulli import ContinuousBernoulli
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exponential import Exponential
from .fishersnedecor import FisherSnedecor
from .gamma import Gamma
from .geometric import Geometric
from .gumbel import Gumbel
from .half_cauchy import HalfCauchy
from .half_normal import HalfNormal
from .independent import Independent
from .kl import kl_divergence, register_kl
from .kumaraswamy import Kumaraswamy
from .lkj_cholesky import LKJCholesky
from .laplace import Laplace
from .log_normal import LogNormal
from .lowrank_multivariate_normal import LowRankMultivariateNormal
from .mixture_same_family import MixtureSameFamily
from .multinomial import Multinomial
from .multivariate_normal import MultivariateNormal
from .negative_binomial import NegativeBinomial
from .normal import Normal
from .one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from .pareto import Pareto
from .poisson import Poisson
from .relaxed_bernoulli import RelaxedBernoulli
from .relaxed_categorical import RelaxedOneHotCategorical
from .studentT import StudentT
from .transformed_distribution import TransformedDistribution
from .transforms import (AbsTransform, AffineTransform, ComposeTransform, CorrCholeskyTransform, ExpTransform,
                         PowerTransform, SigmoidTransform, SoftmaxTransform, TanhTransform, Transform)
from .uniform import Uniform
from .von_mises import VonMises
from .weibull import Weibull
from .wishart import Wishart

_KL_TABLES = (kl_families, kl_cross, kl_more)   # register the further families' KL pairs on import

__all__ = ["AbsTransform", "AffineTransform", "Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Chi2",
           "ComposeTransform", "ContinuousBernoulli", "CorrCholeskyTransform", "Dirichlet", "Distribution",
           "ExpTransform", "Exponential", "FisherSnedecor", "Gamma", "Geometric", "Gumbel", "HalfCauchy", "HalfNormal",
           "Independent", "Kumaraswamy", "LKJCholesky", "Laplace", "LogNormal", "LowRankMultivariateNormal",
           "MixtureSameFamily", "Multinomial", "MultivariateNormal", "NegativeBinomial",
           "Normal", "OneHotCategorical", "OneHotCategoricalStraightThrough", "Pareto", "Poisson",
           "PowerTransform", "RelaxedBernoulli", "RelaxedOneHotCategorical", "SigmoidTransform",
           "SoftmaxTransform", "StudentT", "TanhTransform", "Transform", "TransformedDistribution", "Uniform",
           "VonMises", "Weibull", "Wishart", "constraints", "kl_divergence", "register_kl", "transforms"]


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(f"module 'tinygrad_seq.distributions' has no attribute {name!r}")
    raise AttributeError(f"tinygrad_seq does not have torch.distributions.{name} yet; the distributions here are "
                         f"{', '.join(n for n in __all__ if n[0].isupper() and not n.endswith('Transform'))} "
                         "(with kl_divergence and transforms)")
