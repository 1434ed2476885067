"""F.ctc_loss: Connectionist Temporal Classification (Graves et al. 2006), as torch computes it.

For each sequence n the target l (length S) is extended with blanks, l' = [b, l1, b, l2, ..., b]
(length 2S + 1), and the forward variables alpha_t(s) = log P(l'_1..s aligned to steps 0..t)
are summed over the allowed moves (stay, advance one, skip a blank between different labels);
the loss is -log(alpha_{T-1}(L-1) + alpha_{T-1}(L-2)). The backward variables beta give each
step's label posteriors, and the gradient is torch's: exp(lp) - exp(log posterior mass + nll -
lp), the gradient through the log_softmax that produced lp (the posterior part sums to 1 per
step, so a following log_softmax backward leaves it unchanged). Everything runs in log space
with numpy, one sequence at a time, vectorized over the extended labels: the reference
composition. Calls run the same math compiled (kernels/ctc_cpu.py, float64 as here, the batch
split over the kernels' threads): the composition's ~100 us of numpy calls a step took 110-230 ms
where torch takes 4-30 ms (T=50..200, N=16..32); KERNEL = False runs the composition (the tests
compare the two). Double backward stays unsupported either way (backward scales fixed arrays).
"""
import numpy as np

from tinygrad_seq.autograd import Function
from tinygrad_seq.errors import DTypeMismatch, InvalidArgument, ShapeMismatch
from tinygrad_seq.functional_checks import require_float
from tinygrad_seq.grad_fn_names import named
from tinygrad_seq.tensor import Tensor


def _lse(*terms):
    stacked = np.stack(terms)
    top = stacked.max(0)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return safe + np.log(np.exp(stacked - safe).sum(0))


def _one_sequence(lp, labels, blank):
    """(nll, gradient [T, C]) of one sequence: lp [T, C] log-probabilities, labels [S]."""
    T, C = lp.shape
    if T == 0:   # no steps: only the empty target has an alignment (torch's 0 / inf)
        return (0.0 if len(labels) == 0 else np.inf), np.zeros((0, C))
    ext = np.full(2 * len(labels) + 1, blank, np.int64)
    ext[1::2] = labels
    L = ext.size
    # skipping from s-2 to s is allowed onto a label that differs from the label two back (torch's
    # CPU test: a target equal to the blank may then be skipped onto, from the label before it)
    skip = np.zeros(L, bool)
    skip[2:] = ext[2:] != ext[:-2]
    neg = np.full(L, -np.inf)
    alpha = np.full((T, L), -np.inf)
    alpha[0, 0] = lp[0, ext[0]]
    if L > 1:
        alpha[0, 1] = lp[0, ext[1]]
    for t in range(1, T):
        prev = alpha[t - 1]
        one = np.concatenate([neg[:1], prev[:-1]])
        two = np.where(skip, np.concatenate([neg[:2], prev[:-2]]), -np.inf)
        alpha[t] = lp[t, ext] + _lse(prev, one, two)
    beta = np.full((T, L), -np.inf)
    beta[T - 1, L - 1] = lp[T - 1, ext[L - 1]]
    if L > 1:
        beta[T - 1, L - 2] = lp[T - 1, ext[L - 2]]
    skip_back = np.zeros(L, bool)
    skip_back[:-2] = skip[2:]
    for t in range(T - 2, -1, -1):
        nxt = beta[t + 1]
        one = np.concatenate([nxt[1:], neg[:1]])
        two = np.where(skip_back, np.concatenate([nxt[2:], neg[:2]]), -np.inf)
        beta[t] = lp[t, ext] + _lse(nxt, one, two)
    ends = alpha[T - 1, L - 1] if L == 1 else np.logaddexp(alpha[T - 1, L - 1], alpha[T - 1, L - 2])
    nll = -ends
    # log of the posterior mass of each class at each step (alpha and beta both hold lp[t])
    ab = alpha + beta
    mass = np.full((T, C), -np.inf)
    for c in np.unique(ext):
        mass[:, c] = _lse(*ab[:, ext == c].T) if (ext == c).sum() > 1 else ab[:, ext == c][:, 0]
    if L > 1 and ext[L - 2] == blank:   # torch's CPU kernel assigns the last label's term at the last step
        mass[T - 1, blank] = ab[T - 1, L - 2]   # over the final blank's (it takes the two to differ)
    with np.errstate(over="ignore", invalid="ignore"):
        grad = np.exp(lp) - np.exp(mass + nll - lp)
    return nll, grad


