"""Differences from torch 2.13 found in session 54 (round 29: 2023-2026 recurrent research
programs, tests written from API.md), each checked against torch itself. float16's are in
test_half_opmath.py."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts


def _qkv(lib, shape, s_len, dtype, seed=0):
    rs = np.random.RandomState(seed)
    q = lib.tensor(rs.randn(*shape).astype(dtype), requires_grad=True)
    k = lib.tensor(rs.randn(*shape[:-2], s_len, shape[-1]).astype(dtype), requires_grad=True)
    v = lib.tensor(rs.randn(*shape[:-2], s_len, shape[-1]).astype(dtype))
    return q, k, v


@pytest.mark.parametrize("mask_kind", ["float", "bool"])
@pytest.mark.parametrize("s_len", [5, 7])
def test_sdpa_takes_a_mask_with_is_causal_as_torchs_cpu_flash_kernel(mask_kind, s_len):
    # torch 2.13's CPU flash kernel (4-D, no dropout) applies both; here it raised
    rs = np.random.RandomState(1)
    m = rs.randn(5, s_len) if mask_kind == "float" else rs.rand(5, s_len) > 0.3
    m[0] = -np.inf if mask_kind == "float" else False   # a query with every key masked: 0, as torch's
    out = {}
    for lib in (torch, ts):
        q, k, v = _qkv(lib, (1, 2, 5, 4), s_len, np.float64)
        mask = lib.tensor(m)
        y = lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=True)
        y.backward(lib.ones_like(y))
        out[lib] = (y.detach().numpy(), q.grad.numpy(), k.grad.numpy())
    for a, b in zip(out[torch], out[ts]):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)
    assert np.all(out[ts][0][0, :, 0] == 0)


@pytest.mark.parametrize("case", ["three_dims", "dropout", "mask_needs_grad", "mask_3d", "value_head_size",
                                  "query_strided"])
def test_sdpa_mask_with_is_causal_refused_where_torchs_math_kernel_runs(case):
    for lib in (torch, ts):
        q, k, v = _qkv(lib, (2, 5, 4) if case == "three_dims" else (1, 2, 5, 4), 5, np.float32)
        mask = lib.zeros(1, 5, 5) if case == "mask_3d" else lib.zeros(5, 5, requires_grad=case == "mask_needs_grad")
        if case == "value_head_size":
            v = lib.zeros(1, 2, 5, 6)
        if case == "query_strided":
            q = q.detach().transpose(-1, -2).contiguous().transpose(-1, -2)
        with pytest.raises(RuntimeError, match="_scaled_dot_product_attention: Explicit attn_mask should not be set "
                                               "when is_causal=True"):
            lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=True,
                                                           dropout_p=0.5 if case == "dropout" else 0.0)


def test_adagrad_sums_start_from_the_constructors_value_in_every_group():
    # torch ignores a group's own initial_accumulator_value (and makes the state of a group added
    # later at its first step, from the constructor's value)
    results = []
    for lib in (torch, ts):
        a, b, c = (lib.nn.Parameter(lib.ones(2, dtype=lib.float64)) for _ in range(3))
        opt = lib.optim.Adagrad([{"params": [a]}, {"params": [b], "initial_accumulator_value": 0.5}], lr=0.1,
                                initial_accumulator_value=0.2)
        opt.add_param_group({"params": [c], "initial_accumulator_value": 0.9})
        state_before = (len(opt.state[c]) if c in opt.state else 0, opt.state[b]["sum"].tolist())
        for p in (a, b, c):
            p.grad = lib.ones(2, dtype=lib.float64)
        opt.step()
        results.append((state_before, [p.detach().numpy() for p in (a, b, c)], opt.state[c]["sum"].tolist()))
    (before_t, params_t, sum_t), (before_s, params_s, sum_s) = results
    assert before_s == before_t == (0, [0.2, 0.2])
    assert sum_s == sum_t == [1.2, 1.2]
    for x, y in zip(params_t, params_s):
        np.testing.assert_allclose(y, x, rtol=1e-12)


def test_pack_padded_sequence_cuts_float_lengths_as_torchs_cast():
    # mask.sum(1) - 0.5 style lengths: torch casts to int64 (toward zero); ours raised TypeError
    x = np.arange(12, dtype=np.float32).reshape(3, 4, 1)
    for lengths in ([4, 2.5, 3], np.array([4.0, 2.9, 3.2], np.float32)):
        packed = []
        for lib in (torch, ts):
            p = lib.nn.utils.rnn.pack_padded_sequence(lib.tensor(x), lib.tensor(lengths) if isinstance(lengths, np.ndarray)
                                                      else lengths, batch_first=True, enforce_sorted=False)
            packed.append((p.data.numpy().ravel().tolist(), p.batch_sizes.tolist(), p.sorted_indices.tolist()))
        assert packed[0] == packed[1]


def test_pack_padded_sequence_refuses_a_length_past_the_input():
    # torch builds a PackedSequence whose batch_sizes add up to more than its data; ours says why
    with pytest.raises(RuntimeError, match="a sequence of length 4 is longer than the input's 3 steps"):
        ts.nn.utils.rnn.pack_padded_sequence(ts.zeros(2, 3, 1), [4, 2], batch_first=True)
