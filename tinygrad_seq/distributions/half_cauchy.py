"""torch.distributions.HalfCauchy: |X| of a zero-centred Cauchy (a weakly informative prior on a
scale), folded as HalfNormal (half_normal.Folded); mean inf, variance the Cauchy's (inf)."""
import math

from tinygrad_seq import creation

from .cauchy import Cauchy
from .half_normal import Folded
from .transforms import AbsTransform

__all__ = ["HalfCauchy"]


class HalfCauchy(Folded):
    """torch.distributions.HalfCauchy(scale, validate_args=None)."""

    def __init__(self, scale, validate_args=None):
        super().__init__(Cauchy(0, scale, validate_args=False), AbsTransform(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return super().expand(batch_shape, _instance=self._get_checked_instance(HalfCauchy, _instance))

    @property
    def mean(self):
        return creation.full(tuple(self._extended_shape()), math.inf, dtype=self.scale.dtype, device=self.scale.device)

    @property
    def variance(self):
        return self.base_dist.variance