KERNEL = True   # False: _one_sequence per sequence (the reference composition)
_kernels = None   # (ctc_cpu, blas_cpu, announce), loaded on first use (Numba: 0.5 s)


def _load():
    global _kernels
    if _kernels is None:
        from tinygrad_seq.kernels import blas_cpu, ctc_cpu
        from tinygrad_seq.kernels.compile_notice import announce
        _kernels = (ctc_cpu, blas_cpu, announce)
    return _kernels


def _by_composition(lp, labels, input_lengths, blank, zero_infinity):
    """(losses [N], grads [T, N, C]) float64 of lp [T, N, C] float64, one _one_sequence each;
    labels: (flat, starts, lengths), sequence n's labels flat[starts[n]:starts[n] + lengths[n]]."""
    T, N, C = lp.shape
    flat, starts, lengths = labels
    seqs = [flat[a:a + k] for a, k in zip(starts, lengths)]
    losses, grads = np.zeros(N), np.zeros_like(lp)
    for n in range(N):
        steps = int(input_lengths[n])
        nll, g = _one_sequence(lp[:steps, n], seqs[n], blank)
        if zero_infinity and not np.isfinite(nll):
            nll, g = 0.0, np.zeros_like(g)
        losses[n], grads[:steps, n] = nll, g
    return losses, grads


def _by_kernel(lp, labels, input_lengths, blank, zero_infinity):
    """_by_composition's result from kernels/ctc_cpu.ctc_range, sequences split over threads
    when the batch's T x (2S + 1) cells come to tuning.PARALLEL_MIN_MACS / 64 (a cell takes ~30 ns,
    the time of ~64 multiply-adds of the GEMMs that threshold was set for: 16k cells, ~0.5 ms)."""
    ctc_cpu, blas_cpu, announce = _load()
    T, N, C = lp.shape
    targets, starts, lengths = labels
    in_len = np.ascontiguousarray(input_lengths, np.int64)
    losses, grads = np.zeros(N), np.zeros((T, N, C))
    announce("the CTC loss CPU kernel", lp.dtype, (ctc_cpu.ctc_range,))

    def run(lo, hi):
        ctc_cpu.ctc_range(lp, targets, starts, lengths, in_len, blank, zero_infinity, lo, hi, losses, grads)

    cells = int((in_len * (2 * lengths + 1)).sum())
    with blas_cpu.kernel_threads(1, N, 64 * cells, one_step_min=None) as n_chunks:
        blas_cpu.run_chunks(lambda c: run(*blas_cpu.chunk_bounds(c, n_chunks, N)), n_chunks)
    return losses, grads


class CTC(Function):
    """Per-sequence negative log-likelihoods [N] of log_probs [T, N, C]; the gradients are
    formed in forward (both need alpha and beta) and scaled by the incoming ones."""
    @staticmethod
    def forward(ctx, log_probs, targets, input_lengths, target_lengths, blank, zero_infinity):
        B = ctx.b
        lp = np.ascontiguousarray(B.to_host(log_probs), np.float64)
        losses, grads = (_by_kernel if KERNEL else _by_composition)(lp, targets, input_lengths, blank,
                                                                    zero_infinity)
        dtype = B.to_host(log_probs).dtype
        ctx.grads = grads.astype(dtype)
        return B.asarray(losses.astype(dtype))

    @staticmethod
    def backward(ctx, g):
        B = ctx.b
        scale = B.to_host(g).reshape(1, -1, 1)
        return B.asarray((ctx.grads * scale).astype(ctx.grads.dtype))


