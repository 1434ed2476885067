"""Advanced indexing of non-contiguous tensors laid out as torch 2.13's (index_layout.py): torch
restrides the view so the indexed dims read stride 0, moves non-adjacent indexed dims to the
front, and lets TensorIterator order the result's dims by (view, indices); a random fill after
the result draws in that memory order, so a differently laid result gives other dropout masks."""
import random

import numpy as np
import pytest
import torch

import tinygrad_seq as ts

_BASE = np.arange(4 * 5 * 6 * 3, dtype=np.float32).reshape(4, 5, 6, 3)

VIEWS = {
    "permuted": lambda x: x.permute(2, 0, 3, 1),
    "sliced+transposed": lambda x: x[:, ::2].transpose(1, 3),
    "transposed": lambda x: x.transpose(0, 1),
    "select+transposed": lambda x: x[:, :, 1].transpose(0, 2),
    "reversed+sliced": lambda x: x.permute(3, 2, 1, 0)[1:],
    "flipped+permuted": lambda x: x.flip(0).permute(1, 0, 2, 3),
}


def _random_index(shape, rnd):
    """A spec of one index per dim (slices, ints, int arrays of 1 or 2 dims, bool masks), maybe a None."""
    spec = []
    for n in shape:
        r = rnd.random()
        if r < 0.35:
            spec.append(("all", None))
        elif r < 0.55:
            spec.append(("ints", [rnd.randrange(n) for _ in range(3)]))
        elif r < 0.65:
            spec.append(("int", rnd.randrange(n)))
        elif r < 0.75:
            spec.append(("step", None))
        elif r < 0.85:
            spec.append(("mask", [rnd.random() < 0.5 for _ in range(n)]))
        else:
            spec.append(("ints2d", [[rnd.randrange(n) for _ in range(2)] for _ in range(2)]))
    if rnd.random() < 0.25:
        spec.insert(rnd.randrange(len(spec) + 1), ("none", None))
    return spec


def _index(L, spec):
    make = {"all": lambda v: slice(None), "none": lambda v: None, "int": lambda v: v, "step": lambda v: slice(1, None, 2),
            "ints": L.tensor, "ints2d": L.tensor, "mask": L.tensor}
    return tuple(make[kind](v) for kind, v in spec)


def _cases():
    rnd = random.Random(34)
    out = []
    for view in VIEWS:
        shape = VIEWS[view](torch.tensor(_BASE)).shape
        specs = []
        while len(specs) < 25:
            spec = _random_index(shape, rnd)
            if any(k in ("ints", "ints2d", "mask") for k, _ in spec):
                try:
                    VIEWS[view](torch.tensor(_BASE))[_index(torch, spec)]
                except (IndexError, RuntimeError):   # masks of different counts that do not broadcast
                    continue
                specs.append(spec)
        out += [(view, spec) for spec in specs]
    return out


def _seen(L, view, spec):
    out = VIEWS[view](L.tensor(_BASE))[_index(L, spec)]
    L.manual_seed(0)
    return out, L.nn.functional.dropout(L.ones_like(out), 0.5)


@pytest.mark.parametrize("view,spec", _cases())
def test_advanced_index_of_a_non_contiguous_tensor_laid_out_as_torch(view, spec):
    got, got_mask = _seen(ts, view, spec)
    want, want_mask = _seen(torch, view, spec)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    if want.numel():   # (an empty result's strides are arbitrary)
        assert [s for s, n in zip(got.stride(), got.shape) if n != 1] == \
            [s for s, n in zip(want.stride(), want.shape) if n != 1], (got.stride(), want.stride())
    np.testing.assert_array_equal(got_mask.numpy(), want_mask.numpy())


def test_lstm_state_reordered_on_a_permuted_view_then_dropout_as_torch():
    # (batch, layers, hidden) held transposed, its batch reordered with a tensor index, then dropped out
    masks = []
    for L in (ts, torch):
        h = L.arange(2 * 3 * 4, dtype=L.float32).reshape(2, 3, 4).transpose(0, 1)
        picked = h[:, :, L.tensor([3, 0, 2])]
        L.manual_seed(5)
        masks.append(L.nn.functional.dropout(picked, 0.5).numpy())
    np.testing.assert_array_equal(masks[0], masks[1])
