"""The special functions of torch.special that the engine lacks (erfcx, the scaled Bessel
functions, the normal distribution's ndtr / ndtri / log_ndtr, entr, polygamma, xlog1py, zeta, the
regularised incomplete gammas), computed by scipy.special on the host with torch's derivatives
beside them. On "cuda" the values go through the host. The public functions: special.py."""
import numpy as np
from scipy import special as sp

from tinygrad_seq.autograd import Function
from tinygrad_seq.ops_host import BINARY as _HOST_BINARY, XLOG_FIRST_GRAD, HostUnary, _xlogy, zero_where_grad_is_zero
from tinygrad_seq.torch_gamma_values import polygamma as _polygamma, zeta as _zeta

_SQRT_PI = float(np.sqrt(np.pi))
_SQRT_2PI = float(np.sqrt(2.0 * np.pi))


def _where_tiny(x, value, expr):
    """expr where |x| > the dtype's eps, value there (a removable singularity of the derivative:
    torch's i1_backward / i1e_backward give 0.5 for |x| <= eps, subnormals included)."""
    tiny = np.abs(x) <= np.finfo(x.dtype).eps
    return np.where(tiny, value, expr(np.where(tiny, 1.0, x)))


def _airy_ai(x):
    """scipy's Ai(x), with torch's cases: nan at +-inf, 0 above 103.892 (scipy: nan far out)."""
    return np.where(np.isinf(x), np.nan, np.where(x > 103.892, 0.0, sp.airy(x)[0]))


# name -> (f(x), df/dx from (x, y = f(x))), torch's derivatives (tools/autograd/derivatives.yaml)
UNARY = {
    "erfcx": (sp.erfcx, lambda x, y: 2.0 * x * y - 2.0 / _SQRT_PI),
    "i0e": (sp.i0e, lambda x, y: sp.i1e(x) - np.sign(x) * y),
    "i1": (sp.i1, lambda x, y: _where_tiny(x, 0.5, lambda s: sp.i0(s) - sp.i1(s) / s)),
    "i1e": (sp.i1e, lambda x, y: _where_tiny(x, 0.5, lambda s: sp.i0e(s) - sp.i1e(s) * np.sign(s) - sp.i1e(s) / s)),
    "ndtr": (sp.ndtr, lambda x, y: np.exp(-0.5 * x * x) / _SQRT_2PI),
    "ndtri": (sp.ndtri, lambda x, y: _SQRT_2PI * np.exp(0.5 * y * y)),
    "log_ndtr": (sp.log_ndtr, lambda x, y: np.exp(-0.5 * x * x - y) / _SQRT_2PI),
    "entr": (sp.entr, lambda x, y: -(1.0 + np.log(x))),
}

# torch's functions without a derivative (their results do not require grad)
NO_GRAD = {
    "bessel_j0": sp.j0, "bessel_j1": sp.j1, "bessel_y0": sp.y0, "bessel_y1": sp.y1,
    "modified_bessel_i0": sp.i0, "modified_bessel_i1": sp.i1,
    "modified_bessel_k0": sp.k0, "modified_bessel_k1": sp.k1,
    "scaled_modified_bessel_k0": sp.k0e, "scaled_modified_bessel_k1": sp.k1e,
    "spherical_bessel_j0": lambda x: sp.spherical_jn(0, x),
    "airy_ai": _airy_ai,
}


def _xlog1py(a, b):
    zero = (a == 0) & ~np.isnan(b)   # 0 * log1p(anything but nan) is 0, as torch's
    return np.where(zero, 0.0, a * np.log1p(np.where(zero, 0.0, b)))


def _igamma_dx(a, x):
    """d/dx of the regularised lower incomplete gamma P(a, x): x^(a-1) e^-x / Gamma(a)."""
    return np.exp((a - 1.0) * np.log(x) - x - sp.gammaln(a))


_xlogy_grads = _HOST_BINARY["xlogy"][1]

# name -> (f(a, b), df/da or None (torch has none: backward raises), df/db), a and b broadcast
BINARY = {
    "xlogy": (_xlogy, lambda a, b, y: _xlogy_grads(a, b, y)[0], lambda a, b, y: a / b),   # ops_host's
    "xlog1py": (_xlog1py,
                lambda a, b, y: np.where((a == 0) & (b <= -1.0), 0.0, _xlog1py(np.ones_like(a), b)),
                lambda a, b, y: a / (b + 1.0)),
    "zeta": (_zeta, None, lambda a, b, y: -a * _zeta(a + 1.0, b)),
    "gammainc": (sp.gammainc, None, lambda a, b, y: _igamma_dx(a, b)),
    "gammaincc": (sp.gammaincc, None, lambda a, b, y: -_igamma_dx(a, b)),
}
# torch's names of the derivatives it lacks, for its NotImplementedError
_NO_FIRST_GRAD = {"zeta": "zeta", "gammainc": "igamma: input", "gammaincc": "igammac: input"}


