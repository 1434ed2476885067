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
    InverseGamma, GeneralizedPareto, LogisticNormal   variance priors, threshold exceedances, simplex
    Poisson, NegativeBinomial, Binomial, Geometric    count likelihoods (DeepAR)
    Multinomial                                       count vectors over K categories (bag of tokens)
    ContinuousBernoulli, Kumaraswamy                  [0, 1]-valued likelihoods / reparameterised latents
    FisherSnedecor, VonMises                          variance ratios; angles (circular data)
    LowRankMultivariateNormal                         low-rank + diagonal covariance (DeepVAR heads)
    Wishart, LKJCholesky                              priors on covariance / correlation matrices
    RelaxedOneHotCategorical, RelaxedBernoulli        Gumbel-softmax / Concrete relaxations
    TransformedDistribution, transforms               pushforwards (tanh-squashed policies)
    ExponentialFamily                                 the base of the exponential families
    kl_divergence, register_kl                        KL(p || q) per batch element
    biject_to, transform_to, constraints              reals -> a constraint's region (constraint_registry.py)

Each mirrors torch's module of the same name (ts.distributions.normal.Normal,
ts.distributions.kl.kl_divergence, ts.distributions.constraints, ...): arguments, shapes,
validation errors, log_prob / entropy / cdf / kl with gradients. Draws come from tinygrad_seq's
generator (ts.manual_seed), torch's stream: Normal, Laplace, Exponential, Gumbel, LogNormal,
(LowRank)MultivariateNormal, Geometric, the relaxed ones, ContinuousBernoulli, Kumaraswamy and
VonMises, GeneralizedPareto and LogisticNormal draw torch's numbers, and so do the gamma-based
ones (Gamma, Chi2, StudentT, Beta, Dirichlet, FisherSnedecor, Wishart, LKJCholesky, InverseGamma:
torch_gamma.py, torch's gamma and Dirichlet samplers) and Poisson, NegativeBinomial and Binomial
(count_draws.py); Multinomial is reproducible but not torch's. Every name of
torch.distributions.__all__ is here."""
from . import constraint_registry, constraints, kl_cross, kl_families, kl_more, transforms
from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .cauchy import Cauchy
from .chi2 import Chi2
from .constraint_registry import biject_to, transform_to
from .continuous_bernoulli import ContinuousBernoulli
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .fishersnedecor import FisherSnedecor
from .gamma import Gamma
from .generalized_pareto import GeneralizedPareto
from .geometric import Geometric
from .gumbel import Gumbel
from .half_cauchy import HalfCauchy
from .half_normal import HalfNormal
from .independent import Independent
from .inverse_gamma import InverseGamma
from .kl import kl_divergence, register_kl
from .kumaraswamy import Kumaraswamy
from .lkj_cholesky import LKJCholesky
from .laplace import Laplace
from .log_normal import LogNormal
from .logistic_normal import LogisticNormal
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
from .transforms import (AbsTransform, AffineTransform, CatTransform, ComposeTransform, CorrCholeskyTransform,
                         CumulativeDistributionTransform, ExpTransform, IndependentTransform, LowerCholeskyTransform,
                         PositiveDefiniteTransform, PowerTransform, ReshapeTransform, SigmoidTransform,
                         SoftmaxTransform, SoftplusTransform, StackTransform, StickBreakingTransform, TanhTransform,
                         Transform, identity_transform)
from .uniform import Uniform
from .von_mises import VonMises
from .weibull import Weibull
from .wishart import Wishart

_KL_TABLES = (kl_families, kl_cross, kl_more)   # register the further families' KL pairs on import

# torch.distributions.__all__ (its order), then the submodules torch exposes too
__all__ = ["Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Chi2", "ContinuousBernoulli", "Dirichlet",
           "Distribution", "Exponential", "ExponentialFamily", "FisherSnedecor", "Gamma", "GeneralizedPareto",
           "Geometric", "Gumbel", "HalfCauchy", "HalfNormal", "Independent", "InverseGamma", "Kumaraswamy",
           "LKJCholesky", "Laplace", "LogNormal", "LogisticNormal", "LowRankMultivariateNormal",
           "MixtureSameFamily", "Multinomial", "MultivariateNormal", "NegativeBinomial", "Normal",
           "OneHotCategorical", "OneHotCategoricalStraightThrough", "Pareto", "RelaxedBernoulli",
           "RelaxedOneHotCategorical", "StudentT", "Poisson", "Uniform", "VonMises", "Weibull", "Wishart",
           "TransformedDistribution", "biject_to", "kl_divergence", "register_kl", "transform_to",
           "AbsTransform", "AffineTransform", "CatTransform", "ComposeTransform", "CorrCholeskyTransform",
           "CumulativeDistributionTransform", "ExpTransform", "IndependentTransform", "LowerCholeskyTransform",
           "PositiveDefiniteTransform", "PowerTransform", "ReshapeTransform", "SigmoidTransform",
           "SoftplusTransform", "TanhTransform", "SoftmaxTransform", "StackTransform", "StickBreakingTransform",
           "Transform", "identity_transform", "constraints", "transforms"]
