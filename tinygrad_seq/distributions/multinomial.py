"""torch.distributions.Multinomial: counts over K categories from total_count draws of a
Categorical (bag-of-tokens likelihoods, count vectors of a topic model).

    m = Multinomial(10, logits=scores)       # scores [..., K]
    counts = m.sample((5,))                   # [5, ..., K], each row summing to 10
    m.log_prob(counts)                        # [5, ...], gradients into the scores

As torch's: probs or logits (normalised over the last dimension, through a Categorical), an int
total_count (only log_prob works without one: the value's sum is its count), batch_shape the
parameter's shape less the last dimension, event_shape (K,), the support the weak
constraints.multinomial(total_count) check (non-negative, summing to at most total_count),
log_prob / mean / variance and the entropy by enumerating the Binomial marginals, with torch's
formulas and gradients. sample draws total_count Categorical indices per event from
tinygrad_seq's generator and counts them: reproducible, not torch's numbers. Unlike torch's (whose
expand() drops the Binomial, so the expanded entropy raises an AttributeError), an expanded
Multinomial keeps its entropy."""
import math

from tinygrad_seq import creation, dtypes
from tinygrad_seq.grad_mode import no_grad
from tinygrad_seq.tensor import Size

from . import constraints
from .binomial import Binomial
from .categorical import Categorical
from .distribution import Distribution, _all_true
from .utils import _sample_shape, broadcast_all

__all__ = ["Multinomial"]


def _categorical(probs, logits):
    """torch's Categorical(probs=probs, logits=logits) with its default validation: the given form,
    normalised, checked against Categorical's arg_constraint, with torch's message (which names
    the Categorical, as torch's Multinomial raises it from there)."""
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")
    categorical = Categorical(probs=probs, logits=logits, validate_args=False)
    categorical._validate_args = Distribution._validate_args   # torch passes no validate_args on
    if categorical._validate_args:
        name = categorical._param
        value = getattr(categorical, name)
        constraint = Categorical.arg_constraints[name]
        if not _all_true(constraint.check(value)):
            raise ValueError(f"Expected parameter {name} ({type(value).__name__} of shape {tuple(value.shape)}) "
                             f"of distribution {categorical!r} to satisfy the constraint {constraint!r}, "
                             f"but found invalid values:\n{value}")
    return categorical


class Multinomial(Distribution):
    """torch.distributions.Multinomial(total_count=1, probs=None, logits=None, validate_args=None)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = _categorical(probs, logits)
        # the per-category counts' marginals, Binomial(n, p_k) over batch_shape + (K,): entropy's terms
        self._binomial = Binomial(total_count=total_count, probs=self.probs)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Multinomial, _instance)
        batch_shape = Size(tuple(batch_shape))
        new.total_count = self.total_count
        new._categorical = self._categorical.expand(batch_shape)
        new._binomial = self._binomial.expand(tuple(batch_shape) + tuple(self.event_shape))
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def param_shape(self):
        return self._categorical.param_shape

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=Size()):
        """Counts of shape sample_shape + batch_shape + (K,) in probs' dtype, no gradient."""
        sample_shape = _sample_shape(sample_shape)
        with no_grad():
            # indices [total_count, *sample_shape, *batch_shape] -> [*sample_shape, *batch_shape, total_count]
            indices = self._categorical.sample(Size((self.total_count,)) + sample_shape)
            indices = indices.permute(*range(1, indices.dim()), 0)
            counts = creation.zeros(tuple(self._extended_shape(sample_shape)), dtype=dtypes.int64,
                                    device=self.probs.device)
            counts = counts.scatter_add(-1, indices, creation.ones_like(indices))
            return counts.type_as(self.probs)

    def entropy(self):
        """H = n H(Categorical) - log n! + sum_k E[log x_k!], x_k ~ Binomial(n, p_k) (torch's)."""
        n = self.total_count
        # torch takes lgamma of torch.tensor(n), an int64 tensor: computed in the default dtype
        log_factorial_n = creation.tensor(float(n + 1), dtype=dtypes.get_default_dtype()).lgamma()
        term1 = n * self._categorical.entropy() - log_factorial_n
        support = self._binomial.enumerate_support(expand=False)[1:]   # 1..n, [n, 1, ..., 1]
        binomial_probs = self._binomial.log_prob(support).exp()        # [n, *batch_shape, K]
        term2 = (binomial_probs * (support + 1).lgamma()).sum([0, -1])
        return term1 + term2

    def log_prob(self, value):
        """log n! - sum_k log x_k! + sum_k x_k log p_k, n the value's own sum."""
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        log_factorial_n = (value.sum(-1) + 1).lgamma()
        log_factorial_xs = (value + 1).lgamma().sum(-1)
        # a category of probability 0 the value does not use contributes 0 (not 0 * -inf = nan)
        logits = logits.where(~((value == 0) & (logits == -math.inf)), 0.0)
        return log_factorial_n - log_factorial_xs + (logits * value).sum(-1)
