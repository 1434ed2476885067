"""The special functions of torch.special that the engine lacks (erfcx, the scaled Bessel
functions, the normal distribution's ndtr / ndtri / log_ndtr, entr, polygamma, xlog1py, zeta, the
regularised incomplete gammas), computed by scipy.special on the host with torch's derivatives
beside them. On "cuda" the values go through the host. The public functions: special.py."""
import numpy as np
from scipy import special as sp

from tinygrad_seq.autograd import Function
from tinygrad_seq.ops_host import BINARY as _HOST_BINARY, HostUnary, _xlogy

_SQRT_PI = float(np.sqrt(np.pi))
_SQRT_2PI = float(np.sqrt(2.0 * np.pi))


def _at_zero(x, value, expr):
    """expr where x != 0, value at x == 0 (a removable singularity of the derivative)."""
    safe = np.where(x == 0, 1.0, x)
    return np.where(x == 0, value, expr(safe))


# name -> (f(x), df/dx from (x, y = f(x))), torch's derivatives (tools/autograd/derivatives.yaml)
UNARY = {
    "erfcx": (sp.erfcx, lambda x, y: 2.0 * x * y - 2.0 / _SQRT_PI),
    "i0e": (sp.i0e, lambda x, y: sp.i1e(x) - np.sign(x) * y),
    "i1": (sp.i1, lambda x, y: _at_zero(x, 0.5, lambda s: sp.i0(s) - sp.i1(s) / s)),
    "i1e": (sp.i1e, lambda x, y: _at_zero(x, 0.5, lambda s: sp.i0e(s) - sp.i1e(s) * (np.sign(s) + 1.0 / s))),
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
    "airy_ai": lambda x: sp.airy(x)[0],
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
    "zeta": (sp.zeta, None, lambda a, b, y: -a * sp.zeta(a + 1.0, b)),
    "gammainc": (sp.gammainc, None, lambda a, b, y: _igamma_dx(a, b)),
    "gammaincc": (sp.gammaincc, None, lambda a, b, y: -_igamma_dx(a, b)),
}
# torch's names of the derivatives it lacks, for its NotImplementedError
_NO_FIRST_GRAD = {"zeta": "zeta", "gammainc": "igamma: input", "gammaincc": "igammac: input"}


class SpecialUnary(HostUnary):
    """torch.special's one-argument functions (UNARY above) through ops_host's HostUnary."""
    table = UNARY


class Polygamma(Function):
    """The n-th derivative of digamma; its gradient is polygamma(n + 1, x)."""
    @staticmethod
    def forward(ctx, a, n=0):
        x = ctx.b.to_host(a)
        with np.errstate(all="ignore"):
            y = np.asarray(sp.polygamma(n, x), dtype=x.dtype)
        ctx.n = n
        ctx.save_for_backward(x)
        return ctx.b.asarray(y)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        with np.errstate(all="ignore"):
            d = np.asarray(sp.polygamma(ctx.n + 1, x), dtype=x.dtype)
        return ctx.b.mul(g, ctx.b.asarray(d))


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
        return tuple(grads)
