"""torch.distributions.Chi2: Gamma(df / 2, 1 / 2), the Student t's mixing variable (studentT.py)."""
import numbers

from . import constraints
from .gamma import Gamma
from .utils import broadcast_all

__all__ = ["Chi2"]


class Chi2(Gamma):
    """torch.distributions.Chi2(df, validate_args=None): Gamma(df / 2, 1 / 2)."""

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        df_tensor, = broadcast_all(df)
        super().__init__(0.5 * df_tensor if not isinstance(df, numbers.Number) else 0.5 * df, 0.5,
                         validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Chi2, _instance)
        return super().expand(batch_shape, new)

    @property
    def df(self):
        return self.concentration * 2
