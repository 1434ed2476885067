"""torch.special: the Tensor methods under torch's special names (expit, gammaln, psi, ...) and
the functions the engine lacks (ops_special.py), with torch's gradients. Integer input gives the
default float dtype, as torch's. The Bessel and Airy functions and the orthogonal polynomials
(chebyshev_polynomial_t, ..., special_polynomials.py) have no gradient in torch, and none here
(their results do not require grad). A torch.special name not here raises an
AttributeError saying so."""
import numbers

import numpy as np

from tinygrad_seq.argument_types import require_tensor_argument
from tinygrad_seq.ops_special import NO_GRAD, Polygamma, SpecialBinary, SpecialUnary
from tinygrad_seq.out_param import takes_out
from tinygrad_seq.special_polynomials import POLYNOMIALS, evaluate as _evaluate_polynomial
from tinygrad_seq.tensor import Tensor
from tinygrad_seq.tensor_more import float_operands


def _tensor(name, x):
    require_tensor_argument(x, f"special_{name}", "input", 1)
    return x._floating()


def _unary(name):
    @takes_out(same_dtype=False)
    def fn(input):
        return SpecialUnary.apply(_tensor(name, input), name=name)
    fn.__name__ = name
    fn.__doc__ = f"torch.special.{name}, elementwise (ops_special.UNARY)."
    return fn


def _no_grad(name):
    @takes_out(same_dtype=False)
    def fn(input):
        x = _tensor(name, input)
        with np.errstate(all="ignore"):
            y = np.asarray(NO_GRAD[name](x.detach().numpy()), dtype=x.dtype)
        return Tensor._wrap(y, "cpu").to(x.device)
    fn.__name__ = name
    fn.__doc__ = f"torch.special.{name}, elementwise, without a gradient (as torch's)."
    return fn


def _operands(name, a, b):
    """Two operands, either of which may be a Python number, in one float dtype (torch's rule)."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(f"special_{name}(): expected at least one Tensor argument")
    if not isinstance(a, Tensor):
        a = b._other(a)
    return float_operands(a, b)


def _binary(name):
    @takes_out(same_dtype=False)
    def fn(input, other):
        return SpecialBinary.apply(*_operands(name, input, other), name=name)
    fn.__name__ = name
    fn.__doc__ = f"torch.special.{name}, elementwise with broadcasting (ops_special.BINARY)."
    return fn


erfcx, i0e, i1, i1e = _unary("erfcx"), _unary("i0e"), _unary("i1"), _unary("i1e")
ndtr, ndtri, log_ndtr, entr = _unary("ndtr"), _unary("ndtri"), _unary("log_ndtr"), _unary("entr")
bessel_j0, bessel_j1, bessel_y0, bessel_y1 = (_no_grad(n) for n in ("bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1"))
modified_bessel_i0, modified_bessel_i1, modified_bessel_k0, modified_bessel_k1 = (
    _no_grad(n) for n in ("modified_bessel_i0", "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1"))
scaled_modified_bessel_k0 = _no_grad("scaled_modified_bessel_k0")
scaled_modified_bessel_k1 = _no_grad("scaled_modified_bessel_k1")
spherical_bessel_j0, airy_ai = _no_grad("spherical_bessel_j0"), _no_grad("airy_ai")
xlogy, xlog1py, zeta = _binary("xlogy"), _binary("xlog1py"), _binary("zeta")
gammainc, gammaincc = _binary("gammainc"), _binary("gammaincc")


def _polynomial(name):
    @takes_out(same_dtype=False)
    def fn(x, n):
        x, n = _operands(name, x, n)   # either may be a number; int / bool ones become the default float dtype
        if x.dtype == np.float16:
            raise NotImplementedError(f"\"{name}_cpu\" not implemented for 'Half'")
        y = _evaluate_polynomial(name, x.detach().numpy(), n.detach().numpy())
        return Tensor._wrap(np.asarray(y, dtype=x.dtype), "cpu").to(x.device)
    fn.__name__ = name
    fn.__doc__ = f"torch.special.{name}(x, n): the degree-n polynomial at x (special_polynomials.py), no gradient."
    return fn


for _name in POLYNOMIALS:
    globals()[_name] = _polynomial(_name)


@takes_out(same_dtype=False)
def expit(input):
    return _tensor("expit", input).sigmoid()


@takes_out(same_dtype=False)
def logit(input, eps=None):
    """log(x / (1 - x)); eps clamps x to [eps, 1 - eps] first (gradient 0 outside)."""
    return _tensor("logit", input).logit(eps)


def _method(name, method=None):
    @takes_out(same_dtype=False)
    def fn(input):
        return getattr(_tensor(name, input), method or name)()
    fn.__name__ = name
    fn.__doc__ = f"torch.special.{name}: Tensor.{method or name}."
    return fn


erf, erfc, erfinv = _method("erf"), _method("erfc"), _method("erfinv")
exp2, expm1, log1p = _method("exp2"), _method("expm1"), _method("log1p")
gammaln, digamma, psi = _method("gammaln", "lgamma"), _method("digamma"), _method("psi", "digamma")
i0, sinc = _method("i0"), _method("sinc")


@takes_out(same_dtype=False)
def polygamma(n, input):
    """The n-th derivative of digamma (n = 0: digamma itself)."""
    if not isinstance(n, numbers.Integral) or isinstance(n, bool):
        raise TypeError(f"special_polygamma(): argument 'n' (position 1) must be int, not {type(n).__name__}")
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return Polygamma.apply(_tensor("polygamma", input), n=int(n))


@takes_out(same_dtype=False)
def multigammaln(input, p):
    """The log of the multivariate gamma function of dimension p:
    p (p - 1) / 4 log(pi) + sum_{i < p} lgamma(x - i / 2)."""
    x = _tensor("multigammaln", input)
    if not isinstance(p, numbers.Integral) or p < 1:
        raise RuntimeError(f"p has to be greater than or equal to 1, got {p}")
    halves = Tensor._wrap(np.arange(p, dtype=x.dtype) / 2.0, "cpu").to(x.device)
    return (x.unsqueeze(-1) - halves).lgamma().sum(-1) + p * (p - 1) / 4.0 * float(np.log(np.pi))


@takes_out(same_dtype=False)
def round(input, *, decimals=0):   # noqa: A001  (torch's name)
    return input.round(decimals=decimals)


@takes_out(same_dtype=False)
def logsumexp(input, dim=None, keepdim=False, *, axis=None):   # axis=: numpy's name for dim, as torch's
    return input.logsumexp(dim, keepdim, axis=axis)


def softmax(input, dim=None, *, dtype=None, axis=None):
    return input.softmax(dim, dtype=dtype, axis=axis)


def log_softmax(input, dim=None, *, dtype=None, axis=None):
    return input.log_softmax(dim, dtype=dtype, axis=axis)


def __getattr__(name):
    from tinygrad_seq.missing import submodule_attribute_error
    raise submodule_attribute_error("torch.special", "tinygrad_seq.special", name)
