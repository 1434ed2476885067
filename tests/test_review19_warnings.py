"""Review 19 against torch 2.13: scaled_dot_product_attention(enable_gqa=True) (values and the
gradients of q, k, v in float64, every mask option, torch's errors); the warnings torch gives
(F.upsample*, torch.cuda.amp's deprecated constructors, mismatched key padding / attention mask
dtypes in multi-head attention and the transformer modules), each with torch's category, text
and count; and clip_grad_norm_ with inf / nan gradients, silent as torch's."""
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as TF  # noqa: E402

import tinygrad_seq as ts  # noqa: E402
import tinygrad_seq.functional as F  # noqa: E402


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _caught(fn, keep=lambda w: True):
    """(category name, message) of every warning fn gives, in order."""
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        fn()
    return [(w.category.__name__, str(w.message)) for w in got if keep(w)]


def _error_of(fn):
    try:
        fn()
    except Exception as e:   # noqa: BLE001 - the error itself is what is compared
        return e
    raise AssertionError("no error raised")


# ------------------------------------------------------------------ 1. grouped-query attention
def _sdpa_both(shapes, kw_of, seed=0):
    """Run both libraries' scaled_dot_product_attention(enable_gqa=True) on float64 q, k, v of the
    given shapes; compare the values and the gradients of q, k, v."""
    arrays = [_rand(*s, seed=seed + i) for i, s in enumerate(shapes)]
    ours = [ts.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    y = F.scaled_dot_product_attention(*ours, enable_gqa=True, **kw_of(ts))
    yt = TF.scaled_dot_product_attention(*theirs, enable_gqa=True, **kw_of(torch))
    assert y.shape == tuple(yt.shape)
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-10, atol=1e-12)
    w = _rand(*y.shape, seed=99)
    (y * ts.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    for a, t in zip(ours, theirs):
        assert a.grad.shape == tuple(t.grad.shape)
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


_BOOL_MASK = np.random.default_rng(5).random((4, 5)) > 0.4
_BOOL_MASK[:, 0] = True
_BOOL_MASK[2] = False          # one query with every key masked: torch's safe softmax gives 0


@pytest.mark.parametrize("kind", ["plain", "causal", "bool_mask", "float_mask", "head_mask", "scale"])
def test_gqa_matches_torch(kind):
    kw = dict(plain={}, causal=dict(is_causal=True), scale=dict(scale=0.37),
              bool_mask=dict(attn_mask=_BOOL_MASK), float_mask=dict(attn_mask=_rand(4, 5, seed=7)),
              head_mask=dict(attn_mask=_rand(6, 4, 5, seed=8)))[kind]

    def kw_of(lib):
        return {n: lib.tensor(m) if isinstance(m, np.ndarray) else m for n, m in kw.items()}
    _sdpa_both([(2, 6, 4, 3), (2, 2, 5, 3), (2, 2, 5, 7)], kw_of)


@pytest.mark.parametrize("shapes", [
    [(6, 4, 3), (3, 5, 3), (3, 5, 2)],                   # unbatched [heads, L, E]
    [(2, 6, 4, 3), (2, 2, 5, 3), (2, 3, 5, 3)],          # key and value grouped differently
    [(2, 6, 4, 3), (2, 1, 5, 3), (2, 6, 5, 3)],          # one key head (multi-query attention)
    [(1, 2, 4, 4, 3), (1, 2, 2, 5, 3), (1, 2, 2, 5, 3)],  # extra batch dims
    [(2, 4, 4, 3), (2, 4, 5, 3), (2, 4, 5, 3)],          # equal heads: plain attention
])
def test_gqa_shapes_match_torch(shapes):
    _sdpa_both(shapes, lambda lib: {})


def test_gqa_dropout_is_attention_over_repeated_heads():
    # dropout draws differ between the libraries: compare with our own explicit repeat instead
    q, k, v = (ts.tensor(_rand(*s, seed=i)) for i, s in enumerate([(2, 6, 4, 3), (2, 2, 5, 3), (2, 2, 5, 3)]))
    ts.manual_seed(3)
    grouped = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5, enable_gqa=True)
    ts.manual_seed(3)
    repeated = F.scaled_dot_product_attention(q, k.repeat_interleave(3, -3), v.repeat_interleave(3, -3),
                                              dropout_p=0.5)
    np.testing.assert_array_equal(grouped.numpy(), repeated.numpy())


