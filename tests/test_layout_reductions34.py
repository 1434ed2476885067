"""Reductions, scans, sorts and order statistics of non-contiguous inputs laid out as torch 2.13's:
torch allocates a reduction's, a scan's and gather's result row-major (numpy's follow the input's
or the index's memory order), and sort / argsort / msort keep the input's layout (empty_like).
The layout decides the order a random fill after it draws in, so each case compares strides,
values and a dropout mask drawn after it."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts

_BASE = np.random.default_rng(0).standard_normal((6, 8, 4)).astype(np.float32)

VIEWS = {   # a permuted (dense) input, a sliced (not dense) one, both, a plain transpose
    "permuted": lambda L: L.tensor(_BASE).permute(2, 0, 1),
    "sliced": lambda L: L.tensor(_BASE)[:, ::2],
    "sliced+transposed": lambda L: L.tensor(_BASE)[:, ::2].transpose(0, 2),
    "transposed": lambda L: L.tensor(_BASE)[:5, :7, 0].t(),
}

OPS = {
    "sum keepdim": lambda L, v: v.sum(1, keepdim=True),
    "sum": lambda L, v: v.sum(1),
    "mean keepdim": lambda L, v: v.mean(-1, keepdim=True),
    "max(dim) keepdim": lambda L, v: v.max(1, keepdim=True)[0],
    "amax": lambda L, v: v.amax(1),
    "std keepdim": lambda L, v: v.std(1, keepdim=True),
    "norm keepdim": lambda L, v: v.norm(dim=1, keepdim=True),
    "vector_norm 3": lambda L, v: L.linalg.vector_norm(v, 3, 1, True),
    "prod keepdim": lambda L, v: v.prod(1, keepdim=True),
    "logsumexp keepdim": lambda L, v: L.logsumexp(v, 1, keepdim=True),
    "any keepdim": lambda L, v: (v > 0).any(1, keepdim=True),
    "argmax": lambda L, v: v.argmax(1),
    "sort values": lambda L, v: L.sort(v, 1)[0],
    "sort indices": lambda L, v: L.sort(v, 1)[1],
    "sort descending stable": lambda L, v: v.sort(dim=0, descending=True, stable=True)[0],
    "argsort": lambda L, v: L.argsort(v, 1),
    "msort": lambda L, v: L.msort(v),
    "topk": lambda L, v: v.topk(2, 1)[0],
    "kthvalue keepdim indices": lambda L, v: v.kthvalue(1, 1, keepdim=True)[1],
    "median": lambda L, v: v.median(1)[0],
    "median keepdim": lambda L, v: v.median(1, True)[0],
    "median keepdim indices": lambda L, v: v.median(1, True)[1],
    "nanmedian keepdim": lambda L, v: v.nanmedian(1, True)[0],
    "quantile keepdim": lambda L, v: L.quantile(v, 0.3, 1, True),
    "cummax": lambda L, v: v.cummax(1)[0],
    "logcumsumexp": lambda L, v: v.logcumsumexp(1),
    "cumsum": lambda L, v: v.cumsum(1),
    "renorm": lambda L, v: v.renorm(2, 0, 1.0),
    "softmax": lambda L, v: L.softmax(v, 1),
}


def _strides_of_dims_above_one(t):
    # a size-1 dim's stride never moves an element: torch and numpy write different numbers there
    return tuple(s for s, n in zip(t.stride(), t.shape) if n != 1)


def _seen(L, view, op):
    out = OPS[op](L, VIEWS[view](L))
    L.manual_seed(0)
    mask = L.nn.functional.dropout(L.ones_like(out, dtype=L.float32), 0.5)
    return out, mask


@pytest.mark.parametrize("view", list(VIEWS))
@pytest.mark.parametrize("op", list(OPS))
def test_layout_values_and_draws_after_as_torch(view, op):
    got, got_mask = _seen(ts, view, op)
    want, want_mask = _seen(torch, view, op)
    assert _strides_of_dims_above_one(got) == _strides_of_dims_above_one(want), (op, view, got.stride(), want.stride())
    assert got.is_contiguous() == want.is_contiguous()
    np.testing.assert_allclose(got.numpy().astype(np.float64), want.numpy().astype(np.float64), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(got_mask.numpy(), want_mask.numpy())


@pytest.mark.parametrize("index_view", ["contiguous", "permuted"])
def test_gather_result_row_major_whatever_the_index(index_view):
    def run(L):
        L.manual_seed(0)
        x = L.randn(4, 6, 8).permute(2, 0, 1)
        idx = L.randint(0, 4, (8, 4, 6)) if index_view == "contiguous" else L.randint(0, 4, (6, 8, 4)).permute(1, 2, 0)
        return x.gather(1, idx), L.take_along_dim(x, idx, 1)
    for got, want in zip(run(ts), run(torch)):
        assert got.stride() == want.stride()
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)   # randn: within an ulp of torch's


def test_sort_of_a_permuted_input_differentiates_as_torch():
    grads = []
    for L in (ts, torch):
        x = L.tensor(_BASE, requires_grad=True)
        v, i = x.permute(2, 0, 1).sort(1)
        (v * L.arange(v.numel(), dtype=L.float32).reshape(v.shape)).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)


_IMAGE = np.random.default_rng(2).standard_normal((2, 3, 6, 5)).astype(np.float32)
_KERNEL = np.random.default_rng(3).standard_normal((4, 3, 3, 3)).astype(np.float32)
CHANNELS_LAST_OPS = {
    "conv2d": lambda L, x: L.nn.functional.conv2d(x, L.tensor(_KERNEL), padding=1),
    "conv2d stride 2": lambda L, x: L.nn.functional.conv2d(x, L.tensor(_KERNEL), stride=2),
    "conv_transpose2d": lambda L, x: L.nn.functional.conv_transpose2d(x, L.tensor(_KERNEL.transpose(1, 0, 2, 3).copy())),
    "max_pool2d": lambda L, x: L.nn.functional.max_pool2d(x, 2),
    "max_pool2d indices": lambda L, x: L.nn.functional.max_pool2d(x, 2, return_indices=True)[1],
    "avg_pool2d": lambda L, x: L.nn.functional.avg_pool2d(x, 2),
    "adaptive_avg_pool2d": lambda L, x: L.nn.functional.adaptive_avg_pool2d(x, (2, 2)),
    "adaptive_max_pool2d": lambda L, x: L.nn.functional.adaptive_max_pool2d(x, (2, 2)),
    "pad constant": lambda L, x: L.nn.functional.pad(x, (1, 1, 1, 1)),
    "pad reflect": lambda L, x: L.nn.functional.pad(x, (1, 1, 1, 1), mode="reflect"),
    "interpolate nearest": lambda L, x: L.nn.functional.interpolate(x, scale_factor=2, mode="nearest"),
    "interpolate bilinear": lambda L, x: L.nn.functional.interpolate(x, scale_factor=2, mode="bilinear"),
    "group_norm": lambda L, x: L.nn.functional.group_norm(x, 1),
    "nn.Conv2d": lambda L, x: (L.manual_seed(0), L.nn.Conv2d(3, 4, 3))[1](x),
}


@pytest.mark.parametrize("op", list(CHANNELS_LAST_OPS))
def test_channels_last_inputs_give_channels_last_results_as_torch(op):
    seen = []
    for L in (ts, torch):
        x = L.tensor(_IMAGE).contiguous(memory_format=L.channels_last)
        out = CHANNELS_LAST_OPS[op](L, x)
        L.manual_seed(0)
        mask = L.nn.functional.dropout(L.ones_like(out, dtype=L.float32), 0.5)
        seen.append((out.stride(), out.is_contiguous(memory_format=L.channels_last), out.detach().numpy(), mask.numpy()))
    (got_strides, got_cl, got, got_mask), (want_strides, want_cl, want, want_mask) = seen
    assert got_strides == want_strides and got_cl == want_cl
    np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(got_mask, want_mask)


@pytest.mark.parametrize("op", ["conv2d", "max_pool2d", "avg_pool2d", "pad constant", "interpolate nearest", "group_norm"])
def test_a_slice_of_a_channels_last_tensor_counts_as_channels_last(op):
    # torch's suggest_memory_format reads the stride order, not contiguity
    strides = []
    for L in (ts, torch):
        x = L.tensor(np.arange(2 * 3 * 8 * 6, dtype=np.float32).reshape(2, 3, 8, 6)).contiguous(
            memory_format=L.channels_last)[:, :, ::2]
        strides.append(CHANNELS_LAST_OPS[op](L, x).stride())
    assert strides[0] == strides[1]
