"""The rarer elementwise functions of torch (erf, erfinv, the inverse and hyperbolic
trigonometric ones, exp2, logit; atan2, hypot, logaddexp, xlogy, fmax, fmin), computed by numpy /
scipy on the host, with the derivatives written beside them. Two Function classes serve them
all: the table says what each computes. On "cuda" the values go through the host (these are not
on any model's hot path). Tensor methods and free functions: tensor_more.py, functions.py."""
import numpy as np
from scipy import special

from tinygrad_seq.autograd import Function
from tinygrad_seq.elementwise_layout import relaid_as_elementwise
from tinygrad_seq.torch_gamma_values import trigamma

_SQRT_PI = float(np.sqrt(np.pi))

def _lgamma(x):
    """scipy's gammaln, but -log|x| for |x| below 1e-300 (float64 subnormals, where scipy gives
    inf and torch the finite value; the next term, -0.577 x, is below float64's resolution there),
    and inf at -inf (C's lgamma; scipy gives -inf)."""
    tiny = (np.abs(x) < 1e-300) & (x != 0)
    out = np.where(tiny, -np.log(np.where(tiny, np.abs(x), 1.0)), special.gammaln(x))
    return np.where(x == -np.inf, np.inf, out)


def _at_least_float32(x):
    """float16 computed in float32 (rounded back by the caller), as torch's opmath."""
    return x.astype(np.float32) if x.dtype == np.float16 else x


# name -> (f(x), df/dx from (x, y = f(x)))
UNARY = {
    "erf": (special.erf, lambda x, y: 2.0 / _SQRT_PI * np.exp(-x * x)),
    "erfc": (special.erfc, lambda x, y: -2.0 / _SQRT_PI * np.exp(-x * x)),
    "erfinv": (lambda x: np.where(x == 0, x, special.erfinv(x)),   # -0.0 kept, as torch's
               lambda x, y: _SQRT_PI / 2.0 * np.exp(y * y)),
    "sinh": (np.sinh, lambda x, y: np.cosh(x)),
    "cosh": (np.cosh, lambda x, y: np.sinh(x)),
    "tan": (np.tan, lambda x, y: 1.0 + y * y),
    "asin": (np.arcsin, lambda x, y: 1.0 / np.sqrt(1.0 - x * x)),
    "acos": (np.arccos, lambda x, y: -1.0 / np.sqrt(1.0 - x * x)),
    "atan": (np.arctan, lambda x, y: 1.0 / (1.0 + x * x)),
    "asinh": (np.arcsinh, lambda x, y: 1.0 / np.sqrt(x * x + 1.0)),
    "acosh": (np.arccosh, lambda x, y: 1.0 / np.sqrt(x * x - 1.0)),
    "atanh": (np.arctanh, lambda x, y: 1.0 / (1.0 - x * x)),
    "exp2": (np.exp2, lambda x, y: y * np.log(2.0)),
    "logit": (lambda x: np.log(x / (1 - x)) if x.dtype == np.float16 else special.logit(x),   # torch's float16 steps
              lambda x, y: np.where((x < 0) | (x > 1), np.nan, 1.0 / (x * (1.0 - x)))),
    "lgamma": (_lgamma, lambda x, y: special.psi(x)),
    "digamma": (special.psi, lambda x, y: trigamma(x)),   # torch's (nan at -inf; finite at the poles)
    "i0": (special.i0, lambda x, y: special.i1(x)),
    "sinc": (lambda x: np.sinc(_at_least_float32(x)),
             lambda x, y: np.where(x == 0, 0.0, (np.cos(np.pi * x) - y) / np.where(x == 0, 1.0, x))),
}


def _inv_or_zero(r):
    """1 / r, 0 where r is 0 (atan2's gradient at the origin, as torch's)."""
    return np.where(r == 0, 0.0, 1.0 / np.where(r == 0, 1.0, r))


def _xlogy(a, b):
    zero = (a == 0) & ~np.isnan(b)   # 0 * log(anything but nan) is 0, as torch's
    return np.where(zero, 0.0, a * np.log(np.where(zero, 1.0, b)))


