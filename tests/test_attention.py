"""nn.BahdanauAttention and nn.LuongAttention: formulas against plain numpy, gradients against
finite differences in float64, masking (exact zero weight and gradient), batching, bad input."""
import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq import nn

B, S, T, HQ, HK, HID = 3, 5, 4, 4, 6, 5
MASK = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], bool)

VARIANTS = ["bahdanau", "dot", "general", "concat"]


def make(kind, dtype=np.float64):
    ts.manual_seed(1)
    if kind == "bahdanau":
        attn = nn.BahdanauAttention(HQ, HK, HID)
    elif kind == "dot":
        attn = nn.LuongAttention(HK, HK, "dot")
    else:
        attn = nn.LuongAttention(HQ, HK, kind, **({"hidden_size": HID} if kind == "concat" else {}))
    return attn.to(dtype=dtype)


def inputs(attn, T_=None, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    qshape = (B, attn.query_size) if T_ is None else (B, T_, attn.query_size)
    q = ts.Tensor(rng.standard_normal(qshape).astype(dtype), requires_grad=True)
    k = ts.Tensor(rng.standard_normal((B, S, HK)).astype(dtype), requires_grad=True)
    return q, k


def numpy_scores(attn, q, k):
    """q (B, T, Hq), k (B, S, Hk) -> (B, T, S), straight from the formulas."""
    p = {n: v.numpy() for n, v in attn.named_parameters()}
    if isinstance(attn, nn.BahdanauAttention):
        pq = q @ p["query_proj.weight"].T
        pk = k @ p["key_proj.weight"].T + p["key_proj.bias"]
        return np.tanh(pq[:, :, None, :] + pk[:, None, :, :]) @ p["v.weight"][0]
    if attn.method == "dot":
        return np.einsum("bth,bsh->bts", q, k)
    if attn.method == "general":
        return np.einsum("bth,hk,bsk->bts", q, p["linear.weight"], k)
    Tq, Sk = q.shape[1], k.shape[1]
    qq = np.broadcast_to(q[:, :, None, :], (B, Tq, Sk, q.shape[-1]))
    kk = np.broadcast_to(k[:, None, :, :], (B, Tq, Sk, k.shape[-1]))
    return np.tanh(np.concatenate([qq, kk], -1) @ p["linear.weight"].T) @ p["v.weight"][0]


def numpy_attention(attn, q, k, mask):
    single = q.ndim == 2
    q3 = q[:, None] if single else q
    s = numpy_scores(attn, q3, k)
    if mask is not None:
        s = np.where(mask[:, None, :], s, -np.inf)
    e = np.exp(s - s.max(-1, keepdims=True))
    w = e / e.sum(-1, keepdims=True)
    c = w @ k
    return (c[:, 0], w[:, 0]) if single else (c, w)


@pytest.mark.parametrize("kind", VARIANTS)
@pytest.mark.parametrize("steps", [None, T])
@pytest.mark.parametrize("masked", [False, True])
def test_matches_numpy(kind, steps, masked):
    attn = make(kind)
    q, k = inputs(attn, steps)
    mask = MASK if masked else None
    c, w = attn(q, k, mask)
    c_ref, w_ref = numpy_attention(attn, q.numpy(), k.numpy(), mask)
    np.testing.assert_allclose(w.numpy(), w_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(c.numpy(), c_ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w.numpy().sum(-1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("kind", VARIANTS)
def test_float32_matches_numpy(kind):
    attn = make(kind, np.float32)
    q, k = inputs(attn, T, np.float32)
    c, w = attn(q, k, MASK)
    assert c.dtype == np.float32 and w.dtype == np.float32
    c_ref, w_ref = numpy_attention(attn, q.numpy().astype(np.float64), k.numpy().astype(np.float64), MASK)
    np.testing.assert_allclose(w.numpy(), w_ref, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(c.numpy(), c_ref, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", VARIANTS)
@pytest.mark.parametrize("steps", [None, 2])
def test_gradcheck(kind, steps):
    attn = make(kind)
    q, k = inputs(attn, steps)
    params = list(attn.parameters())

    def fn(q, k, *ps):
        return attn(q, k, MASK)

    assert ts.gradcheck(fn, (q, k, *params), eps=1e-6, atol=1e-7, rtol=1e-5)


@pytest.mark.parametrize("kind", VARIANTS)
def test_masked_positions_get_zero_weight_and_gradient(kind):
    attn = make(kind)
    q, k = inputs(attn, T)
    c, w = attn(q, k, MASK)
    wn = w.numpy()
    assert np.all(wn[np.broadcast_to(~MASK[:, None, :], wn.shape)] == 0.0)   # exactly zero
    rng = np.random.default_rng(3)
    loss = (c * ts.Tensor(rng.standard_normal(c.shape))).sum() + (w * ts.Tensor(rng.standard_normal(w.shape))).sum()
    loss.backward()
    gk = k.grad.numpy()
    assert np.all(gk[~MASK] == 0.0)
    assert np.all(gk[MASK] != 0.0)
    # changing the keys at masked positions changes nothing
    k2 = k.numpy().copy()
    k2[~MASK] = 1e3
    c2, w2 = attn(q.detach(), ts.Tensor(k2), MASK)
    np.testing.assert_array_equal(w2.numpy(), wn)
    np.testing.assert_array_equal(c2.numpy(), c.numpy())


@pytest.mark.parametrize("kind", VARIANTS)
def test_batched_steps_equal_one_step_at_a_time(kind):
    attn = make(kind)
    q, k = inputs(attn, T)
    c, w = attn(q, k, MASK)
    proj = attn.project_keys(k)
    for t in range(T):
        ct, wt = attn(q[:, t], k, MASK, projected_keys=proj)
        np.testing.assert_allclose(ct.numpy(), c.numpy()[:, t], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(wt.numpy(), w.numpy()[:, t], rtol=1e-12, atol=1e-14)


def test_parameter_shapes_and_names():
    a = nn.BahdanauAttention(3, 7, 5)
    assert {n: p.shape for n, p in a.named_parameters()} == {
        "query_proj.weight": (5, 3), "key_proj.weight": (5, 7), "key_proj.bias": (5,), "v.weight": (1, 5)}
    assert {n: p.shape for n, p in nn.LuongAttention(3, 7, "general").named_parameters()} == {"linear.weight": (3, 7)}
    assert list(nn.LuongAttention(4, 4, "dot").parameters()) == []
    assert {n: p.shape for n, p in nn.LuongAttention(3, 7, "concat", 5).named_parameters()} == {
        "linear.weight": (5, 10), "v.weight": (1, 5)}


@pytest.mark.parametrize("kind", VARIANTS)
def test_empty_row_raises_instead_of_nan(kind):
    attn = make(kind)
    q, k = inputs(attn)
    bad = MASK.copy()
    bad[1] = False
    with pytest.raises(ValueError, match="row 1 has no valid position"):
        attn(q, k, bad)


def test_bad_input():
    attn = make("general")
    q, k = inputs(attn)
    with pytest.raises(ValueError, match="batch sizes differ"):
        attn(q[:2], k)
    with pytest.raises(ValueError, match="query has 5 features"):
        attn(ts.randn(B, 5, dtype=np.float64), k)
    with pytest.raises(ValueError, match="keys must be"):
        attn(q, k[:, 0])
    with pytest.raises(ValueError, match="mask must have shape"):
        attn(q, k, MASK[:, :3])
    with pytest.raises(TypeError, match="mask must be bool"):
        attn(q, k, MASK.astype(np.int64))
    with pytest.raises(ValueError, match="method must be one of"):
        nn.LuongAttention(4, 4, "cosine")
    with pytest.raises(ValueError, match="query_size == key_size"):
        nn.LuongAttention(4, 6, "dot")


def test_mask_as_tensor():
    attn = make("bahdanau")
    q, k = inputs(attn)
    c1, w1 = attn(q, k, MASK)
    c2, w2 = attn(q, k, ts.Tensor(MASK))
    np.testing.assert_array_equal(w1.numpy(), w2.numpy())


@pytest.mark.cuda
@pytest.mark.parametrize("kind", ["bahdanau", "general"])
def test_cuda_matches_cpu(kind):
    attn = make(kind, np.float32)
    attn_c = make(kind, np.float32).to("cuda")
    q, k = inputs(attn, None, np.float32)
    qc = ts.Tensor(q.numpy(), requires_grad=True, device="cuda")
    kc = ts.Tensor(k.numpy(), requires_grad=True, device="cuda")
    c, w = attn(q, k, MASK)
    cc, wc = attn_c(qc, kc, MASK)
    np.testing.assert_allclose(wc.numpy(), w.numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(cc.numpy(), c.numpy(), rtol=1e-4, atol=1e-5)
    (c.sum() + (w * w).sum()).backward()
    (cc.sum() + (wc * wc).sum()).backward()
    np.testing.assert_allclose(kc.grad.numpy(), k.grad.numpy(), rtol=1e-3, atol=1e-5)
    assert np.all(kc.grad.numpy()[~MASK] == 0.0)
