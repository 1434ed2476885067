"""Bag and scatter reductions over gathered rows: F.embedding_bag's forward and backward, and
scatter_reduce's amax / amin.

numpy has no fused gather-and-segment-sum: np.add.reduceat over gathered rows, np.add.at and
np.maximum.at each make extra passes (a sort, a temporary of every gathered row) and ran 5-30x
torch's time. Here each index is read once and its row added (or compared) in place.

Shapes: weight [N, D] (C-contiguous, float32 or float64), flat [n] int64 (row of each index),
bag [n] int64 (the bag each index goes to, -1: none), out / g [B, D].

Imports numpy and numba only.
"""
import numpy as np

from .cache_load import njit

_JIT = dict(cache=True, nogil=True, error_model="numpy")


@njit(**_JIT)
def bag_sum(weight, flat, bag, scale, out):
    """out[bag[i]] += weight[flat[i]] * scale[i] for every i with bag[i] >= 0, in order of i;
    scale [n] (per-sample weights, or ones). out [B, D] starts at zeros."""
    d = weight.shape[1]
    for i in range(flat.shape[0]):
        b = bag[i]
        if b < 0:
            continue
        r, s = flat[i], scale[i]
        for j in range(d):
            out[b, j] += weight[r, j] * s


@njit(**_JIT)
def bag_max(weight, flat, bag, out, argpos):
    """Each bag's column maxima as torch's CPU kernel takes them: its first member, then any later
    one strictly greater (a nan first member stays, a later nan is passed over). argpos [B, D]
    int64 starts at -1 and ends as the index position chosen (-1: empty bag, out left 0)."""
    d = weight.shape[1]
    for i in range(flat.shape[0]):
        b = bag[i]
        if b < 0:
            continue
        r = flat[i]
        for j in range(d):
            v = weight[r, j]
            if argpos[b, j] < 0 or v > out[b, j]:
                out[b, j] = v
                argpos[b, j] = i


@njit(**_JIT)
def bag_sum_backward(g, flat, bag, scale, divisor, dense):
    """dense[flat[i]] += g[bag[i]] * scale[i] / divisor[bag[i]] for every i with bag[i] >= 0;
    dense [N, D] starts at zeros, divisor [B] (mean's bag sizes, or ones)."""
    d = g.shape[1]
    for i in range(flat.shape[0]):
        b = bag[i]
        if b < 0:
            continue
        r, s, q = flat[i], scale[i], divisor[b]
        for j in range(d):
            dense[r, j] += g[b, j] * s / q


@njit(**_JIT)
def bag_max_backward(g, rows, dense):
    """dense[rows[b, j], j] += g[b, j] where rows[b, j] >= 0; rows [B, D] int64."""
    for b in range(g.shape[0]):
        for j in range(g.shape[1]):
            r = rows[b, j]
            if r >= 0:
                dense[r, j] += g[b, j]


@njit(**_JIT)
def bag_sample_weight_grads(g, weight, flat, bag, out):
    """out[i] = g[bag[i]] . weight[flat[i]] where bag[i] >= 0 (the gradient of a per-sample
    weight), 0 elsewhere; out [n] starts at zeros (and sums in its dtype)."""
    d = weight.shape[1]
    for i in range(flat.shape[0]):
        b = bag[i]
        if b < 0:
            continue
        r = flat[i]
        acc = out[i]
        for j in range(d):
            acc += g[b, j] * weight[r, j]
        out[i] = acc


@njit(**_JIT)
def scatter_extreme(out, touched, index, src, shape, strides, dim, maximum, include_self):
    """scatter_reduce's amax (maximum True) / amin (False) into out (self's elements, flat, C
    order), with np.maximum / np.minimum's nan rule (a nan on either side wins). index and src
    [M, K] (any strides) hold index's elements in C order, K its last dim; shape [nd]: index's
    shape; strides [nd]: out's strides in elements; element k of index writes out[its
    coordinates with coordinate dim replaced by index[k]]. With include_self False an element's
    first write replaces it and marks touched [out.size] uint8 (zeros on entry; a second pass
    setting the written elements to the identity first cost as much as the reduction). (A flag,
    not a compiled comparison passed in: Numba's cache cannot pickle a function argument, and
    the first call of each in a process raised ReferenceError.)"""
    nd = shape.shape[0]
    inner = index.shape[1]
    inner_stride = 0 if dim == nd - 1 else strides[nd - 1]
    step = strides[dim]
    counter = np.zeros(nd, np.int64)
    base = 0   # the offset of the outer coordinates other than dim
    for m in range(index.shape[0]):
        for j in range(inner):
            t = base + j * inner_stride + index[m, j] * step
            v = src[m, j]
            if not include_self and touched[t] == 0:
                touched[t] = 1
                out[t] = v
            elif v != v or (v > out[t] if maximum else v < out[t]):
                out[t] = v
        a = nd - 2
        while a >= 0:   # the next outer coordinates, in C order
            counter[a] += 1
            if a != dim:
                base += strides[a]
            if counter[a] < shape[a]:
                break
            if a != dim:
                base -= strides[a] * shape[a]
            counter[a] = 0
            a -= 1
