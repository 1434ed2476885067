"""torch.multinomial: category indices drawn from rows of non-negative weights, with torch's
CPU draws (the stream random.py keeps), so a seeded run gives torch's samples."""
import numpy as np

from tinygrad_seq import random
from tinygrad_seq.creation import _make
from tinygrad_seq.errors import InvalidArgument
from tinygrad_seq.functional_checks import torch_type_name
from tinygrad_seq.memory_formats import non_overlapping_and_dense
from tinygrad_seq.tensor import Tensor


def multinomial(input, num_samples, replacement=False, generator=None, *, out=None):
    """Indices drawn from the rows of input (non-negative weights, 1-D or 2-D), as torch's:
    without replacement, once a row's non-zero weights are used up its zero-weight categories
    follow in torch's topk order of equal values. out= takes an int64 tensor only (resized silently, as torch's)."""
    if isinstance(input, Tensor) and input.dtype.kind != "f":
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{torch_type_name(input.dtype)}")
    if isinstance(out, Tensor) and out.dtype != np.int64:   # torch checks out before the weights
        raise RuntimeError(f"multinomial expects Long tensor out, got: {torch_type_name(out.dtype)}")
    if out is not None:
        from tinygrad_seq.functions import _into
        return _into(out, multinomial(input, num_samples, replacement, generator), "multinomial")
    p = np.asarray(input.numpy() if isinstance(input, Tensor) else input, dtype=np.float64)
    rows = p.reshape(1, -1) if p.ndim == 1 else p
    if p.ndim not in (1, 2):
        raise InvalidArgument(f"prob_dist must be 1 or 2 dim, got a tensor of {p.ndim} dims")
    if num_samples <= 0:
        raise InvalidArgument("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > rows.shape[1]:
        raise InvalidArgument("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if (rows < 0).any() or not np.isfinite(rows).all():   # torch's texts (after its n_sample checks)
        raise InvalidArgument("probability tensor contains either `inf`, `nan` or element < 0")
    if (rows.sum(1) <= 0).any():
        raise InvalidArgument("invalid multinomial distribution (sum of probabilities <= 0)")
    out = _multinomial_rows(random.generator(generator).stream, rows, num_samples, replacement, input)
    dev = input.device if isinstance(input, Tensor) else "cpu"
    return _make(out[0] if p.ndim == 1 else out, np.int64, dev, False)


def _multinomial_rows(stream, rows, num_samples, replacement, input):
    """torch's CPU multinomial on [n, C] weights: one sample, or none repeated, by the exponential
    trick (argmax / topk of weight / Exp(1) draws in the input's dtype); several with
    replacement by a binary search of a double uniform in each row's normalised cumulative sum."""
    dt = input.dtype if isinstance(input, Tensor) and input.dtype.kind == "f" else np.dtype(np.float32)
    weights = rows.astype(dt)
    if not replacement or num_samples == 1:   # the noise in the memory order of input's layout
        strides = random.element_strides(input.array) if isinstance(input, Tensor) and input.ndim == 2 else None
        if strides is not None and not non_overlapping_and_dense(tuple(input.shape), strides):
            strides = None   # torch's empty_like of an expanded / overlapping input is contiguous
        q = random.in_memory_order(stream.exponential(weights.size, 1.0).astype(dt), weights.shape, strides)
        ratio = weights / q
        if num_samples == 1:   # torch's argmax: the first of equal ratios
            return np.argmax(ratio, axis=1)[:, None]
        # torch's topk, with its order among equal ratios (the zero-weight categories, all 0)
        return Tensor(ratio).topk(num_samples, 1)[1].numpy()
    out = np.empty((len(weights), num_samples), np.int64)
    for i, row in enumerate(weights):
        cum = np.cumsum(row, dtype=dt)
        cum = cum / cum[-1] if cum[-1] > 0 else cum
        cum[-1] = 1
        out[i] = np.searchsorted(cum.astype(np.float64), stream.uniform(num_samples, 0.0, 1.0, np.float64))
    return out
