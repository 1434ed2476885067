"""KL(p || q) involving ContinuousBernoulli (torch.distributions.kl's formulas), registered into
kl.kl_divergence's table when the package loads: ContinuousBernoulli with itself, against
Exponential, Normal, Uniform (inf where the Uniform misses part of [0, 1]) and Pareto (inf);
Beta and Uniform against it; Exponential, Gamma, Gumbel, Laplace, Normal and Pareto against it
(inf: they put mass outside [0, 1]). And torch's fallback for two ExponentialFamily members
without a closed form: the Bregman divergence of the log normaliser (one family only).
torch 2.13 registers no pair for Multinomial, Kumaraswamy, FisherSnedecor or VonMises."""
import math

from tinygrad_seq.autograd_api import grad

from .beta import Beta
from .continuous_bernoulli import ContinuousBernoulli
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .gamma import Gamma
from .gumbel import Gumbel
from .kl import register_kl
from .kl_cross import _infinite
from .laplace import Laplace
from .normal import Normal
from .pareto import Pareto
from .uniform import Uniform
from .utils import _sum_rightmost

for _p in (Exponential, Gamma, Gumbel, Laplace, Normal, Pareto):
    register_kl(_p, ContinuousBernoulli)(_infinite)
register_kl(ContinuousBernoulli, Pareto)(_infinite)   # a Pareto has no mass below its scale


@register_kl(ContinuousBernoulli, ContinuousBernoulli)
def _kl_continuous_bernoulli_continuous_bernoulli(p, q):
    t1 = p.mean * (p.logits - q.logits)
    t2 = p._cont_bern_log_norm() + (-p.probs).log1p()
    t3 = -q._cont_bern_log_norm() - (-q.probs).log1p()
    return t1 + t2 + t3


def _minus_cross_entropy_with(p, q):
    """-H(p) - E_p[log q(x)] for p on [0, 1] and q continuous Bernoulli (needs only p's mean)."""
    return -p.entropy() - p.mean * q.logits - (-q.probs).log1p() - q._cont_bern_log_norm()


@register_kl(Beta, ContinuousBernoulli)
def _kl_beta_continuous_bernoulli(p, q):
    return _minus_cross_entropy_with(p, q)


@register_kl(Uniform, ContinuousBernoulli)
def _kl_uniform_continuous_bernoulli(p, q):
    result = _minus_cross_entropy_with(p, q)
    outside = p.high.ge(q.support.upper_bound) | p.low.le(q.support.lower_bound)   # inf, as torch's (>= and <=)
    return result.where(~outside, math.inf)


@register_kl(ContinuousBernoulli, Exponential)
def _kl_continuous_bernoulli_exponential(p, q):
    return -p.entropy() - q.rate.log() + q.rate * p.mean


@register_kl(ContinuousBernoulli, Normal)
def _kl_continuous_bernoulli_normal(p, q):
    t1 = -p.entropy()
    t2 = 0.5 * (math.log(2.0 * math.pi) + (q.loc / q.scale).pow(2)) + q.scale.log()
    t3 = (p.variance + p.mean.pow(2) - 2.0 * q.loc * p.mean) / (2.0 * q.scale.pow(2))
    return t1 + t2 + t3


@register_kl(ContinuousBernoulli, Uniform)
def _kl_continuous_bernoulli_uniform(p, q):
    result = -p.entropy() + (q.high - q.low).log()
    # torch's test, kept: inf where q.low >= 0 or q.high <= 1 (a Uniform not strictly covering [0, 1])
    outside = q.low.ge(p.support.lower_bound) | q.high.le(p.support.upper_bound)
    return result.where(~outside, math.inf)


@register_kl(ExponentialFamily, ExponentialFamily)
def _kl_expfamily_expfamily(p, q):
    """F(theta_q) - F(theta_p) - <theta_q - theta_p, grad F(theta_p)>, each inner product summed
    over q's event dimensions (torch's); grad F at a detached copy of theta_p, with a graph."""
    if type(p) is not type(q):
        raise NotImplementedError("The cross KL-divergence between different exponential families cannot "
                                  "                            be computed using Bregman divergences")
    p_params = [param.detach().requires_grad_() for param in p._natural_params]
    q_params = q._natural_params
    log_normalizer = p._log_normalizer(*p_params)
    gradients = grad(log_normalizer.sum(), p_params, create_graph=True)
    result = q._log_normalizer(*q_params) - log_normalizer
    for p_param, q_param, g in zip(p_params, q_params, gradients):
        result = result - _sum_rightmost((q_param - p_param) * g, len(q.event_shape))
    return result
