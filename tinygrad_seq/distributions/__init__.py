"""torch.distributions: the distributions sequence models sample from and score with.

    Categorical, OneHotCategorical(StraightThrough)   next-token / discrete-action policies
    Normal                                            VAEs (rsample), Gaussian policies, MDNs
    Bernoulli                                         binary actions, stop tokens
    Uniform, Independent                              noise; diagonal multivariate events
    kl_divergence, register_kl                        KL(p || q) per batch element

Each mirrors torch's module of the same name (ts.distributions.normal.Normal,
ts.distributions.kl.kl_divergence, ts.distributions.constraints, ...): arguments, shapes,
validation errors, log_prob / entropy / cdf / kl with gradients. Draws come from tinygrad_seq's
generator (ts.manual_seed): reproducible, not torch's numbers. Any other torch.distributions name
raises an AttributeError saying it is missing."""
from . import constraints
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .independent import Independent
from .kl import kl_divergence, register_kl
from .normal import Normal
from .one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from .uniform import Uniform

__all__ = ["Bernoulli", "Categorical", "Distribution", "Independent", "Normal", "OneHotCategorical",
           "OneHotCategoricalStraightThrough", "Uniform", "constraints", "kl_divergence", "register_kl"]


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(f"module 'tinygrad_seq.distributions' has no attribute {name!r}")
    raise AttributeError(f"tinygrad_seq does not have torch.distributions.{name} yet; Normal, Bernoulli, "
                         "Categorical, OneHotCategorical, Uniform and Independent are here (with kl_divergence), "
                         "and ts.multinomial / ts.rand / ts.randn draw samples")
