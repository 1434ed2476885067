"""torch.distributions.ExponentialFamily: the base of the families whose density is
exp(<t(x), theta> - F(theta) + k(x)) (Bernoulli, Beta, ContinuousBernoulli, Dirichlet,
Exponential, Gamma, Normal, Poisson, Wishart, as torch's).

A family gives _natural_params (theta, a tuple of tensors), _log_normalizer(*theta) (F) and
_mean_carrier_measure (E[k(x)]); entropy() is then the Bregman form
    H = F(theta) - <theta, grad F(theta)> - E[k(x)]
with grad F taken by the engine's autograd at a detached copy of theta (create_graph, as
torch's), and kl_more.py registers torch's KL(p || q) of two members of one family from the
same pieces. Families with a closed form override entropy; one without _mean_carrier_measure
(Poisson) raises NotImplementedError there, as torch's."""
from tinygrad_seq.autograd_api import grad

from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    """torch.distributions.ExponentialFamily: the abstract base; subclasses give the three pieces."""

    @property
    def _natural_params(self):
        """theta: a tuple of tensors, each batch_shape + its own event dimensions."""
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        """F(theta), batch_shape."""
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        """E[k(x)] under the distribution."""
        raise NotImplementedError

    def entropy(self):
        result = -self._mean_carrier_measure
        params = [p.detach().requires_grad_() for p in self._natural_params]
        log_normalizer = self._log_normalizer(*params)
        gradients = grad(log_normalizer.sum(), params, create_graph=True)
        result = result + log_normalizer
        for param, g in zip(params, gradients):
            # each <theta_i, grad_i> summed over everything right of the batch
            result = result - (param * g).reshape(tuple(self._batch_shape) + (-1,)).sum(-1)
        return result
