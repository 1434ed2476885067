"""Elementwise activations, forward and backward, in one pass over float32 / float64 arrays.

numpy's float32 exp and tanh run libm one element at a time here, its sigmoid and GELU are
several full passes over memory, np.maximum(a, 0) runs a non-SIMD loop, and all of it uses one
thread. Each kernel below is one loop over a range [lo, hi) of 1-D views (``reshape(-1)`` of
C-contiguous arrays, all of one dtype) that LLVM vectorizes (vector_math_cpu's exp and tanh,
vector_erf_cpu's erf; float64 calls libm inside the loop), and the drivers at the bottom split
large arrays into ranges over the kernels' threads (blas_cpu.run_chunks).

Formulas are torch's (aten/src/ATen/native/cpu/Activation.cpp, UnaryOpsKernel.cpp), so nan,
inf and -0.0 come out as torch gives them: relu keeps nan and -0.0; sigmoid splits on the sign
so e^-|x| never overflows; the backwards take the saved output (sigmoid, tanh) or the input
(GELU), as torch's.
"""
import math

import numpy as np
from numba import types
from numba.extending import overload

from .cache_load import njit
from . import split_cpu, tuning
from .blas_cpu import chunk_bounds, kernel_threads, run_chunks
from .compile_notice import announce
from .vector_erf_cpu import erf_with_f32
from .vector_math_cpu import FASTMATH, vexp, vtanh

_JIT = dict(nogil=True, cache=True, fastmath=FASTMATH, error_model="numpy")
_HALF32, _SQRT_HALF32 = np.float32(0.5), np.float32(0.7071067811865476)


def typed(value, like):
    """value in the float type of `like` (in @njit code: a float64 literal would promote a
    float32 loop to float64)."""
    return type(like)(value)


@overload(typed, inline="always")
def _typed_impl(value, like):
    if isinstance(like, types.Float):
        kind = like
        return lambda value, like: kind(value)
    return None


def normal_parts(x):
    """(e^(-x^2 / 2), erf(x / sqrt(2))) in @njit code, the exact GELU's parts: float32 shares the
    exponential between the two (erf's tail is e^(-a^2) times a rational, a = x / sqrt(2)),
    float64 calls libm for each, as torch's float64 path."""
    return math.exp(-0.5 * x * x), math.erf(x * 0.7071067811865476)


@overload(normal_parts, inline="always", jit_options=dict(fastmath=FASTMATH, error_model="numpy"))
def _normal_parts_impl(x):
    if isinstance(x, types.Float) and x.bitwidth == 32:
        def f32(x):
            e = vexp(-(x * x * _HALF32))
            return e, erf_with_f32(x * _SQRT_HALF32, e)
        return f32
    if isinstance(x, types.Float):
        return lambda x: (math.exp(x * x * -0.5), math.erf(x * 0.7071067811865476))
    return None


# ---------------------------------------------------------------- forward: out[N] = f(x[N])
@njit(**_JIT)
def exp_range(x, out, lo, hi):
    xs, ys = x[lo:hi], out[lo:hi]   # indices from 0: no negative-index check, the loop vectorizes
    for i in range(ys.shape[0]):
        ys[i] = vexp(xs[i])


@njit(**_JIT)
def tanh_range(x, out, lo, hi):
    xs, ys = x[lo:hi], out[lo:hi]
    for i in range(ys.shape[0]):
        ys[i] = vtanh(xs[i])


@njit(**_JIT)
def sigmoid_range(x, out, lo, hi):
    xs, ys = x[lo:hi], out[lo:hi]
    for i in range(ys.shape[0]):
        v = xs[i]
        e = vexp(-abs(v))
        r = typed(1.0, v) / (typed(1.0, v) + e)
        ys[i] = r if v >= 0 else e * r


@njit(**_JIT)
def relu_range(x, out, lo, hi):
    xs, ys = x[lo:hi], out[lo:hi]
    for i in range(ys.shape[0]):
        v = xs[i]
        ys[i] = typed(0.0, v) if v < 0 else v   # nan and -0.0 pass, as torch's


