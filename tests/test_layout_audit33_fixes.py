"""Fixes from an audit of results' layouts, views and random fills beside torch 2.13 (round 33c):
a result laid out other than torch's changes the next draws (dropout, rand_like, bernoulli_ fill
in memory order), so each case compares strides, contiguity and a dropout mask drawn after it."""
import warnings

import numpy as np
import pytest
import torch

import tinygrad_seq as ts

LIBS = (ts, torch)


def _layout_and_mask(L, out):
    L.manual_seed(0)
    mask = L.nn.functional.dropout(L.ones_like(out), 0.5).reshape(-1).tolist()
    return tuple(out.shape), out.stride(), out.is_contiguous(), out.reshape(-1).tolist(), mask


def _state(L):
    return L.arange(24, dtype=L.float32).reshape(2, 3, 4)   # (layers, batch, hidden)


def _transposed(L):
    return L.arange(12, dtype=L.float32).reshape(3, 4).t()   # (4, 3), strides (1, 4)


CASES = {
    # reordering an LSTM state's batch (beam search, unsorted packed batches)
    "index_select dim 1": lambda L: _state(L).index_select(1, L.tensor([2, 0, 1])),
    "h[:, order]": lambda L: _state(L)[:, L.tensor([2, 0, 1])],
    "h[..., order]": lambda L: _state(L)[..., L.tensor([3, 0, 1])],
    "repeat_interleave dim 1": lambda L: _state(L).repeat_interleave(2, 1),
    "index_select of a transpose": lambda L: _state(L).transpose(1, 2).index_select(2, L.tensor([2, 0, 1])),
    "cumsum of a transpose": lambda L: L.cumsum(_transposed(L), -1),
    "cumprod of a transpose": lambda L: _transposed(L).cumprod(0),
    "masked_fill of a transpose": lambda L: (lambda x: x.masked_fill(x > 5, 0.0))(_transposed(L)),
    "scatter of a transpose": lambda L: _transposed(L).scatter(1, L.zeros(4, 1, dtype=L.int64), 1.0),
    "scatter_add of a transpose": lambda L: _transposed(L).scatter_add(1, L.zeros(4, 1, dtype=L.int64), L.ones(4, 1)),
    "index_add of a transpose": lambda L: _transposed(L).index_add(0, L.tensor([0]), L.ones(1, 3)),
    "index_copy of a transpose": lambda L: _transposed(L).index_copy(0, L.tensor([0]), L.ones(1, 3)),
    "index_fill of a transpose": lambda L: _transposed(L).index_fill(0, L.tensor([0]), 1.0),
    "layer_norm of a transpose": lambda L: L.nn.functional.layer_norm(_transposed(L), (3,)),
    "flip of a transpose": lambda L: _transposed(L).flip(0),
    "fliplr of a transpose": lambda L: _transposed(L).fliplr(),
    "rot90 of a transpose": lambda L: L.rot90(_transposed(L)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_result_layout_and_the_dropout_mask_after_it_as_torch(case):
    got = {L.__name__: _layout_and_mask(L, CASES[case](L)) for L in LIBS}
    assert got["tinygrad_seq"] == got["torch"]


def test_flip_of_channels_last_keeps_channels_last():
    got = {}
    for L in LIBS:
        x = L.arange(120, dtype=L.float32).reshape(2, 3, 4, 5).to(memory_format=L.channels_last)
        got[L.__name__] = _layout_and_mask(L, x.flip(1))
    assert got["tinygrad_seq"] == got["torch"]


@pytest.mark.parametrize("sizes", [(1, 1), (1,), (1, 1, 1)])
def test_repeat_and_tile_of_ones_copy(sizes):
    got = {}
    for L in LIBS:
        x = L.arange(6, dtype=L.float32).reshape(2, 3)
        y = x.repeat(*sizes) if len(sizes) >= 2 else x.tile(sizes)
        y[(0,) * y.ndim] = 100.0
        t = x.t().repeat(1, 1)
        got[L.__name__] = (x.tolist(), y.tolist(), t.stride(), t.is_contiguous())
    assert got["tinygrad_seq"] == got["torch"]


@pytest.mark.parametrize("dtype", ["int32", "int16", "int8", "uint8", "bool", "int64", "float16", "float32",
                                   "float64"])
def test_random_without_bounds_draws_torchs_words(dtype):
    # torch's uniform_int: a 64-bit word for int64 / float64, a 32-bit one else, modulo the range
    got = {}
    for L in LIBS:
        L.manual_seed(0)
        x = L.zeros(3, 4, dtype=getattr(L, dtype)).t().random_()
        got[L.__name__] = (x.tolist(), L.rand(2).tolist())
    assert got["tinygrad_seq"] == got["torch"]


VALUES = {"None": None, "str": "a", "list": [1.0], "tuple": (1.0,), "numpy float32": np.float32(2),
          "numpy array": np.array(3.0), "numpy bool": np.bool_(True), "numpy float64": np.float64(2),
          "numpy int32": np.int32(3), "bool": True, "int": 2, "float": 2.5}


@pytest.mark.parametrize("value", list(VALUES))
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_item_assignment_takes_torchs_value_types(value, dtype):
    got = {}
    for L in LIBS:
        x = L.zeros(3, dtype=getattr(L, dtype))
        try:
            x[0] = VALUES[value]
            got[L.__name__] = x.tolist()
        except TypeError as e:
            got[L.__name__] = str(e)
    assert got["tinygrad_seq"] == got["torch"]


@pytest.mark.parametrize("write", ["mul_", "slice add_", "item", "in no_grad"])
def test_a_view_taken_under_no_grad_refuses_a_tracked_write_as_torch(write):
    # the write went untracked and the gradient came out wrong (x.grad 4 where d(2x)^2/dx is 8)
    got = {}
    for L in LIBS:
        x = L.ones(3, requires_grad=True)
        y = x * 1
        with L.no_grad():
            v = y[0:2] if write == "slice add_" else y.view(3)
        try:
            if write == "in no_grad":
                with L.no_grad():
                    v.mul_(2)
            else:
                {"mul_": lambda: v.mul_(2), "slice add_": lambda: v.add_(1), "item": lambda: v.__setitem__(0, 5.0)}[write]()
            (y * y).sum().backward()
            got[L.__name__] = (y.tolist(), x.grad.tolist())
        except RuntimeError as e:   # (torch's item assignment names its Select node first: not compared)
            got[L.__name__] = str(e)[str(e).index("created in no_grad mode"):]
        d = y.detach()
        d.mul_(1)   # a detached alias is no view: its writes are allowed
    assert got["tinygrad_seq"] == got["torch"]


REVIEW_CASES = {
    # a 0-d result stays 0-d (np.ascontiguousarray makes it 1-d)
    "masked_fill of a 0-d tensor": lambda L: L.tensor(2.0).masked_fill(L.tensor(True), 0.0),
    "masked_fill_ of a 0-d tensor": lambda L: L.tensor(2.0).masked_fill_(L.tensor(True), 1.0),
    "logdet": lambda L: L.logdet(L.tensor([[2.0, 1.0], [1.0, 3.0]])),
    "hardshrink of a 0-d tensor": lambda L: L.nn.functional.hardshrink(L.tensor(0.3)),
    # channels-last 3-d kept by cat; a contiguous 1-channel tensor counts as contiguous
    "cat of channels_last_3d, dim 1": lambda L: L.cat(
        [L.arange(384.0).reshape(2, 3, 4, 4, 4).contiguous(memory_format=L.channels_last_3d)] * 2, 1),
    "cat of channels_last_3d, dim 0": lambda L: L.cat(
        [L.arange(384.0).reshape(2, 3, 4, 4, 4).contiguous(memory_format=L.channels_last_3d)] * 2, 0),
    "cat of channels_last and 1 channel": lambda L: L.cat(
        [L.arange(96.0).reshape(2, 3, 4, 4).contiguous(memory_format=L.channels_last), L.zeros(2, 1, 4, 4)], 1),
    # flip of an expand: row-major, as torch's
    "flip of an expand": lambda L: L.arange(4.0).expand(3, 4).flip(1),
    "flip of a 3-d expand": lambda L: L.arange(4.0).expand(2, 3, 4).flip(2),
    "flip of a transposed expand": lambda L: L.arange(3.0).reshape(3, 1).expand(3, 4).t().flip(0),
    # an index of a view whose strides run row-major is contiguous
    "x[:, i, 0]": lambda L: L.arange(60.0).reshape(3, 4, 5)[:, L.tensor([2, 0, 1]), 0],
    "x[:, 0, i]": lambda L: L.arange(60.0).reshape(3, 4, 5)[:, 0, L.tensor([2, 0, 1])],
    "x[:, 1:3][:, [1, 0]]": lambda L: L.arange(60.0).reshape(3, 4, 5)[:, 1:3][:, [1, 0]],
    "x[:, :, ::2][:, i]": lambda L: L.arange(60.0).reshape(3, 4, 5)[:, :, ::2][:, L.tensor([2, 0, 1])],
    "x[:, 2-d index, 2]": lambda L: L.arange(120.0).reshape(2, 3, 4, 5)[:, L.tensor([[1, 0], [0, 1]]), 2],
    "x[:, negative i]": lambda L: L.arange(60.0).reshape(3, 4, 5)[:, L.tensor([-1, 0])],
    "x[i, :, i]": lambda L: L.arange(60.0).reshape(3, 4, 5)[L.tensor([0, 1]), :, L.tensor([0, 1])],
}


@pytest.mark.parametrize("case", list(REVIEW_CASES))
def test_reviewed_layouts_and_shapes_as_torch(case):
    got = {L.__name__: _layout_and_mask(L, REVIEW_CASES[case](L)) for L in LIBS}
    assert got["tinygrad_seq"] == got["torch"]


def test_a_0d_uint8_index_assigns_as_torch():
    # torch's slicing turns a 0-d byte index into an index tensor: no masked_fill_ error
    got = {}
    for L in LIBS:
        x = L.zeros(3, 4)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x[L.tensor(1, dtype=L.uint8)] = 5.0
        got[L.__name__] = x.tolist()
    assert got["tinygrad_seq"] == got["torch"]


@pytest.mark.parametrize("case", ["same shape mul_", "leading 1 add_", "no_grad view", "version", "leaf"])
def test_an_expand_without_repeats_is_a_view_of_its_input(case):
    # y.expand(y.shape).mul_(x) wrote y's memory untracked: x.grad 2 where torch's is 4
    got = {}
    for L in LIBS:
        x = L.ones(3, 2, requires_grad=True)
        y = x * 2
        try:
            if case == "same shape mul_":
                y.expand(3, 2).mul_(x)
            elif case == "leading 1 add_":
                y.expand(1, 3, 2).add_(1)
            elif case == "no_grad view":
                with L.no_grad():
                    v = y.expand(3, 2)
                v.mul_(2)
            elif case == "leaf":
                x.expand(3, 2).add_(1)
            else:
                z = L.ones(3)
                e = z.expand(3)
                e.add_(1)
                got[L.__name__] = (z.tolist(), z._version, e._version, e._base is z)
                continue
            y.sum().backward()
            got[L.__name__] = (y.tolist(), x.grad.tolist())
        except RuntimeError as e:
            got[L.__name__] = str(e)[:40]
    assert got["tinygrad_seq"] == got["torch"]


@pytest.mark.parametrize("args", [(), (5,), (0, None), (5, None), (2, 7)])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "float32"])
def test_random_from_and_none_draws_up_to_the_dtypes_max_as_torch(args, dtype):
    # random_(from, None) is [from, max] (it was read as random_(to=from) and raised for from 0)
    got = {}
    for L in LIBS:
        L.manual_seed(0)
        x = L.empty(4, dtype=getattr(L, dtype)).random_(*args)
        got[L.__name__] = (x.tolist(), L.rand(1).tolist())
    assert got["tinygrad_seq"] == got["torch"]
