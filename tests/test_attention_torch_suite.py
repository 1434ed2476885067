"""Cases ported from PyTorch's own test/nn/test_multihead_attention.py and test/test_transformers.py
(CPU parts), each compared with torch 2.13 in the same process: the is_causal hint of
MultiheadAttention and the Transformer layers, MultiheadAttention's input-shape AssertionErrors
(torch's _mha_shape_check and the asserts of multi_head_attention_forward),
scaled_dot_product_attention's RuntimeErrors, and ts.backends.mha's fast-path switch."""
import numpy as np
import pytest

import tinygrad_seq as ts
import tinygrad_seq.nn.functional as tF

torch = pytest.importorskip("torch")


def _mha_pair(E, H, **kw):
    theirs = torch.nn.MultiheadAttention(E, H, **kw)
    ours = ts.nn.MultiheadAttention(E, H, **kw)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return theirs, ours


# ------------------------------------------------------------------ the is_causal hint
def test_mha_is_causal_hint_applies_causal_mask():
    # need_weights=False and no key_padding_mask: torch drops attn_mask (all False here, so it
    # masks nothing) and runs causally
    theirs, ours = _mha_pair(4, 2)
    x = np.random.RandomState(0).randn(3, 1, 4).astype(np.float32)
    t = theirs(*[torch.tensor(x)] * 3, attn_mask=torch.zeros(3, 3, dtype=torch.bool), need_weights=False,
               is_causal=True)[0]
    o = ours(*[ts.tensor(x)] * 3, attn_mask=ts.zeros(3, 3, dtype=ts.bool), need_weights=False, is_causal=True)[0]
    np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_mha_is_causal_hint_mask_shape_not_checked():
    # torch's test_is_causal_kernels: a (2, 2) causal mask with a length-1 query runs and gives 16s
    S, L, E, H = 1, 2, 4, 1
    mha = ts.nn.MultiheadAttention(E, H)
    mha.in_proj_weight = ts.nn.Parameter(ts.ones((E * 3, E)))
    mha.out_proj.weight = ts.nn.Parameter(ts.ones((E, E)))
    qkv = ts.ones((S, L, E))
    mask = ts.nn.Transformer.generate_square_subsequent_mask(qkv.size(1))
    out, _ = mha(qkv, qkv, qkv, attn_mask=mask, need_weights=False, is_causal=True)
    assert ts.equal(out, ts.ones(S, L, E) * 16)


@pytest.mark.parametrize("options", [{}, {"add_bias_kv": True}, {"add_zero_attn": True}, {"batch_first": True},
                                     {"kdim": 6, "vdim": 5}])
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("padding", [False, True])
@pytest.mark.parametrize("unbatched", [False, True])
def test_mha_is_causal_hint_every_branch(options, need_weights, padding, unbatched):
    # the hint is trusted only without weights and a padding mask; otherwise attn_mask is used
    theirs, ours = _mha_pair(4, 2, **options)
    rng = np.random.RandomState(1)

    def shape(dim):
        return (5, dim) if unbatched else ((3, 5, dim) if options.get("batch_first") else (5, 3, dim))
    q, k, v = (rng.randn(*shape(d)).astype(np.float32) for d in (4, options.get("kdim", 4), options.get("vdim", 4)))
    attn_mask = rng.rand(5, 5) > 0.6
    pad = (rng.rand(*((5,) if unbatched else (3, 5))) > 0.7) if padding else None
    outs = []
    for lib, m in ((torch, theirs), (ts, ours)):
        out, w = m(lib.tensor(q), lib.tensor(k), lib.tensor(v), attn_mask=lib.tensor(attn_mask),
                   key_padding_mask=None if pad is None else lib.tensor(pad), need_weights=need_weights,
                   is_causal=True)
        outs.append([out.detach().numpy(), None if w is None else w.detach().numpy()])
    np.testing.assert_allclose(outs[1][0], outs[0][0], rtol=1e-5, atol=1e-5)
    assert (outs[1][1] is None) == (outs[0][1] is None)
    if outs[0][1] is not None:
        np.testing.assert_allclose(outs[1][1], outs[0][1], rtol=1e-5, atol=1e-5)


