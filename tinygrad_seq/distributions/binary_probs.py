"""BinaryProbsOrLogits: the probs / logits pair of a distribution over a binary event's
probability (Binomial, Geometric, NegativeBinomial, LogitRelaxedBernoulli), each form computed
from the other on first use (clamped as torch's probs_to_logits), and expand()'s copy of the
forms that exist."""
import numbers

from tinygrad_seq.tensor import Size

from .distribution import Distribution
from .utils import broadcast_all, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["BinaryProbsOrLogits"]


class BinaryProbsOrLogits:
    """Mixin: lazy probs <-> logits (binary event); _param is the form the constructor got."""

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self):
        return self._param.size()

    def _expand_probs_or_logits(self, new, batch_shape):
        """new gets each form this one has, expanded to batch_shape; _param the last of them."""
        for name in ("probs", "logits"):
            if name in self.__dict__:
                setattr(new, name, getattr(self, name).expand(*batch_shape))
                new._param = getattr(new, name)

    def _take_param(self, probs, logits):
        """The given form (exactly one of probs and logits) broadcast; returns its batch_shape
        (() for a Python number, as torch's)."""
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        given = probs if probs is not None else logits
        self._param, = broadcast_all(given)
        setattr(self, "probs" if probs is not None else "logits", self._param)
        return Size(()) if isinstance(given, numbers.Number) else self._param.size()

    def _take_count_and_param(self, total_count, probs, logits):
        """Binomial's / NegativeBinomial's total_count and the given form, broadcast together; the
        count takes the form's dtype."""
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        count, param = broadcast_all(total_count, probs if probs is not None else logits)
        setattr(self, "probs" if probs is not None else "logits", param)
        self.total_count, self._param = count.type_as(param), param

    def _expand_param(self, cls, batch_shape, _instance, **kept):
        """expand(): the forms this one has expanded, plus the attributes `kept` as given."""
        new = self._get_checked_instance(cls, _instance)
        batch_shape = Size(tuple(batch_shape))
        for name, value in kept.items():
            setattr(new, name, value)
        self._expand_probs_or_logits(new, batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _expand_with_count(self, cls, batch_shape, _instance):
        return self._expand_param(cls, batch_shape, _instance, total_count=self.total_count.expand(*batch_shape))
