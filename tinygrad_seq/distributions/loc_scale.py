"""LocScale: the base of the location-scale families (Normal, Laplace, Cauchy): loc and scale
broadcast to one batch_shape (() when both are Python numbers), real support, reparameterised
draws, and expand() of both parameters, as each of torch's classes writes them."""
from . import constraints
from .distribution import Distribution
from .utils import batch_shape_of, broadcast_all

__all__ = ["LocScale"]


class LocScale(Distribution):
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(batch_shape_of((loc, scale), (self.loc,)), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        # the family's own class (Normal for a subclass of Normal): torch's check that a subclass
        # with its own __init__ defines its own expand
        family = next(c for c in type(self).__mro__ if LocScale in c.__bases__)
        return self._expand_params(family, ("loc", "scale"), batch_shape, _instance)
