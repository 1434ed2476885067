"""torch's CPU sum over the last (contiguous) axis of a float64 array, rounding for rounding: the
order in which ATen/native/cpu/SumKernel.cpp's cascade_sum adds a row, so a value divided by it
(torch's _sample_dirichlet normalising its gamma draws) is torch's to the last bit.

    last_axis_sums(a)     a: float64 [..., K] -> [..., 1]

A row of K >= W = 4 elements (the doubles in one of torch's 256-bit vectors: its sum kernel runs
the AVX2 build on AVX-512 machines too, as checked against torch 2.13 here) is read as K // W vectors summed lane by lane by row_sum (four interleaved accumulators over groups of
four vectors, each a multi-level cascade), the K % W leftover elements summed from 0, then the W
lanes added to that in order. A shorter row goes through the same row_sum one element at a time."""
import numpy as np

__all__ = ["last_axis_sums"]

_ILP = 4          # row_sum's interleaved accumulators
_LEVELS = 4       # multi_row_sum's cascade levels
_LANES = 4        # doubles per vector


def _multi_row_sum(rows):
    """multi_row_sum over rows [..., size, nrows, W] -> [..., nrows, W] in torch's order."""
    size = rows.shape[-3]
    level_power = max(4, (int(size - 1).bit_length() if size > 1 else 0) // _LEVELS)   # CeilLog2(size) / 4
    step, mask0 = 1 << level_power, (1 << level_power) - 1
    acc = np.zeros((_LEVELS,) + rows.shape[:-3] + rows.shape[-2:])
    i = 0
    while i + step <= size:
        for _ in range(step):
            acc[0] += rows[..., i, :, :]
            i += 1
        for j in range(1, _LEVELS):
            acc[j] += acc[j - 1]
            acc[j - 1] = 0.0
            if i & (mask0 << (j * level_power)):
                break
    for k in range(i, size):
        acc[0] += rows[..., k, :, :]
    for j in range(1, _LEVELS):
        acc[0] += acc[j]
    return acc[0]


def _row_sum(vectors):
    """row_sum over vectors [..., n, W] -> [..., W]: groups of four in four accumulators, the
    leftovers into the first, then the other three added to it."""
    n = vectors.shape[-2]
    groups = n // _ILP
    partial = _multi_row_sum(vectors[..., :groups * _ILP, :].reshape(vectors.shape[:-2] + (groups, _ILP, vectors.shape[-1])))
    for i in range(groups * _ILP, n):
        partial[..., 0, :] += vectors[..., i, :]
    for k in range(1, _ILP):
        partial[..., 0, :] += partial[..., k, :]
    return partial[..., 0, :]


def last_axis_sums(a):
    """Sums of a (float64, [..., K]) over its last axis, keepdims, in torch's order."""
    a = np.ascontiguousarray(a, np.float64)
    k, w = a.shape[-1], _LANES
    if k < w:   # scalar_inner_sum: row_sum one element at a time
        return _row_sum(a[..., None])[..., :1] if k else np.zeros(a.shape[:-1] + (1,))
    whole = k // w
    lanes = _row_sum(a[..., :whole * w].reshape(a.shape[:-1] + (whole, w)))
    total = np.zeros(a.shape[:-1])
    for i in range(whole * w, k):   # the leftovers first, from 0
        total += a[..., i]
    for lane in range(w):
        total += lanes[..., lane]
    return total[..., None]
