"""One sequence's CTC loss and gradient in log space, as tinygrad_seq/ctc.py's reference
composition computes them (torch's ctc_loss_cpu / ctc_loss_backward_cpu): scalar loops in float64.

kernels/ctc_cpu.py runs a sequence here when its log-probabilities hold a non-finite value or
its loss comes out non-finite (an impossible alignment): this path gives -inf, inf and nan where
the reference does. Log-sum-exp of two or three terms takes the largest m and
m + log(1 + sum exp(others - m)) (one or two exps; a blank's step has no skip term); a
non-finite largest term goes the reference's way (log(sum exp(terms)), shift 0). A class's
posterior mass at a step, over the extended positions holding it, takes their maximum first,
then one exp a position and one log a class (a class at one position: its term itself).
"""
import math

import numpy as np

from .cache_load import njit

_JIT = dict(cache=True, nogil=True, error_model="numpy")


@njit(**_JIT)
def _lse2(a, b):
    if a == -math.inf and b == -math.inf:   # outside the reachable band: no exp
        return a
    m, lo = max(a, b), min(a, b)   # selects, not branches: which term is largest is random
    if -math.inf < m < math.inf and a == a and b == b:
        return m + math.log(1.0 + math.exp(lo - m))
    return math.log(math.exp(a) + math.exp(b))   # the reference's shift 0 (inf, nan)


@njit(**_JIT)
def _lse3(a, b, c):
    if a == -math.inf and b == -math.inf and c == -math.inf:
        return a
    hi, lo = max(a, b), min(a, b)
    m, mid = max(hi, c), min(hi, c)
    if -math.inf < m < math.inf and a == a and b == b and c == c:
        return m + math.log(1.0 + math.exp(lo - m) + math.exp(mid - m))
    return math.log(math.exp(a) + math.exp(b) + math.exp(c))


@njit(**_JIT)
def logaddexp(x, y):
    """np.logaddexp's rule (x + log 2 when equal, so -inf with -inf is -inf)."""
    if x == y:
        return x + math.log(2.0)
    d = x - y
    if d > 0:
        return x + math.log1p(math.exp(-d))
    if d <= 0:
        return y + math.log1p(math.exp(d))
    return d   # nan


@njit(**_JIT)
def log_sequence(lp, n, steps, ext, blank, zero_infinity, grads):
    """nll of sequence n (lp [T, N, C] float64, its first `steps` steps, extended labels ext [L]);
    writes its gradient into grads[:steps, n] (grads [T, N, C], zero elsewhere)."""
    C = lp.shape[2]
    L = ext.shape[0]
    if steps == 0:   # no steps: only the empty target has an alignment (torch's 0 / inf)
        return 0.0 if L == 1 or zero_infinity else math.inf
    skip = np.zeros(L, np.bool_)   # s-2 -> s allowed: onto a label differing from the one two back
    for s in range(2, L):
        skip[s] = ext[s] != ext[s - 2]
    alpha = np.full((steps, L), -math.inf)
    alpha[0, 0] = lp[0, n, ext[0]]
    if L > 1:
        alpha[0, 1] = lp[0, n, ext[1]]
    for t in range(1, steps):
        prev = alpha[t - 1]
        cur = alpha[t]
        cur[0] = lp[t, n, ext[0]] + prev[0]
        for s in range(1, L):
            if skip[s]:
                cur[s] = lp[t, n, ext[s]] + _lse3(prev[s], prev[s - 1], prev[s - 2])
            else:
                cur[s] = lp[t, n, ext[s]] + _lse2(prev[s], prev[s - 1])
    last = steps - 1
    ends = alpha[last, L - 1] if L == 1 else logaddexp(alpha[last, L - 1], alpha[last, L - 2])
    nll = -ends
    if zero_infinity and not math.isfinite(nll):
        return 0.0   # (grads stay zero)
    count = np.zeros(C, np.int64)   # positions holding each class
    for s in range(L):
        count[ext[s]] += 1
    beta = np.full(L, -math.inf)   # beta at step t + 1, then at t
    nxt = np.full(L, -math.inf)
    ab = np.empty(L)
    top = np.empty(C)
    acc = np.empty(C)
    for t in range(last, -1, -1):
        if t == last:
            beta[L - 1] = lp[t, n, ext[L - 1]]
            if L > 1:
                beta[L - 2] = lp[t, n, ext[L - 2]]
        else:
            nxt[:] = beta
            for s in range(L - 1):
                if s + 2 < L and skip[s + 2]:
                    beta[s] = lp[t, n, ext[s]] + _lse3(nxt[s], nxt[s + 1], nxt[s + 2])
                else:
                    beta[s] = lp[t, n, ext[s]] + _lse2(nxt[s], nxt[s + 1])
            beta[L - 1] = lp[t, n, ext[L - 1]] + nxt[L - 1]
        # log posterior mass of each class at step t (alpha and beta both hold lp[t])
        for s in range(L):
            ab[s] = alpha[t, s] + beta[s]
            top[ext[s]] = -math.inf
            acc[ext[s]] = 0.0
        for s in range(L):   # each class's largest term (a nan one sticks: the reference's max)
            c = ext[s]
            if ab[s] > top[c] or ab[s] != ab[s]:
                top[c] = ab[s]
        for s in range(L):   # a class at several positions: sum exp(term - largest); -inf adds 0
            c = ext[s]
            if count[c] > 1 and ab[s] != -math.inf:
                m = top[c] if math.isfinite(top[c]) else 0.0
                acc[c] += math.exp(ab[s] - m)
        g = grads[t, n]
        for c in range(C):
            if count[c] == 0:
                mass = -math.inf
            elif count[c] == 1:
                mass = top[c]   # its one term
            else:
                mass = (top[c] if math.isfinite(top[c]) else 0.0) + math.log(acc[c])
            if t == last and L > 1 and c == blank and ext[L - 2] == blank:
                mass = ab[L - 2]   # torch's CPU kernel: the last label's term over the final blank's
            g[c] = math.exp(lp[t, n, c]) - math.exp(mass + nll - lp[t, n, c])
    return nll