def _ints(x, name):
    a = np.asarray(x.numpy() if isinstance(x, Tensor) else x)
    if isinstance(x, Tensor) and a.dtype.kind not in "iu":   # torch's RuntimeError
        raise DTypeMismatch(f"{name} must be integral, got {a.dtype}")
    if a.dtype.kind not in "iu" and a.size and not np.all(a == np.round(a)):
        raise TypeError(f"ctc_loss: {name} must be integers, got {a.dtype}")
    return a.astype(np.int64).reshape(-1)


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """torch's F.ctc_loss: log_probs [T, N, C] (or [T, C]) log-softmax outputs; targets [N, S]
    padded or 1-D concatenated; reduction 'mean' divides each loss by its target length, then
    averages over the batch."""
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    require_float(log_probs, "ctc_loss_cpu")
    if log_probs.numel() == 0:   # torch's check, before any other on the shapes
        raise ShapeMismatch("log_probs tensor must not be empty")
    unbatched = log_probs.ndim == 2
    lp = log_probs.unsqueeze(1) if unbatched else log_probs
    if lp.ndim != 3:
        raise ShapeMismatch(f"ctc_loss: log_probs must be [T, N, C] or [T, C], got shape {log_probs.shape}")
    T, N, C = lp.shape
    if not 0 <= blank < C:
        raise InvalidArgument(f"ctc_loss: blank must be in label range: got blank={blank} for {C} classes")
    in_len, tgt_len = _ints(input_lengths, "input_lengths"), _ints(target_lengths, "target_lengths")
    if in_len.size != N or tgt_len.size != N:
        raise ShapeMismatch(f"ctc_loss: expected {N} input_lengths and target_lengths, got {in_len.size} and "
                            f"{tgt_len.size}")
    if (in_len > T).any() or (in_len < 0).any() or (tgt_len < 0).any():   # torch's RuntimeError
        raise InvalidArgument(f"ctc_loss: input_lengths must be in 0..{T} and target_lengths at least 0, "
                              f"got {in_len.tolist()} and {tgt_len.tolist()}")
    tg = _ints(targets, "targets") if (isinstance(targets, Tensor) and targets.ndim == 1) or unbatched else None
    if tg is not None:   # concatenated (or the unbatched target)
        if tg.size < tgt_len.sum():
            raise ShapeMismatch(f"ctc_loss: targets hold {tg.size} labels, target_lengths sum to {tgt_len.sum()}")
        flat = tg[:tgt_len.sum()]
    else:
        padded = np.asarray(targets.numpy() if isinstance(targets, Tensor) else targets).astype(np.int64)
        if padded.ndim != 2 or padded.shape[0] != N or (tgt_len > padded.shape[1]).any():
            raise ShapeMismatch(f"ctc_loss: targets of shape {padded.shape} do not hold {N} targets of lengths "
                                f"{tgt_len.tolist()}")
        flat = padded[np.arange(padded.shape[1]) < tgt_len[:, None]]   # row by row: concatenated
    starts = np.concatenate([[0], np.cumsum(tgt_len)[:-1]]).astype(np.int64)
    flat = np.ascontiguousarray(flat, np.int64)
    if flat.size and (flat.min() < 0 or flat.max() >= C):   # (a label equal to the blank is computed
        for n, (a, k) in enumerate(zip(starts, tgt_len)):   # with, as torch's CPU kernel does)
            s = flat[a:a + k]
            if s.size and (s.min() < 0 or s.max() >= C):
                raise ValueError(f"ctc_loss: target {n} holds labels outside 0..{C - 1}: {s.tolist()}")
    losses = CTC.apply(lp, targets=(flat, starts, tgt_len), input_lengths=in_len, target_lengths=tgt_len, blank=blank,
                       zero_infinity=zero_infinity)
    if reduction == "none":   # torch's node: the loss's, or the where() zero_infinity ends with
        return losses.squeeze(0) if unbatched else named(losses, "WhereBackward0" if zero_infinity else
                                                         "CtcLossBackward0")
    if reduction == "sum":
        return losses.sum()
    lengths = Tensor(np.maximum(tgt_len, 1).astype(losses.dtype), device=losses.device)
    return (losses / lengths).mean()
