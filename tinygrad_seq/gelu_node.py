"""The GELU's nodes (torch's GeluBackward0): exact, x Phi(x) with Phi the standard normal CDF, and
approximate="tanh", x / 2 (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).

On the CPU, a C-contiguous float32 / float64 input (large enough: backend_cpu.elementwise_kernels)
takes one pass forward and one backward (kernels/elementwise_cpu.py, torch's formulas); anything
else (CUDA, float16, strided views, small arrays) runs the same formulas as the backend's ops.
Under create_graph=True each backward runs on Tensors (higher_order.py) and builds a graph from
those ops: the exact node's saved CDF is then saved_as_tensors' NormalCdf of its input, the tanh
node's saved input its parent (saved_are_inputs).
"""
import math

import numpy as np

from tinygrad_seq import backend_cpu
from tinygrad_seq.autograd import Function

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TANH_SCALE = math.sqrt(2.0 / math.pi)
_KAPPA = 0.044715


def _kernels(*arrays):
    """kernels.elementwise_cpu when its kernels take these numpy arrays, else None."""
    return backend_cpu.elementwise_kernels(*arrays) if type(arrays[0]) is np.ndarray else None


def _normal_cdf(B, x):
    """Phi(x) on the host via scipy's erf, in x's dtype (float64 arithmetic for float32)."""
    from scipy.special import erf
    h = B.to_host(x)
    return B.asarray((0.5 * (1.0 + erf(h / np.sqrt(2.0)))).astype(h.dtype))


class _ErfGelu(Function):
    """x * Phi(x). The kernel path saves only x: its backward recomputes Phi beside the density,
    which shares its exponential."""
    @staticmethod
    def forward(ctx, x):
        k = _kernels(x)
        if k is not None:
            ctx.save_for_backward(x, None)
            return k.gelu(x)
        B = ctx.b
        cdf = _normal_cdf(B, x)
        ctx.save_for_backward(x, cdf)
        with np.errstate(invalid="ignore"):   # -inf * 0: nan, as torch's (silent)
            out = B.mul(x, cdf)
        # zeros keep the math's sign (-0.0 at -0.0 and where x Phi(x) underflows), as torch's float64
        # gelu and its float32 kernel on a Zen 4 (on a Zen 2 machine that kernel gave +0.0)
        return out

    @staticmethod
    def backward(ctx, g):
        B = ctx.b
        x, cdf = ctx.saved_tensors
        if cdf is None:   # the forward ran the kernel (x is a numpy array)
            g = backend_cpu.dense_grad(g, x)
            k = _kernels(g, x)
            if k is not None:
                return k.gelu_backward(g, x)
            cdf = _normal_cdf(B, x)
        with np.errstate(invalid="ignore", over="ignore"):
            pdf = B.mul(B.exp(B.mul(B.mul(x, x), -0.5)), _INV_SQRT_2PI)
            return B.mul(g, B.add(cdf, B.mul(x, pdf)))


class _TanhGelu(Function):
    """0.5 x (1 + tanh(u)), u = sqrt(2 / pi) (x + 0.044715 x^3)."""
    saved_are_inputs = True   # its backward runs on the input Tensor under create_graph

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        k = _kernels(x)
        if k is not None:
            return k.gelu(x, "tanh")
        B = ctx.b
        with np.errstate(invalid="ignore", over="ignore"):   # x^3 past the dtype's range, -inf * 0
            inner = B.mul(B.add(x, B.mul(B.mul(B.mul(x, x), x), _KAPPA)), _TANH_SCALE)
            return B.mul(B.mul(x, 0.5), B.add(B.tanh(inner), 1.0))

    @staticmethod
    def backward(ctx, g):
        B = ctx.b
        x, = ctx.saved_tensors
        if type(x) is np.ndarray:
            g = backend_cpu.dense_grad(g, x)
            k = _kernels(g, x)
            if k is not None:
                return k.gelu_backward(g, x, "tanh")
        # d/dx: (1 + t) / 2 + x / 2 (1 - t^2) du/dx, du/dx = sqrt(2 / pi) (1 + 3 * 0.044715 x^2)
        with np.errstate(invalid="ignore", over="ignore"):
            x2 = B.mul(x, x)
            t = B.tanh(B.mul(B.add(x, B.mul(B.mul(x2, x), _KAPPA)), _TANH_SCALE))
            du = B.mul(B.add(B.mul(x2, 3 * _KAPPA), 1.0), _TANH_SCALE)
            slope = B.mul(B.mul(B.mul(x, 0.5), B.sub(1.0, B.mul(t, t))), du)
            return B.mul(g, B.add(B.mul(B.add(t, 1.0), 0.5), slope))