# x * Phi(x), Phi(x) = (1 + erf(x / sqrt(2))) / 2 (torch's GeluKernelImpl)
@njit(**_JIT)
def gelu_range(x, out, lo, hi):
    xs, ys = x[lo:hi], out[lo:hi]
    for i in range(ys.shape[0]):
        v = xs[i]
        e, erf = normal_parts(v)
        ys[i] = v * typed(0.5, v) * (typed(1.0, v) + erf)   # zeros keep their sign (gelu_node.py)


# torch's approximate="tanh": x / 2 (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
@njit(**_JIT)
def gelu_tanh_range(x, out, lo, hi):
    xs, ys = x[lo:hi], out[lo:hi]
    for i in range(ys.shape[0]):
        v = xs[i]
        inner = typed(0.7978845608028654, v) * (v + typed(0.044715, v) * (v * v * v))
        ys[i] = typed(0.5, v) * v * (typed(1.0, v) + vtanh(inner))


# ---------------------------------------------------------------- backward: out[N] = dy/dx g
@njit(**_JIT)
def sigmoid_backward_range(g, y, out, lo, hi):
    """g[N] * y (1 - y), y[N] the saved output."""
    gs, ys, outs = g[lo:hi], y[lo:hi], out[lo:hi]
    for i in range(outs.shape[0]):
        outs[i] = gs[i] * (typed(1.0, ys[i]) - ys[i]) * ys[i]


@njit(**_JIT)
def relu_backward_range(g, y, out, lo, hi):
    """g[N] where relu's output y[N] > 0, else 0 (torch's threshold_backward: an inf or nan of g
    where y <= 0 gives 0; a nan y passes g)."""
    gs, ys, outs = g[lo:hi], y[lo:hi], out[lo:hi]
    for i in range(outs.shape[0]):
        outs[i] = typed(0.0, gs[i]) if ys[i] <= 0 else gs[i]


@njit(**_JIT)
def tanh_backward_range(g, y, out, lo, hi):
    """g[N] * (1 - y^2), y[N] the saved output."""
    gs, ys, outs = g[lo:hi], y[lo:hi], out[lo:hi]
    for i in range(outs.shape[0]):
        outs[i] = gs[i] * (typed(1.0, ys[i]) - ys[i] * ys[i])


@njit(**_JIT)
def gelu_backward_range(g, x, out, lo, hi):
    """g[N] * (Phi(x) + x phi(x)), x[N] the saved input, phi the normal density."""
    gs, xs, outs = g[lo:hi], x[lo:hi], out[lo:hi]
    for i in range(outs.shape[0]):
        v = xs[i]
        e, erf = normal_parts(v)
        cdf = typed(0.5, v) * (typed(1.0, v) + erf)
        outs[i] = gs[i] * (cdf + v * (typed(0.3989422804014327, v) * e))


@njit(**_JIT)
def gelu_tanh_backward_range(g, x, out, lo, hi):
    """g[N] times the derivative of gelu_tanh_range's formula at x[N] (torch's)."""
    gs, xs, outs = g[lo:hi], x[lo:hi], out[lo:hi]
    for i in range(outs.shape[0]):
        v = xs[i]
        v2 = v * v
        inner = typed(0.7978845608028654, v) * (v + typed(0.044715, v) * (v2 * v))
        t = vtanh(inner)
        left = typed(0.5, v) * v
        right = typed(1.0, v) + t
        d_inner = typed(0.7978845608028654, v) * (typed(1.0, v) + typed(3 * 0.044715, v) * v2)
        outs[i] = gs[i] * (typed(0.5, v) * right + left * (typed(1.0, v) - t * t) * d_inner)


# ---------------------------------------------------------------- drivers
def _numpy_chunk(ufunc):
    """A range of ufunc (numpy releases the GIL in it): float64 exp and tanh, where numpy's own
    loops are as fast as libm's inside a kernel (exp) or faster (tanh, SIMD)."""
    def chunk(x, out, lo, hi):
        with np.errstate(all="ignore"):
            ufunc(x[lo:hi], out=out[lo:hi])
    chunk.__name__ = f"numpy_{ufunc.__name__}"   # its name in split_cpu's decisions
    return chunk