class SpecialUnary(HostUnary):
    """torch.special's one-argument functions (UNARY above) through ops_host's HostUnary."""
    table = UNARY
    saves_as_torch = False   # (both x and y: some formulas read each)


class Polygamma(Function):
    """The n-th derivative of digamma; its gradient is polygamma(n + 1, x)."""
    @staticmethod
    def forward(ctx, a, n=0):
        x = ctx.b.to_host(a)
        y = _polygamma(n, x)
        ctx.n = n
        ctx.save_for_backward(x)
        return ctx.b.asarray(y)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return ctx.b.mul(g, ctx.b.asarray(_polygamma(ctx.n + 1, x)))


class SpecialBinary(Function):
    @staticmethod
    def forward(ctx, a, b, name):
        x, z = ctx.b.to_host(a), ctx.b.to_host(b)
        with np.errstate(all="ignore"):
            y = np.asarray(BINARY[name][0](x, z), dtype=np.result_type(x, z))
        ctx.fn_name = name
        ctx.save_for_backward(x, z, y)
        return ctx.b.asarray(y)

    @staticmethod
    def backward(ctx, g):
        x, z, y = ctx.saved_tensors
        _, da_fn, db_fn = BINARY[ctx.fn_name]
        if ctx.needs_input_grad[0] and da_fn is None:
            raise NotImplementedError(f"the derivative for '{_NO_FIRST_GRAD[ctx.fn_name]}' is not implemented.")
        B = ctx.b
        grads = []
        for need, fn in zip(ctx.needs_input_grad, (da_fn, db_fn)):
            if not need:
                grads.append(None)
                continue
            with np.errstate(all="ignore"):
                d = np.broadcast_to(np.asarray(fn(x, z, y), dtype=y.dtype), y.shape)
            grads.append(B.mul(g, B.asarray(np.ascontiguousarray(d))))   # the engine sums broadcasting back
        if ctx.fn_name in XLOG_FIRST_GRAD and grads[0] is not None:
            grads[0] = zero_where_grad_is_zero(B, grads[0], g, z)
        return tuple(grads)


class LogitWithEps(Function):
    """torch's logit(x, eps): x below eps becomes eps, else x above 1 - eps becomes 1 - eps (in that
    order, so for eps > 0.5 every x moves), then log(x / (1 - x)); eps and 1 - eps are rounded to
    x's dtype first, float16 is computed in float32. Gradient 1 / (x (1 - x)) where x was not
    moved, 0 where it was (nan stays nan), as torch's logit_backward."""
    @staticmethod
    def forward(ctx, a, eps):
        x = ctx.b.to_host(a)
        lo, hi = x.dtype.type(eps), x.dtype.type(1.0 - eps)
        z = np.where(x < lo, lo, np.where(x > hi, hi, x))
        z = z.astype(np.float32) if z.dtype == np.float16 else z
        with np.errstate(all="ignore"):
            y = np.asarray(np.log(z / (1 - z)), dtype=x.dtype)
        ctx.lo, ctx.hi = lo, hi
        ctx.save_for_backward(x)
        return ctx.b.asarray(y)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        with np.errstate(all="ignore"):
            d = np.where((x < ctx.lo) | (x > ctx.hi), 0.0, 1.0 / (x * (1.0 - x)))
        return ctx.b.mul(g, ctx.b.asarray(np.asarray(d, dtype=x.dtype)))


# ---------------------------------------------------------------- gradients with graphs (create_graph=True)
def polygamma_graph_backward(ctx, ps, grads):
    """Polygamma's gradient g * polygamma(n + 1, x), itself differentiable (torch's)."""
    return (grads[0] * Polygamma.apply(ps[0], n=ctx.n + 1),)


def logit_graph_backward(ctx, ps, grads):
    """LogitWithEps's gradient as torch's infinitely_differentiable_logit_backward: g / (x (1 - x))
    where lo <= x <= hi, 0 elsewhere (nan x included: the comparison is false there)."""
    from tinygrad_seq import ops
    x = ps[0]
    outside = ~((x.array >= ctx.lo) & (x.array <= ctx.hi))
    return (ops.MaskedFill.apply(grads[0] / (x * (1.0 - x)), mask=outside, value=0.0),)
