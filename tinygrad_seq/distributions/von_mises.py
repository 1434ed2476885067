"""torch.distributions.VonMises: the circular normal, density exp(k cos(x - loc)) / (2 pi I0(k))
(angles: headings, joint angles, wind directions, the phase of a periodic signal).

As torch's: loc and value any real (read modulo 2 pi), concentration k positive; log_prob with
log I0 from torch's _log_modified_bessel_fn (the Abramowitz-Stegun polynomial approximations,
small-argument below 3.75, large-argument above, accurate to about 1e-7 relative: torch's
values, not the exact Bessel function), the circular mean and mode (loc) and the circular
variance 1 - I1(k)/I0(k), with gradients into loc and k. No rsample, as torch's. sample() is
torch's Best-Fisher (1979) rejection sampler, run in float64 and cast back: each round draws
u ~ U[0, 1) of shape (3,) + sample_shape + batch_shape from ts.rand (torch's stream) and keeps
the first accepted proposal of each element, so after the same seed the draws are torch's."""
import math

from tinygrad_seq import creation, dtypes
from tinygrad_seq.grad_mode import no_grad
from tinygrad_seq.tensor import Size

from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, lazy_property

__all__ = ["VonMises"]


def _eval_poly(y, coef):
    """coef[0] + coef[1] y + coef[2] y^2 + ..., by Horner's rule."""
    coef = list(coef)
    result = coef.pop()
    while coef:
        result = coef.pop() + y * result
    return result


# Abramowitz & Stegun 9.8.1-9.8.4: I0, I1 for x < 3.75 (in (x/3.75)^2) and x >= 3.75 (in 3.75/x,
# scaled by exp(x)/sqrt(x)); torch's coefficients
_I0_COEF_SMALL = [1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.360768e-1, 0.45813e-2]
_I0_COEF_LARGE = [0.39894228, 0.1328592e-1, 0.225319e-2, -0.157565e-2, 0.916281e-2, -0.2057706e-1,
                  0.2635537e-1, -0.1647633e-1, 0.392377e-2]
_I1_COEF_SMALL = [0.5, 0.87890594, 0.51498869, 0.15084934, 0.2658733e-1, 0.301532e-2, 0.32411e-3]
_I1_COEF_LARGE = [0.39894228, -0.3988024e-1, -0.362018e-2, 0.163801e-2, -0.1031555e-1, 0.2282967e-1,
                  -0.2895312e-1, 0.1787654e-1, -0.420059e-2]
_COEF_SMALL = [_I0_COEF_SMALL, _I1_COEF_SMALL]
_COEF_LARGE = [_I0_COEF_LARGE, _I1_COEF_LARGE]


def _log_modified_bessel_fn(x, order=0):
    """log(I_order(x)) for x > 0, order 0 or 1 (torch's approximation)."""
    if order != 0 and order != 1:
        raise AssertionError(f"order must be 0 or 1, got {order}")
    y = (x / 3.75).pow(2)
    small = _eval_poly(y, _COEF_SMALL[order])
    if order == 1:
        small = x.abs() * small
    small = small.log()
    large = x - 0.5 * x.log() + _eval_poly(3.75 / x, _COEF_LARGE[order]).log()
    return small.where(x < 3.75, large)


def _rejection_sample(loc, concentration, proposal_r, shape):
    """Best & Fisher's wrapped-Cauchy-envelope sampler (float64 tensors broadcasting to shape):
    rounds of three uniforms until every element has accepted once; the draw wrapped to [-pi, pi)."""
    x = creation.zeros(tuple(shape), dtype=loc.dtype, device=loc.device)
    done = creation.zeros(tuple(shape), dtype=dtypes.bool, device=loc.device)
    while not bool(done.all().item()):
        u1, u2, u3 = creation.rand((3,) + tuple(shape), dtype=loc.dtype, device=loc.device).unbind()
        z = (math.pi * u1).cos()
        f = (1 + proposal_r * z) / (proposal_r + z)
        c = concentration * (proposal_r - f)
        accept = ((c * (2 - c) - u2) > 0) | ((c / u2).log() + 1 - c >= 0)
        if bool(accept.any().item()):
            # an element accepted in an earlier round is overwritten again, as torch's
            x = ((u3 - 0.5).sign() * f.acos()).where(accept, x)
            done = done | accept
    return (x + math.pi + loc) % (2 * math.pi) - math.pi


class VonMises(Distribution):
    """torch.distributions.VonMises(loc, concentration, validate_args=None)."""

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc, concentration, validate_args=None):
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, Size(()), validate_args)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_prob = self.concentration * (value - self.loc).cos()
        return log_prob - math.log(2 * math.pi) - _log_modified_bessel_fn(self.concentration, order=0)

    @lazy_property
    def _loc(self):
        return self.loc.to(dtypes.float64)

    @lazy_property
    def _concentration(self):
        return self.concentration.to(dtypes.float64)

    @lazy_property
    def _proposal_r(self):
        """The wrapped-Cauchy envelope's r = (1 + rho^2) / (2 rho); 1/k + k (its second-order
        expansion) where k < 1e-5."""
        kappa = self._concentration
        tau = 1 + (1 + 4 * kappa.pow(2)).sqrt()
        rho = (tau - (2 * tau).sqrt()) / (2 * kappa)
        proposal_r = (1 + rho.pow(2)) / (2 * rho)
        return (1 / kappa + kappa).where(kappa < 1e-5, proposal_r)

    def sample(self, sample_shape=Size()):
        """Angles in [-pi, pi) of shape sample_shape + batch_shape, in loc's dtype (drawn in float64:
        float32 hangs the sampler for small concentrations, torch's issue #88443)."""
        shape = self._extended_shape(sample_shape)
        with no_grad():
            draws = _rejection_sample(self._loc.detach(), self._concentration.detach(),
                                      self._proposal_r.detach(), shape)
            return draws.to(self.loc.dtype)

    def expand(self, batch_shape, _instance=None):
        """A new VonMises of the expanded parameters (torch's: Distribution.expand is not defined)."""
        batch_shape = Size(tuple(batch_shape))
        validate_args = self.__dict__.get("_validate_args")
        return type(self)(self.loc.expand(*batch_shape), self.concentration.expand(*batch_shape),
                          validate_args=validate_args)

    @property
    def mean(self):
        """The circular mean."""
        return self.loc

    @property
    def mode(self):
        return self.loc

    @lazy_property
    def variance(self):
        """The circular variance 1 - I1(k) / I0(k)."""
        return 1 - (_log_modified_bessel_fn(self.concentration, order=1)
                    - _log_modified_bessel_fn(self.concentration, order=0)).exp()