_exp64, _tanh64 = _numpy_chunk(np.exp), _numpy_chunk(np.tanh)

# nanoseconds an element of each kernel takes on one thread, float32 and float64 (AMD EPYC
# znver2, 2026-12-05): a call splits over the threads from ELEMENTWISE_SPLIT_NS of work
COST_NS = {exp_range: (0.7, 5.4), _exp64: (5.4, 5.4), tanh_range: (1.2, 14.0), _tanh64: (14.0, 14.0),
           sigmoid_range: (0.9, 6.8), relu_range: (0.15, 0.3), gelu_range: (2.0, 9.6), gelu_tanh_range: (1.7, 21.0),
           sigmoid_backward_range: (0.2, 0.4), tanh_backward_range: (0.2, 0.4), relu_backward_range: (0.2, 0.4), gelu_backward_range: (2.5, 12.0),
           gelu_tanh_backward_range: (2.2, 23.0)}
_announced = set()


def splits(kernel, x, run_one=None, run_split=None):
    """Whether a call of kernel on x (float32 or float64) splits over the threads: split_cpu's
    "elementwise" decision for its estimated work (x.size * COST_NS ns; rule: from
    tuning.ELEMENTWISE_SPLIT_NS), measured on the call (run_one, run_split) where given; without
    them (numpy's float64 exp and tanh asking whether to leave numpy) the decision known, else the
    rule."""
    work = x.size * COST_NS[kernel][x.dtype.char == "d"]
    if run_one is None:
        return split_cpu.split_known("elementwise", kernel.__name__, work, x.dtype)
    return split_cpu.splits("elementwise", kernel.__name__, work, x.dtype, run_one, run_split)


def run(kernel, *arrays):
    """kernel over arrays (same shape and dtype, float32 or float64, C-contiguous; the inputs
    first) into a new array of their shape: one call, or a range a thread where splitting pays
    (splits)."""
    x = arrays[0]
    n = x.size
    flat = [a.reshape(-1) for a in arrays] if x.ndim != 1 else list(arrays)
    out = np.empty(n, x.dtype)
    flat.append(out)
    if (kernel, x.dtype.char) not in _announced:
        if hasattr(kernel, "py_func"):
            announce(f"the elementwise CPU kernels ({kernel.__name__})", x.dtype, (kernel,))
        _announced.add((kernel, x.dtype.char))

    def run_one():
        kernel(*flat, 0, n)

    def run_split():
        # the work estimate passes PARALLEL_MIN_MACS: the split has been decided
        with kernel_threads(n, 1, max(n, tuning.setting("PARALLEL_MIN_MACS"))) as n_chunks:
            run_chunks(lambda c: kernel(*flat, *chunk_bounds(c, n_chunks, n)), n_chunks)

    (run_split if splits(kernel, x, run_one, run_split) else run_one)()
    return out if x.ndim == 1 else out.reshape(x.shape)


def exp(x):
    if x.dtype.char == "d" and not splits(_exp64, x):
        with np.errstate(all="ignore"):   # e^x past 709: inf, as torch's (no warning)
            return np.exp(x)
    return run(_exp64 if x.dtype.char == "d" else exp_range, x)


def tanh(x):
    if x.dtype.char == "d" and not splits(_tanh64, x):
        return np.tanh(x)
    return run(_tanh64 if x.dtype.char == "d" else tanh_range, x)


def sigmoid(x):
    return run(sigmoid_range, x)


def relu(x):
    return run(relu_range, x)


def gelu(x, approximate="none"):
    return run(gelu_tanh_range if approximate == "tanh" else gelu_range, x)


def sigmoid_backward(g, y):
    """g * y (1 - y), y sigmoid's output."""
    return run(sigmoid_backward_range, g, y)


def relu_backward(g, y):
    """g where y > 0 else 0, y relu's output."""
    return run(relu_backward_range, g, y)


def tanh_backward(g, y):
    """g * (1 - y^2), y tanh's output."""
    return run(tanh_backward_range, g, y)


def gelu_backward(g, x, approximate="none"):
    """g times gelu's derivative at its input x."""
    return run(gelu_tanh_backward_range if approximate == "tanh" else gelu_backward_range, g, x)
