"""torch.distributions.OneHotCategorical: Categorical with one-hot samples over the last
dimension (event_shape (K,)), for policies and decoders that feed the draw back as a vector.

As torch's: built on a Categorical of the same probs / logits; sample() gives float one-hot
vectors in the parameter's dtype; log_prob takes one-hot values (the index of each maximum
is scored); OneHotCategoricalStraightThrough adds rsample, the sample plus probs - probs.detach()
(Bengio et al. 2013's straight-through gradient)."""
import numpy as np

from tinygrad_seq import creation, functional as F
from tinygrad_seq.tensor import Size

from . import constraints
from .categorical import Categorical
from .distribution import Distribution

__all__ = ["OneHotCategorical", "OneHotCategoricalStraightThrough"]


class OneHotCategorical(Distribution):
    """torch.distributions.OneHotCategorical(probs=None, logits=None, validate_args=None)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.one_hot
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args=None):
        validate = self._validate_args if validate_args is None else bool(validate_args)
        # as torch's, probs / logits are checked when the default setting is on (torch builds its
        # Categorical without validate_args, so validate_args=False only turns off log_prob's value
        # checks) or when validate_args=True (torch's own constructor checks them then)
        self._categorical = Categorical(probs, logits, validate_args=True if validate_args else None)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:], validate_args=False)
        self._validate_args = validate

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(OneHotCategorical, _instance)
        batch_shape = Size(tuple(batch_shape))
        new._categorical = self._categorical.expand(batch_shape)
        Distribution.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def _param(self):
        c = self._categorical
        return c.probs if c._param == "probs" else c.logits

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def mean(self):
        return self._categorical.probs

    @property
    def mode(self):
        probs = self._categorical.probs
        return F.one_hot(probs.argmax(-1), probs.shape[-1]).to(probs.dtype)

    @property
    def variance(self):
        return self._categorical.probs * (1 - self._categorical.probs)

    @property
    def param_shape(self):
        return self._categorical.param_shape

    def sample(self, sample_shape=Size()):
        probs = self._categorical.probs
        indices = self._categorical.sample(sample_shape)
        return F.one_hot(indices, self._categorical._num_events).to(probs.dtype)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        return self._categorical.log_prob(value.argmax(-1))

    def entropy(self):
        return self._categorical.entropy()

    def enumerate_support(self, expand=True):
        n = self.event_shape[0]
        values = creation.tensor(np.eye(n, dtype=self._param.dtype), device=self._param.device)
        values = values.view((n,) + (1,) * len(self.batch_shape) + (n,))
        return values.expand(n, *self.batch_shape, n) if expand else values


class OneHotCategoricalStraightThrough(OneHotCategorical):
    """OneHotCategorical with a straight-through rsample: forward the one-hot draw, backward the
    gradient of probs."""

    has_rsample = True

    def rsample(self, sample_shape=Size()):
        samples = self.sample(sample_shape)
        probs = self._categorical.probs
        return samples + (probs - probs.detach())