def test_multi_head_attention_forward_is_causal_hint():
    theirs, ours = _mha_pair(4, 2)
    x = np.random.RandomState(2).randn(5, 3, 4).astype(np.float32)

    def run(lib, m):
        args = (lib.tensor(x),) * 3 + (4, 2, m.in_proj_weight, m.in_proj_bias, None, None, False, 0.0,
                                      m.out_proj.weight, m.out_proj.bias)
        # a (7, 7) mask: neither read nor shape-checked under the hint
        return lib.nn.functional.multi_head_attention_forward(*args, training=False, need_weights=False,
                                                              attn_mask=lib.zeros(7, 7), is_causal=True)[0]
    np.testing.assert_allclose(run(ts, ours).detach().numpy(), run(torch, theirs).detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_mha_is_causal_hint_needs_attn_mask():
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        ts.nn.MultiheadAttention(4, 2)(*[ts.randn(3, 1, 4)] * 3, need_weights=False, is_causal=True)


@pytest.mark.parametrize("kind", ["encoder", "decoder"])
def test_transformer_layer_is_causal_hint(kind):
    rng = np.random.RandomState(0)
    src = rng.randn(5, 2, 8).astype(np.float32)
    tgt = rng.randn(4, 2, 8).astype(np.float32)
    outs = []
    for lib in (torch, ts):
        if kind == "encoder":
            layer = lib.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)
        else:
            layer = lib.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0)
        if lib is torch:
            state = {k: v.detach().numpy() for k, v in layer.state_dict().items()}
        else:
            layer.load_state_dict(state)
        layer.eval()
        if kind == "encoder":
            out = layer(lib.tensor(src), src_mask=lib.zeros(5, 5, dtype=lib.bool), is_causal=True)
        else:
            out = layer(lib.tensor(tgt), lib.tensor(src), tgt_mask=lib.zeros(4, 4, dtype=lib.bool),
                        tgt_is_causal=True)
        outs.append(out.detach().numpy())
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------ input-shape AssertionErrors
def _shape_cases(lib):
    """name -> (query, key, value), keyword arguments: each refused by MultiheadAttention(4, 4)."""
    q, k, v = lib.randn(4, 4, 4), lib.randn(4, 4, 4), lib.randn(4, 4, 4)
    q2, k2, v2 = lib.randn(4, 4), lib.randn(4, 4), lib.randn(4, 4)
    b = lib.bool
    return {
        "3d_query_2d_key": ((q, lib.randn(4, 4), v), {}),
        "3d_query_2d_value": ((q, k, lib.randn(4, 4)), {}),
        "3d_query_1d_key_padding_mask": ((q, k, v), {"key_padding_mask": lib.tensor([False, False, True, True])}),
        "3d_query_1d_attn_mask": ((q, k, v), {"attn_mask": lib.tensor([False, False, True, True])}),
        "2d_query_3d_key": ((q2, lib.randn(4, 4, 4), v2), {}),
        "2d_query_2d_key_padding_mask": ((q2, k2, v2), {"key_padding_mask": lib.zeros(1, 8, dtype=b)}),
        "2d_query_wrong_3d_attn_mask": ((q2, k2, v2), {"attn_mask": lib.zeros(5, 4, 4, dtype=b)}),
        "1d_query": ((lib.randn(4), lib.randn(4), lib.randn(4)), {}),
        "4d_query": ((lib.randn(2, 2, 2, 4),) * 3, {}),
        "key_value_length_differ": ((q, lib.randn(5, 4, 4), lib.randn(3, 4, 4)), {}),
        "key_padding_mask_wrong_length": ((q, k, v), {"key_padding_mask": lib.zeros(4, 3, dtype=b)}),
    }


@pytest.mark.parametrize("case", list(_shape_cases(torch)))
def test_mha_shape_check_assertion_error(case):
    args, kw = _shape_cases(torch)[case]
    with pytest.raises(AssertionError) as theirs:
        torch.nn.MultiheadAttention(4, 4)(*args, **kw)
    args, kw = _shape_cases(ts)[case]
    with pytest.raises(AssertionError) as ours:
        ts.nn.MultiheadAttention(4, 4)(*args, **kw)
    # the same message, shapes printed as tuples rather than torch.Size([...])
    expected = str(theirs.value).replace("torch.Size([", "(").replace("])", ")")
    assert str(ours.value) == expected


# ------------------------------------------------------------------ scaled_dot_product_attention
def test_sdpa_1d_inputs_runtime_error():
    with pytest.raises(RuntimeError, match="at least 2 dimensional") as theirs:
        torch.nn.functional.scaled_dot_product_attention(torch.randn(5), torch.randn(5), torch.randn(5))
    with pytest.raises(RuntimeError) as ours:
        tF.scaled_dot_product_attention(ts.randn(5), ts.randn(5), ts.randn(5))
    assert str(ours.value) == str(theirs.value)


def test_sdpa_bad_dropout_runtime_error():
    q = np.random.randn(2, 3, 4, 5).astype(np.float32)
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.functional.scaled_dot_product_attention(*[torch.tensor(q)] * 3, dropout_p=1.5)
    with pytest.raises(RuntimeError) as ours:
        tF.scaled_dot_product_attention(*[ts.tensor(q)] * 3, dropout_p=1.5)
    assert str(ours.value) == str(theirs.value)


# ------------------------------------------------------------------ ts.backends.mha
def test_backends_mha_fastpath_switch():
    assert ts.backends.mha.get_fastpath_enabled() is torch.backends.mha.get_fastpath_enabled()
    ts.backends.mha.set_fastpath_enabled(False)
    try:
        assert ts.backends.mha.get_fastpath_enabled() is False
    finally:
        ts.backends.mha.set_fastpath_enabled(True)
    import tinygrad_seq.backends.mha as mha   # a submodule import, as torch.backends.mha
    assert mha is ts.backends.mha
