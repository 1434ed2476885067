"""The derivatives of ops_host's functions as Tensor ops, for the create_graph=True backward
(higher_order.py): ops_host writes them on host arrays (first order); here each is written with
differentiable ops, so the gradient of erf, atan2, logaddexp, ... has a graph of its own.

UNARY: name -> d(x, y) = dy/dx, x the input Tensor and y the output Tensor.
BINARY: name -> (d/da, d/db) from (a, b, y); None: the gradient is a constant 0, whatever the
incoming one (torch's zeros_like: copysign's and nextafter's d/db)."""
import numpy as np

from tinygrad_seq import autograd, ops, ops_host
from tinygrad_seq.device import backend_of
from tinygrad_seq.no_graph import NoGraph
from tinygrad_seq.ops_host import HostUnary
from tinygrad_seq.ops_special import Polygamma, SpecialUnary

_SQRT_PI = float(np.sqrt(np.pi))
_SQRT_2PI = float(np.sqrt(2.0 * np.pi))


def _host(name):
    return lambda x: HostUnary.apply(x, name=name)


def _special(name):
    return lambda x: SpecialUnary.apply(x, name=name)


def _masked(keep, value, fallback):
    """value where keep (a host bool array), fallback elsewhere, reading value only where kept."""
    return ops.Where.apply(value, fallback, cond=keep)


def _zero_where(cond, value):
    """value with a real 0 where cond (a host bool array): value * 0 would be nan at an inf
    (xlogy's log(0)); torch's masked_fill, whose gradient there is 0."""
    return ops.MaskedFill.apply(value, mask=cond, value=0.0)


UNARY = {
    "erf": lambda x, y: (-(x * x)).exp() * (2.0 / _SQRT_PI),
    "erfc": lambda x, y: (-(x * x)).exp() * (-2.0 / _SQRT_PI),
    "erfinv": lambda x, y: (y * y).exp() * (_SQRT_PI / 2.0),
    "sinh": lambda x, y: _host("cosh")(x),
    "cosh": lambda x, y: _host("sinh")(x),
    "tan": lambda x, y: y * y + 1.0,
    "asin": lambda x, y: (1.0 - x * x).rsqrt(),
    "acos": lambda x, y: -(1.0 - x * x).rsqrt(),
    "atan": lambda x, y: 1.0 / (x * x + 1.0),
    "asinh": lambda x, y: (x * x + 1.0).rsqrt(),
    "acosh": lambda x, y: (x * x - 1.0).rsqrt(),
    "atanh": lambda x, y: 1.0 / (1.0 - x * x),
    "exp2": lambda x, y: y * float(np.log(2.0)),
    "logit": lambda x, y: ops.MaskedFill.apply(1.0 / (x * (1.0 - x)), mask=(x.array < 0) | (x.array > 1),
                                               value=float("nan")),   # nan outside [0, 1], as the first order
    "lgamma": lambda x, y: _host("digamma")(x),
    "digamma": lambda x, y: Polygamma.apply(x, n=1),
    "i0": lambda x, y: _special("i1")(x),
    "sinc": lambda x, y: _zero_where(x.array == 0, ((x * np.pi).cos() - y) / _masked(x.array != 0, x, x * 0.0 + 1.0)),
}


def _host_mask(name, side):
    """ops_host's 0/1 derivative of name w.r.t. input side (0: a, 1: b), read from the host
    values, as a constant Tensor of the output's shape: torch's masked_fill / where gradient
    (fmax, fmin, nextafter), differentiable through the incoming gradient only."""
    def derivative(a, b, y):
        B = backend_of(y.array)
        host = [B.to_host(t.array) for t in (a, b, y)]
        with np.errstate(all="ignore"):
            d = ops_host.BINARY[name][1](*host)[side]
        mask = np.broadcast_to(np.asarray(d, dtype=host[2].dtype), host[2].shape).copy()
        return autograd._Tensor._wrap(B.asarray(mask), y.device)
    return derivative


