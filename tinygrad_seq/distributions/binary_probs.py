"""BinaryProbsOrLogits: the probs / logits pair of a distribution over a binary event's
probability (Binomial, Geometric, NegativeBinomial, LogitRelaxedBernoulli), each form computed
from the other on first use (clamped as torch's probs_to_logits), and expand()'s copy of the
forms that exist."""
from .utils import lazy_property, logits_to_probs, probs_to_logits

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
