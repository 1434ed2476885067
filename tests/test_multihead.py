"""nn.MultiheadAttention against torch.nn.MultiheadAttention with the same state dict: outputs,
attention weights and every gradient, over its options (batch_first, masks of each kind, kdim /
vdim, add_bias_kv, add_zero_attn, unbatched input, per-head weights), and its errors."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts
from tinygrad_seq import nn

E, H, L, S, N = 8, 2, 3, 4, 2


def _pair(**kw):
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(E, H, **kw).double()
    ours = nn.MultiheadAttention(E, H, **kw).double()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert list(ours.state_dict()) == list(theirs.state_dict())
    return ours, theirs


def _inputs(kdim=E, vdim=E, batch_first=False, unbatched=False):
    rng = np.random.default_rng(1)
    shapes = [(L, E), (S, kdim), (S, vdim)] if unbatched else \
        [(N, L, E), (N, S, kdim), (N, S, vdim)] if batch_first else [(L, N, E), (S, N, kdim), (S, N, vdim)]
    return [rng.standard_normal(s) for s in shapes]


def _run(module, lib, arrays, **call):
    xs = [lib.tensor(a, requires_grad=True) for a in arrays]
    kw = {k: (lib.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in call.items()}
    out, w = module(*xs, **kw)
    loss = (out * lib.tensor(np.arange(out.numel(), dtype=np.float64).reshape(out.shape) / 10)).sum()
    if w is not None:
        loss = loss + (w * w).sum()
    loss.backward()
    grads = [x.grad.numpy() for x in xs] + [p.grad.numpy() for _, p in sorted(module.named_parameters())]
    return [out.detach().numpy(), None if w is None else w.detach().numpy()] + grads


BOOL_MASK = np.array([[False, True, False, False], [False, False, True, False], [True, False, False, False]])
PAD_MASK = np.array([[False, False, False, True], [False, True, False, False]])
CASES = {
    "plain": ({}, {}, {}),
    "batch_first": ({"batch_first": True}, {"batch_first": True}, {}),
    "bool_attn_mask": ({}, {}, {"attn_mask": BOOL_MASK}),
    "float_attn_mask": ({}, {}, {"attn_mask": np.random.default_rng(2).standard_normal((L, S))}),
    "3d_attn_mask": ({}, {}, {"attn_mask": np.random.default_rng(3).standard_normal((N * H, L, S))}),
    "key_padding_mask": ({}, {}, {"key_padding_mask": PAD_MASK}),
    "both_masks_causal_hint": ({}, {}, {"attn_mask": BOOL_MASK, "key_padding_mask": PAD_MASK, "is_causal": True}),
    "per_head_weights": ({}, {}, {"average_attn_weights": False}),
    "no_weights": ({}, {}, {"need_weights": False}),
    "kdim_vdim": ({"kdim": 5, "vdim": 6}, {"kdim": 5, "vdim": 6}, {}),
    "bias_kv_zero_attn": ({"add_bias_kv": True, "add_zero_attn": True}, {}, {"key_padding_mask": PAD_MASK}),
    "no_bias": ({"bias": False}, {}, {}),
    "unbatched": ({}, {"unbatched": True}, {}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_multihead_attention_matches_torch(case):
    ctor, shape, call = CASES[case]
    ours, theirs = _pair(**ctor)
    arrays = _inputs(**shape)
    for a, t in zip(_run(ours, ts, arrays, **call), _run(theirs, torch, arrays, **call)):
        if t is None:
            assert a is None
        else:
            np.testing.assert_allclose(a, t, rtol=1e-9, atol=1e-12)


def test_multihead_attention_errors():
    with pytest.raises(AssertionError, match="divisible"):
        nn.MultiheadAttention(6, 4)
    m = nn.MultiheadAttention(E, H)
    q = ts.randn(L, N, E)
    with pytest.raises(RuntimeError, match="is_causal"):
        m(q, q, q, is_causal=True)
    with pytest.raises(ValueError, match="2D attn_mask"):
        m(q, q, q, attn_mask=ts.zeros(2, 2))
    with pytest.raises(ValueError, match="embedding dimension of 8"):
        m(ts.randn(L, N, 4), q, q)