@pytest.mark.parametrize("shapes, gqa", [
    ([(2, 6, 4, 3), (2, 4, 5, 3), (2, 4, 5, 3)], True),    # 4 key heads do not divide 6
    ([(2, 2, 4, 3), (2, 6, 5, 3), (2, 6, 5, 3)], True),    # more key heads than query heads
    ([(2, 6, 4, 3), (2, 2, 5, 3), (2, 4, 5, 3)], True),    # value heads do not divide
    ([(4, 3), (5, 3), (5, 3)], True),                      # no heads dim
    ([(2, 6, 4, 3), (2, 2, 5, 3), (2, 2, 5, 3)], False),   # different heads without enable_gqa
    ([(2, 6, 4, 3), (2, 6, 5, 3), (2, 3, 5, 3)], False),   # value's heads differ
    ([(1, 2, 6, 4, 3), (2, 2, 5, 3), (2, 2, 5, 3)], False),
])
def test_gqa_errors_match_torch(shapes, gqa):
    arrays = [_rand(*s, seed=i) for i, s in enumerate(shapes)]
    theirs = _error_of(lambda: TF.scaled_dot_product_attention(*map(torch.tensor, arrays), enable_gqa=gqa))
    ours = _error_of(lambda: F.scaled_dot_product_attention(*map(ts.tensor, arrays), enable_gqa=gqa))
    assert isinstance(ours, type(theirs)) and str(ours) == str(theirs)


# ------------------------------------------------------------------ 2a. F.upsample*
@pytest.mark.parametrize("name, kw", [("upsample", dict(scale_factor=2)),
                                      ("upsample", dict(size=(3, 5), mode="bilinear", align_corners=False)),
                                      ("upsample_nearest", dict(scale_factor=2)),
                                      ("upsample_bilinear", dict(size=(3, 4)))])
