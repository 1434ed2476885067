"""CTC loss and its gradient (tinygrad_seq/ctc.py's reference composition, as torch's
ctc_loss_cpu / ctc_loss_backward_cpu compute them), one compiled loop per batch element.

The reference runs each time step as numpy calls on one sequence (np.stack, max, exp, log over
the 2S + 1 extended labels): ~100 us of calls a step, 110-230 ms for T=50..200, N=16..32, where
torch takes 4-30 ms. Here a sequence's alpha recursion, its beta recursion and the gradient are
scalar loops in float64 (the reference's precision, whatever the input's dtype); sequences
[lo, hi) per call, so that a batch splits over the kernels' threads.

Each forward / backward variable is held as a pair (m, r), value m + log(r), r >= 1: a
log-sum-exp of two or three pairs keeps the larger m and adds r' exp(m' - m) of the others, so a
cell costs one exp per extra term and no log (glibc's log was half the time of the log-space
loops: ~40 ns a cell against torch's ~45). r is folded into m (one log) once it passes
FOLD (3x growth a step at most: every ~19 steps), so that r_alpha * r_beta stays far from
overflow and the posterior terms r_alpha r_beta exp(m_alpha + m_beta + nll - lp) lose nothing
above 1e-290. The gradient sums those terms per class (the reference's exp(log-sum + nll - lp)
term by term): the same mathematics, rounded differently, by about the loss's ulp (1e-15 at a few
nats; 4e-12 in a gradient of a 15500-nat loss, where the reference's differs from torch by 1e-12).
Measured forward + backward, float32 [T, N, C] (AMD EPYC, 2 cores, load 2.5-3.5, 2026-12-07):
T=50 N=32 C=20 S=10 1.45 ms (torch 1.64), T=200 N=16 S=50 10.1 ms (14.6), one thread each.

A sequence whose used log-probabilities hold inf or nan, or whose loss is not finite (no
alignment), runs kernels/ctc_log_cpu.py instead: the reference's log-space loops, which give
-inf, inf and nan where the reference does. (Numba's cache of ctc_range is keyed on this file
alone: after an edit of ctc_log_cpu.py, delete __pycache__/ctc_cpu.* or touch this file.)
"""
import math

import numpy as np

from .cache_load import njit
from .ctc_log_cpu import log_sequence, logaddexp

_JIT = dict(cache=True, nogil=True, error_model="numpy")

FOLD = 1e9


@njit(**_JIT)
def _add(m0, r0, m1, r1):
    """(m, r) of log(r0 e^m0 + r1 e^m1): the larger m kept, one exp; -inf pairs add nothing."""
    if m1 == -math.inf:
        return m0, r0
    if m0 == -math.inf:
        return m1, r1
    if m0 >= m1:
        return m0, r0 + r1 * math.exp(m1 - m0)
    return m1, r1 + r0 * math.exp(m0 - m1)


@njit(**_JIT)
def _fold(m, r):
    if r > FOLD:
        return m + math.log(r), 1.0
    return m, r


@njit(**_JIT)
def _finite(lp, n, steps):
    for t in range(steps):
        for c in range(lp.shape[2]):
            if not math.isfinite(lp[t, n, c]):
                return False
    return True


@njit(**_JIT)
def _scaled_sequence(lp, n, steps, ext, blank, grads):
    """(nll, True) of sequence n with its gradient in grads[:steps, n], or (nll, False) with
    grads untouched when nll is not finite. lp [T, N, C] finite on the first `steps` >= 1 steps."""
    C = lp.shape[2]
    L = ext.shape[0]
    skip = np.zeros(L, np.bool_)   # s-2 -> s allowed: onto a label differing from the one two back
    for s in range(2, L):
        skip[s] = ext[s] != ext[s - 2]
    am = np.full((steps, L), -math.inf)   # alpha = am + log(ar)
    ar = np.ones((steps, L))
    am[0, 0] = lp[0, n, ext[0]]
    if L > 1:
        am[0, 1] = lp[0, n, ext[1]]
    for t in range(1, steps):
        for s in range(L):
            m, r = am[t - 1, s], ar[t - 1, s]
            if s >= 1:
                m, r = _add(m, r, am[t - 1, s - 1], ar[t - 1, s - 1])
            if skip[s]:
                m, r = _add(m, r, am[t - 1, s - 2], ar[t - 1, s - 2])
            if m != -math.inf:
                am[t, s], ar[t, s] = _fold(lp[t, n, ext[s]] + m, r)
    last = steps - 1
    a1 = am[last, L - 1] + math.log(ar[last, L - 1])
    ends = a1 if L == 1 else logaddexp(a1, am[last, L - 2] + math.log(ar[last, L - 2]))
    nll = -ends
    if not math.isfinite(nll):
        return nll, False
    bm = np.full(L, -math.inf)   # beta at step t (= bm + log(br)), then t - 1
    br = np.ones(L)
    nm = np.empty(L)
    nr = np.empty(L)
    acc = np.empty(C)
    # torch's CPU kernel gives the final blank's class, at the last step, the last label's term
    # alone when that label is the blank (it takes the two to differ)
    lone = L > 1 and ext[L - 2] == blank
    for t in range(last, -1, -1):
        if t == last:
            bm[L - 1] = lp[t, n, ext[L - 1]]
            if L > 1:
                bm[L - 2] = lp[t, n, ext[L - 2]]
        else:
            nm[:] = bm
            nr[:] = br
            for s in range(L):
                m, r = nm[s], nr[s]
                if s + 1 < L:
                    m, r = _add(m, r, nm[s + 1], nr[s + 1])
                if s + 2 < L and skip[s + 2]:
                    m, r = _add(m, r, nm[s + 2], nr[s + 2])
                if m == -math.inf:
                    bm[s], br[s] = m, 1.0
                else:
                    bm[s], br[s] = _fold(lp[t, n, ext[s]] + m, r)
        # posterior terms of each class: alpha and beta both hold lp[t]
        for c in range(C):
            acc[c] = 0.0
        for s in range(L):
            m = am[t, s] + bm[s]
            if m == -math.inf or (t == last and lone and s == L - 1):
                continue
            c = ext[s]
            acc[c] += ar[t, s] * br[s] * math.exp(m + nll - lp[t, n, c])
        g = grads[t, n]
        for c in range(C):
            g[c] = math.exp(lp[t, n, c]) - acc[c]
    return nll, True


@njit(**_JIT)
def ctc_range(lp, targets, starts, target_lengths, input_lengths, blank, zero_infinity, lo, hi, losses, grads):
    """Sequences lo..hi-1: losses[n] and grads[:input_lengths[n], n] (lp and grads [T, N, C]
    float64, grads zeroed; targets 1-D int64, sequence n's labels at starts[n] onward)."""
    for n in range(lo, hi):
        k = target_lengths[n]
        steps = input_lengths[n]
        ext = np.full(2 * k + 1, blank, np.int64)
        for i in range(k):
            ext[2 * i + 1] = targets[starts[n] + i]
        done = False
        if steps > 0 and _finite(lp, n, steps):
            nll, done = _scaled_sequence(lp, n, steps, ext, blank, grads)
            if done:
                losses[n] = nll
        if not done:
            losses[n] = log_sequence(lp, n, steps, ext, blank, zero_infinity, grads)