# name -> (f(a, b), (df/da, df/db) from (a, b, y)); a and b broadcast; a None derivative: the
# gradient is 0 whatever the incoming one (torch's zeros_like: g * 0 would be nan at a nan g)
BINARY = {
    "atan2": (np.arctan2, lambda a, b, y: (b * _inv_or_zero(a * a + b * b), -a * _inv_or_zero(a * a + b * b))),
    "hypot": (np.hypot, lambda a, b, y: (a / y, b / y)),
    # torch's 1 / (1 + exp(b - a)): 1 and 0 where one input is infinite (exp(a - y) is nan there)
    "logaddexp": (np.logaddexp, lambda a, b, y: (1.0 / (1.0 + np.exp(b - a)), 1.0 / (1.0 + np.exp(a - b)))),
    "xlogy": (_xlogy, lambda a, b, y: (np.where((a == 0) & (b <= 0), 0.0, np.log(b)), a / b)),   # torch's
    "fmax": (np.fmax, lambda a, b, y: ((a == y) | np.isnan(b), (b == y) & ~(a == y) & ~np.isnan(b))),
    "copysign": (np.copysign, lambda a, b, y: (np.where(a == 0, 0.0, y / np.where(a == 0, 1.0, a)), None)),
    "logaddexp2": (np.logaddexp2, lambda a, b, y: (1.0 / (1.0 + np.exp2(b - a)), 1.0 / (1.0 + np.exp2(a - b)))),
    "fmin": (np.fmin, lambda a, b, y: ((a == y) | np.isnan(b), (b == y) & ~(a == y) & ~np.isnan(b))),
    "nextafter": (np.nextafter, lambda a, b, y: (a != b, None)),   # torch 2.13's: 1, but 0 where a == b
}


# what torch's node saves for each function (derivatives.yaml): the result alone for these,
# the input alone for the rest of UNARY; a write to the other one after the op is no error there.
# Formulas written with y whose torch node keeps only x recompute y in backward.
UNARY_SAVES_RESULT = frozenset({"tan", "exp2"})
UNARY_RECOMPUTES_Y = frozenset({"erfinv", "sinc"})
BINARY_SAVES_RESULT = frozenset({"hypot", "copysign"})
BINARY_RECOMPUTES_Y = frozenset({"fmax", "fmin"})
BINARY_OWN_OPERANDS = frozenset({"hypot"})   # each operand read only for its own gradient