def test_upsample_deprecation_warnings_match_torch(name, kw):
    x = _rand(1, 2, 2, 3)
    out = {}
    ours = _caught(lambda: out.setdefault("ours", getattr(F, name)(ts.tensor(x), **kw)))
    theirs = _caught(lambda: out.setdefault("torch", getattr(TF, name)(torch.tensor(x), **kw)))
    assert ours == theirs and len(theirs) == 1
    np.testing.assert_allclose(out["ours"].numpy(), out["torch"].numpy(), rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ 2b. torch.cuda.amp
def _future(w):
    return issubclass(w.category, FutureWarning)


@pytest.mark.parametrize("make", [
    lambda L: L.cuda.amp.GradScaler(),
    lambda L: L.cuda.amp.GradScaler(2.0 ** 10, enabled=False),
    lambda L: L.cuda.amp.autocast(),
    lambda L: L.cuda.amp.autocast(False),
    lambda L: L.amp.GradScaler("cuda"),
    lambda L: L.amp.GradScaler("cuda", enabled=False),
    lambda L: L.amp.autocast("cuda"),
    lambda L: L.autocast("cpu", enabled=False),
])
def test_cuda_amp_future_warnings_match_torch(make):
    ours = _caught(lambda: make(ts), _future)
    theirs = _caught(lambda: make(torch), _future)
    assert ours == theirs


def test_cuda_gradscaler_warnings_in_torchs_order_without_cuda():
    if torch.cuda.is_available() or ts.cuda.is_available():
        pytest.skip("needs a machine without CUDA")
    assert _caught(lambda: ts.cuda.amp.GradScaler()) == _caught(lambda: torch.cuda.amp.GradScaler())


# ------------------------------------------------------------------ 2c. mismatched mask dtypes
E, HEADS, L, N = 8, 2, 3, 2


def _masks(lib):
    """float / bool [L, L] attention masks and [N, L] key padding masks (nothing masked)."""
    return dict(f=lib.zeros(L, L), b=lib.zeros(L, L, dtype=lib.bool),
                fk=lib.zeros(N, L), bk=lib.zeros(N, L, dtype=lib.bool), none=None)


def _mismatch_warnings(run):
    """(ours, torch's) mismatched-mask warnings of run(lib, masks)."""
    def keep(w):
        return "mismatched" in str(w.message)
    out = []
    for lib in (ts, torch):
        lib.manual_seed(0)
        masks = _masks(lib)
        out.append(_caught(lambda: run(lib, masks), keep))
    return out


_PAIRS = [("f", "bk"), ("b", "fk"), ("f", "fk"), ("b", "bk"), ("none", "bk"), ("f", "none"), ("none", "none")]


@pytest.mark.parametrize("attn, pad", _PAIRS)
@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention_mask_warning_matches_torch(attn, pad, need_weights):
    def run(lib, m):
        mha = lib.nn.MultiheadAttention(E, HEADS)
        x = lib.randn(L, N, E)
        mha(x, x, x, attn_mask=m[attn], key_padding_mask=m[pad], need_weights=need_weights)
    ours, theirs = _mismatch_warnings(run)
    assert ours == theirs
    assert len(theirs) == (attn != "none" and pad != "none" and attn[0] != pad[0])


@pytest.mark.parametrize("attn, pad", _PAIRS)
def test_multi_head_attention_forward_mask_warning_matches_torch(attn, pad):
    def run(lib, m):
        mha = lib.nn.MultiheadAttention(E, HEADS)
        x = lib.randn(L, N, E)
        lib.nn.functional.multi_head_attention_forward(
            x, x, x, E, HEADS, mha.in_proj_weight, mha.in_proj_bias, None, None, False, 0.0, mha.out_proj.weight,
            mha.out_proj.bias, attn_mask=m[attn], key_padding_mask=m[pad])
    ours, theirs = _mismatch_warnings(run)
    assert ours == theirs


def _encoder_layer(lib):
    return lib.nn.TransformerEncoderLayer(E, HEADS, 16, 0.0)


@pytest.mark.parametrize("attn, pad", _PAIRS)
@pytest.mark.parametrize("where", ["layer", "encoder", "decoder_layer", "transformer"])
def test_transformer_mask_warnings_match_torch(attn, pad, where):
    def run(lib, m):
        x = lib.randn(L, N, E)
        if where == "layer":
            _encoder_layer(lib)(x, src_mask=m[attn], src_key_padding_mask=m[pad])
        elif where == "encoder":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                enc = lib.nn.TransformerEncoder(_encoder_layer(lib), 2)
            enc(x, mask=m[attn], src_key_padding_mask=m[pad])
        elif where == "decoder_layer":   # torch's decoder checks in each attention, not up front
            lib.nn.TransformerDecoderLayer(E, HEADS, 16, 0.0)(
                x, x, tgt_mask=m[attn], tgt_key_padding_mask=m[pad], memory_mask=m[attn],
                memory_key_padding_mask=m[pad])
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = lib.nn.Transformer(E, HEADS, 2, 2, 16, 0.0)
            model(x, x, src_mask=m[attn], src_key_padding_mask=m[pad], tgt_mask=m[attn],
                  tgt_key_padding_mask=m[pad], memory_key_padding_mask=m[pad])
    ours, theirs = _mismatch_warnings(run)
    assert ours == theirs


def test_mismatched_masks_still_give_torchs_output():
    # a bool key padding mask with a float causal mask: the masks are combined as torch's
    rng = np.random.default_rng(0)
    x = rng.standard_normal((L, N, E))
    pad = np.array([[False, False, True], [False, True, True]])
    causal = np.triu(np.full((L, L), -np.inf), 1)
    torch_mha = torch.nn.MultiheadAttention(E, HEADS, dtype=torch.float64)
    ours_mha = ts.nn.MultiheadAttention(E, HEADS, dtype=ts.float64)
    ours_mha.load_state_dict({n: ts.tensor(t.detach().numpy()) for n, t in torch_mha.state_dict().items()})
    out = []
    for lib, mha in ((ts, ours_mha), (torch, torch_mha)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y, w = mha(lib.tensor(x), lib.tensor(x), lib.tensor(x), attn_mask=lib.tensor(causal),
                       key_padding_mask=lib.tensor(pad))
        out.append((y.detach().numpy(), w.detach().numpy()))
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_integer_mask_refused_as_torchs():
    def run(lib):
        mha = lib.nn.MultiheadAttention(E, HEADS)
        x = lib.randn(L, N, E)
        return _error_of(lambda: mha(x, x, x, attn_mask=lib.zeros(L, L, dtype=lib.int64)))
    ours, theirs = run(ts), run(torch)
    assert type(ours) is type(theirs) is AssertionError and str(ours) == str(theirs)


# ------------------------------------------------------------------ 3. clip_grad_norm_ silent
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, np.inf, 3.0, 0.0])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_clip_grad_norm_nonfinite_is_silent_as_torchs(bad, norm_type, dtype):
    grads = [np.array([1.0, bad, 2.0], dtype), np.array([[0.5, -3.0]], dtype)]
    results = []
    for lib in (ts, torch):
        params = [lib.nn.Parameter(lib.tensor(np.ones_like(g))) for g in grads]
        for p, g in zip(params, grads):
            p.grad = lib.tensor(g.copy())
        caught = []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with np.errstate(all="warn"):
                total = lib.nn.utils.clip_grad_norm_(params, 1.0, norm_type=norm_type)
        results.append((float(total), [p.grad.numpy() for p in params], [str(w.message) for w in caught]))
    (ours_total, ours_grads, ours_warn), (total_t, grads_t, warn_t) = results
    assert ours_warn == warn_t == []
    np.testing.assert_allclose(ours_total, total_t, rtol=1e-6)
    for a, b in zip(ours_grads, grads_t):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_clip_grad_norm_error_if_nonfinite_unchanged():
    for lib in (ts, torch):
        p = lib.nn.Parameter(lib.ones(2))
        p.grad = lib.tensor([1.0, float("inf")])
        with pytest.raises(RuntimeError, match="non-finite, so it cannot be clipped"):
            lib.nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
        np.testing.assert_array_equal(p.grad.numpy(), [1.0, np.inf])   # untouched on the error