def _inv_or_zero(r):
    nonzero = r.array != 0
    return _zero_where(~nonzero, 1.0 / _masked(nonzero, r, r * 0.0 + 1.0))


BINARY = {
    "atan2": lambda a, b, y: (b * _inv_or_zero(a * a + b * b), -a * _inv_or_zero(a * a + b * b)),
    "hypot": lambda a, b, y: (a / y, b / y),
    "logaddexp": lambda a, b, y: (1.0 / ((b - a).exp() + 1.0), 1.0 / ((a - b).exp() + 1.0)),   # ops_host's
    "logaddexp2": lambda a, b, y: (1.0 / (_host("exp2")(b - a) + 1.0), 1.0 / (_host("exp2")(a - b) + 1.0)),
    # torch's: d/da = log(b), 0 where a == 0 and b <= 0; d/db = a / b
    "xlogy": lambda a, b, y: (_zero_where((a.array == 0) & (b.array <= 0), b.log()), a / b),
    "fmax": lambda a, b, y: (_host_mask("fmax", 0)(a, b, y), _host_mask("fmax", 1)(a, b, y)),
    "fmin": lambda a, b, y: (_host_mask("fmin", 0)(a, b, y), _host_mask("fmin", 1)(a, b, y)),
    "nextafter": lambda a, b, y: (_host_mask("nextafter", 0)(a, b, y), None),
    # torch's copysign_tensor_self_backward: result / self, 0 where self == 0 (nan beyond, as
    # torch's); d/db = 0
    "copysign": lambda a, b, y: (_zero_where(a.array == 0, y / a), None),
}


# torch.special's functions (ops_special.SpecialUnary), as UNARY: name -> d(x, y) = dy/dx
SPECIAL_UNARY = {
    "erfcx": lambda x, y: 2.0 * x * y - 2.0 / _SQRT_PI,
    "ndtr": lambda x, y: (-0.5 * (x * x)).exp() * (1.0 / _SQRT_2PI),
    "log_ndtr": lambda x, y: (-0.5 * (x * x) - y).exp() * (1.0 / _SQRT_2PI),
    "ndtri": lambda x, y: (0.5 * (y * y)).exp() * _SQRT_2PI,
    "entr": lambda x, y: -(x.log() + 1.0),
}


def special_unary_graph_backward(ctx, ps, grads):
    """SpecialUnary's create_graph=True backward (recompose.DIRECT): g times the derivative
    above, from the output recomputed by the same op; a function not listed stays first-order."""
    if ctx.fn_name not in SPECIAL_UNARY:
        raise NoGraph()
    x = ps[0]
    return (grads[0] * SPECIAL_UNARY[ctx.fn_name](x, _special(ctx.fn_name)(x)),)


def logcumsumexp_graph_backward(ctx, ps, grads):
    """LogCumSumExp's create_graph=True backward (recompose.DIRECT): dx_j = sum_{i>=j} g_i
    exp(x_j - y_i) = exp(x_j - y_j) sum_{i>=j} exp(y_j - y_i) g_i, linear in g with each exponent
    <= 0 (y ascends along dim). Not torch's log|g| form: that has no derivative at g = 0, where
    func.jvp's probes sit. The sum is one product with a [..., n, n] triangle of weights."""
    x, g, d = ps[0], grads[0], ctx.dim
    if x.ndim == 0 or g.numel() == 0:
        return (g,)
    y = ops_host.LogCumSumExp.apply(x, dim=d)
    yl, gl = y.transpose(d, -1), g.transpose(d, -1)                   # [..., n]
    n = yl.shape[-1]
    below = autograd._Tensor._wrap(np.tril(np.ones((n, n), bool), -1), "cpu")   # i < j: no term
    below = below if x.device == "cpu" else below.to(x.device)
    gaps = (yl.unsqueeze(-1) - yl.unsqueeze(-2)).masked_fill(below, -np.inf)    # [..., j, i] y_j - y_i
    tail = (gaps.exp() @ gl.unsqueeze(-1)).squeeze(-1)
    return (((x - y).transpose(d, -1).exp() * tail).transpose(d, -1),)