class HostUnary(Function):
    """y = table[name][0](x) on the host, its gradient g * table[name][1](x, y) (ops_special's
    SpecialUnary is this with torch.special's table, saving both)."""
    table = UNARY
    saves_as_torch = True

    @staticmethod
    def forward(ctx, a, name):
        B = ctx.b
        x = B.to_host(a)
        with np.errstate(all="ignore"):   # nan / inf outside the domain, silently as torch's
            y = np.asarray(type(ctx).table[name][0](x), dtype=x.dtype)
        ctx.fn_name = name
        if not type(ctx).saves_as_torch:
            ctx.save_for_backward(x, y)   # saved: an in-place write to either afterwards raises
        elif name in UNARY_SAVES_RESULT:
            ctx.save_for_backward(None, y)
        else:
            ctx.save_for_backward(x, None)
        return B.asarray(y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        fns = type(ctx).table[ctx.fn_name]
        with np.errstate(all="ignore"):
            if y is None and ctx.fn_name in UNARY_RECOMPUTES_Y:
                y = np.asarray(fns[0](x), dtype=x.dtype)
            d = fns[1](x, y)
        return ctx.b.mul(g, ctx.b.asarray(np.asarray(d, dtype=(x if x is not None else y).dtype)))


class HostBinary(Function):
    @staticmethod
    def forward(ctx, a, b, name):
        B = ctx.b
        x, z = B.to_host(a), B.to_host(b)
        with np.errstate(all="ignore"):
            y = np.asarray(BINARY[name][0](x, z), dtype=np.result_type(x, z))
        y = relaid_as_elementwise(y, x, z)   # torch's layout for operands of two layouts
        ctx.fn_name = name
        need = ctx.needs_input_grad   # torch's saved tensors: hypot keeps each operand for its own
        # gradient, copysign its first operand and result; the rest both operands
        keep_x = need[0] or name not in BINARY_OWN_OPERANDS and name != "copysign"
        keep_z = (need[1] or name not in BINARY_OWN_OPERANDS) and name != "copysign"
        ctx.save_for_backward(x if keep_x else None, z if keep_z else None, y if name in BINARY_SAVES_RESULT else None)
        ctx.out_shape, ctx.out_dtype = y.shape, y.dtype
        return B.asarray(y)

    @staticmethod
    def backward(ctx, g):
        x, z, y = ctx.saved_tensors
        with np.errstate(all="ignore"):
            if y is None and ctx.fn_name in BINARY_RECOMPUTES_Y:
                y = np.asarray(BINARY[ctx.fn_name][0](x, z), dtype=ctx.out_dtype)
            zero = np.zeros((), ctx.out_dtype)   # (an operand not kept: its gradient is not needed)
            da, db = BINARY[ctx.fn_name][1](zero if x is None else x, zero if z is None else z, y)
        B = ctx.b
        grads = []
        for need, d, ref in zip(ctx.needs_input_grad, (da, db), (x, z)):
            # the broadcast shape; the engine sums it back down to each input's shape
            grads.append(None if not need else B.zeros(ctx.out_shape, ctx.out_dtype) if d is None else
                         B.mul(g, B.asarray(np.broadcast_to(np.asarray(d, dtype=ctx.out_dtype), ctx.out_shape).copy())))
        if ctx.fn_name in XLOG_FIRST_GRAD and grads[0] is not None:
            grads[0] = zero_where_grad_is_zero(B, grads[0], g, z)
        return tuple(grads)


# torch's gradient of xlogy / xlog1py in x is xlogy(grad, y) / xlog1py(grad, y): 0 where the
# incoming gradient is 0 (a masked entropy term's y = 0 gave 0 * log(0) = nan there)
XLOG_FIRST_GRAD = frozenset(("xlogy", "xlog1py"))


def zero_where_grad_is_zero(B, grad, g, other):
    """grad (g * d/dx on the host) with 0 where g is 0 and `other` is not nan (xlogy(0, y) = 0)."""
    gh, o = B.to_host(g), np.broadcast_to(B.to_host(other), np.shape(B.to_host(grad)))
    zero = np.broadcast_to(gh == 0, o.shape) & ~np.isnan(o)
    return B.asarray(np.where(zero, np.zeros((), B.to_host(grad).dtype), B.to_host(grad))) if zero.any() else grad


class LogCumSumExp(Function):
    """y_i = log sum_{j<=i} exp(x_j) by numpy's running logaddexp. Backward:
    dx_j = sum_{i>=j} g_i exp(x_j - y_i), summed in log space over the positive and the negative
    parts of g (reverse running logaddexp), so no term overflows: x_j - y_i <= 0."""
    @staticmethod
    def forward(ctx, a, dim):
        B = ctx.b
        x = B.to_host(a)
        with np.errstate(all="ignore"):
            y = np.ascontiguousarray(np.logaddexp.accumulate(x, axis=dim))   # torch's scans: row-major
        ctx.dim = dim
        ctx.save_for_backward(x, y)
        return B.asarray(y)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        d = ctx.dim
        gh = ctx.b.to_host(g)

        def tail_sum(part):   # sum_{i>=j} part_i exp(x_j - y_i), part >= 0
            terms = np.log(part) - y
            tail = np.flip(np.logaddexp.accumulate(np.flip(terms, d), axis=d), d)
            return np.exp(x + tail)
        with np.errstate(all="ignore"):
            out = tail_sum(np.maximum(gh, 0)) - tail_sum(np.maximum(-gh, 0))
        return ctx.b.asarray(out.astype(x.dtype))
