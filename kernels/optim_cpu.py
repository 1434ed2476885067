"""Fused optimizer updates and the embedding gradient: one pass over memory instead of numpy's
several.

Adam / AdamW and SGD (tinygrad_seq/optim) ran as numpy compositions: 8-10 passes and temporaries
per parameter (Adam over 8 float32 [512, 512] parameters 7.1 ms against torch's 3.2 on this
project's AMD EPYC, 2 cores). Here each element of the flattened parameter, its gradient and its
state is read and written once, on [lo, hi) so that a large parameter splits over the kernels'
threads (tinygrad_seq/optim/fused_steps.py drives them).

Rounding follows torch 2.13's CPU single-tensor step op by op, in the parameter's dtype, with its
scalars cast to that dtype as torch casts them, and a fused multiply-add where torch's vectorized
kernels use one (checked bit for bit against torch, float32, AVX2):
    grad.add(param, alpha=wd)          fma(param, wd, grad)
    exp_avg.lerp_(grad, w)             fma(w, grad - exp_avg, exp_avg)       (w < 0.5; else
                                       fma(w - 1, grad - exp_avg, grad))
    exp_avg_sq.mul_(b2).addcmul_(grad, grad, value=c)   fma(c * grad, grad, exp_avg_sq * b2)
    param.addcdiv_(exp_avg, denom, value=s)            param + (s * exp_avg) / denom
    buf.mul_(momentum).add_(grad, alpha=a), param.add_(grad, alpha=-lr)   fma(grad, a, ...)
The fma is explicit (an intrinsic: llvm.fma), not fastmath's "contract", which would let LLVM
fuse other pairs; no fastmath flag at all, so nan and inf pass as torch's do. The one
difference left is sqrt: torch's float32 / float64 sqrt (MKL's vector sqrt) is off by one ulp
in about 15% of float32 elements, this one is correctly rounded (numpy's).

The embedding gradient adds each row of the upstream gradient into the table row its index
names, in order of appearance (as torch's embedding_dense_backward_cpu: deterministic, the same
float32 bits), a call owning a range of table rows, which it first zeroes (with
tuning.EMBEDDING_SPLIT_MIN_ELEMENTS, a large table's ranges run on the kernels' threads).

Loops run over slices from index 0: with range(lo, hi) on the whole arrays Numba's wraparound of
a possibly negative index kept LLVM from vectorizing (6x slower).
"""
import math

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .cache_load import njit

_JIT = dict(cache=True, nogil=True, error_model="numpy")


@intrinsic
def fma(typingctx, a, b, c):
    """a * b + c rounded once (llvm.fma; a vector FMA in a vectorized loop): all three the same
    float type."""
    if not (isinstance(a, types.Float) and a == b == c):
        return None
    sig = a(a, b, c)

    def codegen(context, builder, signature, args):
        ty = args[0].type
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ty, [ty] * 3),
                                            f"llvm.fma.f{a.bitwidth}")
        return builder.call(fn, args)
    return sig, codegen


@njit(inline="always")
def _maximum(a, b):
    """torch.maximum of two floats: nan if either is nan."""
    if a != a or b != b:
        return a + b
    return a if a > b else b


@njit(**_JIT)
def _in_dtype(p, values):
    """values (a tuple of floats) rounded to p's dtype, as torch casts a step's Scalar arguments."""
    out = np.empty(len(values), p.dtype)
    for i in range(len(values)):
        out[i] = values[i]
    return out


@njit(**_JIT)
def adam_update(p, g, m, v, vmax, lo, hi, wd, decay, w, beta2, c2, bc2_sqrt, eps, neg_step_size,
                l2, decoupled, amsgrad):
    """One Adam / AdamW step on elements [lo, hi) of the flattened parameter p[N] (in place), its
    gradient g[N], exp_avg m[N], exp_avg_sq v[N] and, with amsgrad, max_exp_avg_sq vmax[N]
    (otherwise any array). The scalars (Python floats, rounded here to p's dtype): wd (Adam's
    weight decay, with l2), decay (AdamW's 1 - lr * wd, with decoupled), w = 1 - beta1 (the
    lerp's weight), beta2, c2 = 1 - beta2, bc2_sqrt = sqrt(1 - beta2^t), eps,
    neg_step_size = -lr / (1 - beta1^t)."""
    c = _in_dtype(p, (wd, decay, w, beta2, c2, bc2_sqrt, eps, neg_step_size, 1.0))
    wd, decay, w, beta2, c2, bc2_sqrt, eps, neg_step_size = c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]
    small = abs(w) < 0.5                  # torch's lerp: exact at the end nearer the weight
    coeff = w if small else w - c[8]
    # slices looped from 0: an index LLVM knows is not negative (no wraparound), so it vectorizes
    p, g, m, v = p[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi]
    vmax = vmax[lo:hi] if amsgrad else vmax[:0]
    for i in range(p.shape[0]):
        pi = p[i]
        gi = g[i]
        if decoupled:
            pi = pi * decay
        elif l2:
            gi = fma(pi, wd, gi)
        mi = m[i]
        mi = fma(coeff, gi - mi, mi if small else gi)
        vi = fma(c2 * gi, gi, v[i] * beta2)
        m[i] = mi
        v[i] = vi
        if amsgrad:
            vi = _maximum(vmax[i], vi)
            vmax[i] = vi
        p[i] = pi + (neg_step_size * mi) / (math.sqrt(vi) / bc2_sqrt + eps)


@njit(**_JIT)
def sgd_update(p, g, buf, lo, hi, wd, momentum, damp, neg_lr, decays, moves, first, nesterov):
    """One SGD step on elements [lo, hi) of the flattened parameter p[N] (in place) and its
    gradient g[N]: d = g + wd p (decays: wd != 0); with momentum (moves: momentum != 0) the
    buffer buf[N] becomes d on the first step, else momentum buf + damp d (damp = 1 -
    dampening), and d = d + momentum buf (nesterov) or buf; p += neg_lr d. The scalars are
    Python floats, rounded here to p's dtype."""
    c = _in_dtype(p, (wd, momentum, damp, neg_lr))
    wd, momentum, damp, neg_lr = c[0], c[1], c[2], c[3]
    p, g = p[lo:hi], g[lo:hi]   # looped from 0: vectorizes (see adam_update)
    buf = buf[lo:hi] if moves else buf[:0]
    for i in range(p.shape[0]):
        d = g[i]
        if decays:
            d = fma(p[i], wd, d)
        if moves:
            b = d if first else fma(d, damp, buf[i] * momentum)
            buf[i] = b
            d = fma(b, momentum, d) if nesterov else b
        p[i] = fma(d, neg_lr, p[i])


@njit(**_JIT)
def embedding_grad(out, idx, rows, skip_row, lo, hi):
    """out[V, D] rows lo..hi-1 = the sum of rows[n] (rows[N, D]) over the n with idx[n] == that
    row, added in order of n; row skip_row (the padding index, or -1) stays zero."""
    out[lo:hi] = 0
    for n in range(idx.shape[0]):
        r = idx[n]
        if r < lo or r >= hi or r == skip_row:
            continue
        row, add = out[r], rows[n]   # 1-D views looped from 0: the add vectorizes
        for j in range(row.shape[0]):
            row[j] += add[j]
