"""torch.distributions.LogisticNormal: a Normal over K - 1 reals pushed onto the K-simplex by
StickBreakingTransform (a topic-proportions prior with correlations a Dirichlet lacks), a
TransformedDistribution as torch's.

    m = LogisticNormal(loc, scale)        # loc, scale [..., K - 1]; event_shape [K]
    p = m.rsample()                       # on the simplex, gradients into loc and scale

As torch's: a scalar Normal is first expanded to batch [1] (so the event is [2]); the Normal's
last dimension becomes the event (Independent), log_prob inverts the stick-breaking; draws are
the Normal's (torch's numbers under the same seed) stick-broken."""
from . import constraints
from .normal import Normal
from .transformed_distribution import TransformedDistribution
from .transforms import StickBreakingTransform

__all__ = ["LogisticNormal"]


class LogisticNormal(TransformedDistribution):
    """torch.distributions.LogisticNormal(loc, scale, validate_args=None)."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        base_dist = Normal(loc, scale, validate_args=validate_args)
        if not base_dist.batch_shape:
            base_dist = base_dist.expand([1])
        super().__init__(base_dist, StickBreakingTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return super().expand(batch_shape, _instance=self._get_checked_instance(LogisticNormal, _instance))

    @property
    def loc(self):
        return self.base_dist.base_dist.loc

    @property
    def scale(self):
        return self.base_dist.base_dist.scale
