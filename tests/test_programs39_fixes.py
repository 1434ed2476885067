"""Round 39 (sampling and decoding programs, an nn module parity sweep, the data pipeline,
optimizers and schedulers; beside torch 2.13): what the rounds found, each checked against torch."""
import warnings

import numpy as np
import pytest

import tinygrad_seq as ts
import tinygrad_seq.nn.functional as TF

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402

NAN = float("nan")


def _sums(module):
    return [float(p.detach().double().sum()) for p in module.parameters()]


def test_float32_scans_accumulate_in_float64_at_any_length():
    for n, value in ((10, 0.1), (3, 0.1), (127, 0.3)):
        ours = ts.full((n,), value).cumsum(0).numpy()
        assert np.array_equal(ours, torch.full((n,), value).cumsum(0).numpy())
    assert ts.full((10,), 1.1).cumprod(0)[-1].item() == torch.full((10,), 1.1).cumprod(0)[-1].item()
    p = ts.full((1, 10), 0.1)
    assert int((~(p.cumsum(-1) > 1.0)).sum()) == 10   # a top-p filter at 1.0 keeps every token


def test_softmax_of_a_scalar_and_masked_fill_of_inf_into_integers():
    for lib in (ts, torch):
        x = lib.tensor(2.0, requires_grad=True)
        y = lib.softmax(x, -1) + x.log_softmax(0)
        y.backward()
        assert y.item() == 1.0 and x.grad.item() == 0.0
        with pytest.raises(IndexError):
            lib.tensor(2.0).softmax(1)
        with pytest.raises(RuntimeError, match="without overflow"):
            lib.arange(6).masked_fill(lib.arange(6) > 2, float("-inf"))


@pytest.mark.parametrize("name", ["TransformerEncoderLayer", "TransformerDecoderLayer", "Transformer"])
def test_float64_transformers_draw_their_weights_in_float64(name):
    out = []
    for lib in (ts, torch):
        lib.manual_seed(0)
        kw = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1, dim_feedforward=12)
        module = (lib.nn.Transformer(**kw, dtype=lib.float64) if name == "Transformer" else
                  getattr(lib.nn, name)(8, 2, 12, dtype=lib.float64))
        assert all(p.dtype == lib.float64 for p in module.parameters())
        out.append(_sums(module))
    np.testing.assert_allclose(out[0], out[1], rtol=1e-12)


def test_float16_uniform_never_gives_the_upper_bound():
    counts = []
    for lib in (ts, torch):
        lib.manual_seed(123)
        w = lib.nn.Linear(100, 100, dtype=lib.float16).weight
        lib.manual_seed(5)
        x = lib.empty(100000, dtype=lib.float16).uniform_(-1, 1)
        counts.append((int((w == -0.1).sum()), int((w == 0.1).sum()), int((x == 1).sum()), int((x == -1).sum())))
    assert counts[0] == counts[1] and counts[0][1] == 0


def test_recurrent_reset_parameters_in_torchs_parameter_order():
    out = []
    for lib in (ts, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = lib.nn.LSTM(2, 3, num_layers=2)
            lib.nn.utils.parametrizations.weight_norm(m, name="weight_hh_l0")
            lib.manual_seed(0)
            m.reset_parameters()
            old = lib.nn.utils.weight_norm(lib.nn.LSTM(3, 4), name="weight_hh_l0")
            lib.manual_seed(0)
            old.reset_parameters()
            cells = [lib.nn.utils.weight_norm(c, name="weight_hh")
                     for c in (lib.nn.LSTMCell(3, 4), lib.nn.GRUCell(3, 4), lib.nn.RNNCell(3, 4))]
            for c in cells:
                lib.manual_seed(0)
                c.reset_parameters()
            lib.manual_seed(1)
            plain = lib.nn.GRU(2, 3, num_layers=2, bidirectional=True)
            plain.reset_parameters()
        out.append([_sums(m), _sums(old), *[_sums(c) for c in cells], _sums(plain)])
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-6)


@pytest.mark.parametrize("norm_type", [float("inf"), 0, 1, 3.0])
def test_embedding_max_norm_with_inf_and_zero_norms(norm_type):
    out = []
    for lib in (ts, torch):
        m = lib.nn.Embedding(2, 3, max_norm=1.0, norm_type=norm_type)
        with lib.no_grad():
            m.weight.copy_(lib.tensor([[0.5, -2.0, 1.5], [0.1, 0.2, 0.0]]))
        out.append(m(lib.tensor([0, 1])).detach().numpy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-6)


def test_max_pools_send_the_gradient_to_a_windows_last_nan():
    cases = [
        lambda L, x: F.max_pool2d(x, 2, return_indices=True) if L is torch else TF.max_pool2d(x, 2, return_indices=True),
        lambda L, x: (F if L is torch else TF).adaptive_max_pool2d(x, (1, 1), return_indices=True),
    ]
    for fn in cases:
        got = []
        for lib in (ts, torch):
            x = lib.tensor([[[[2., NAN], [NAN, 2.]]]], requires_grad=True)
            y, i = fn(lib, x)
            y.sum().backward()
            got.append((i.tolist(), x.grad.tolist()))
        assert got[0] == got[1]
    row = [NAN, 1, NAN, NAN, 2, 3., NAN, 1.]
    for fn in (lambda G, x: G.max_pool1d(x, 4, return_indices=True), lambda G, x: G.adaptive_max_pool1d(x, 2, True),
               lambda G, x: (G.max_pool1d(x, 3, stride=2), None), lambda G, x: (G.adaptive_max_pool1d(x, 3), None)):
        got = []
        for lib, G in ((ts, TF), (torch, F)):
            x = lib.tensor([[row]], requires_grad=True)
            y, i = fn(G, x)
            y.sum().backward()
            got.append((None if i is None else i.tolist(), x.grad.tolist()))
        assert got[0] == got[1]


def test_module_signatures_as_torchs():
    pad = ts.nn.ZeroPad1d(2)
    assert isinstance(pad, ts.nn.ConstantPad1d) and pad.value == 0.0 and repr(pad) == "ZeroPad1d((2, 2))"
    assert pad(ts.ones(1, 1, 2)).tolist() == [[[0.0, 0.0, 1.0, 1.0, 0.0, 0.0]]]
    assert len(ts.nn.ModuleList(None)) == 0
    assert ts.nn.RMSNorm(3)(x=ts.ones(2, 3)).shape == (2, 3)
    assert ts.nn.GroupNorm(2, 4, 1e-5, True, None, ts.float64).weight.dtype == ts.float64
    assert ts.nn.GroupNorm(2, 4, bias=False).bias is None


def test_prod_multiplies_in_one_pass_as_before_and_differentiates_with_zeros():
    rng = np.random.default_rng(0)
    x = (1 + rng.standard_normal((16, 300)) * 0.01).astype(np.float32)
    assert np.array_equal(ts.tensor(x).prod(0).numpy(), torch.from_numpy(x).prod(0).numpy())   # torch's order
    np.testing.assert_allclose(ts.tensor(x).prod(1).numpy(), torch.from_numpy(x).prod(1).numpy(), rtol=1e-5)
    out = []
    for lib in (ts, torch):
        t = lib.tensor([[2., 0., 3.], [1.5, -2., 4.]], requires_grad=True)
        y = t.prod(1)
        y.sum().backward()
        out.append((y.tolist(), t.grad.tolist(), lib.tensor([]).prod().item(), t.detach().prod().item()))
    assert out[0] == out[1]


def test_reviewer_findings_on_the_round_fixes():
    # a float64 encoder with the default (float32) causal mask: need_weights=False takes it, as torch's
    for lib in (ts, torch):
        lib.manual_seed(0)
        layer = lib.nn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True, dtype=lib.float64)
        out = layer(lib.randn(2, 3, 8, dtype=lib.float64), src_mask=lib.nn.Transformer.generate_square_subsequent_mask(3))
        assert tuple(out.shape) == (2, 3, 8)
        mha = lib.nn.MultiheadAttention(8, 2)
        with pytest.raises(RuntimeError):
            mha(lib.randn(3, 2, 8), lib.randn(4, 2, 8), lib.randn(4, 2, 8), attn_mask=lib.zeros(3, 4, dtype=lib.float64),
                need_weights=False)
        # lerp: a 0-d weight of another dtype keeps self's; a transposed start keeps its layout
        assert lib.lerp(lib.zeros(3), lib.ones(3), lib.tensor(0.3, dtype=lib.float64)).dtype == lib.float32
        assert lib.lerp(lib.arange(6.).reshape(2, 3).t(), lib.ones(3, 2), 0.3).stride() == (1, 3)
        # float16 rand never gives 1
        lib.manual_seed(0)
        assert int((lib.rand(200000, dtype=lib.float16) == 1).sum()) == 0
    from tinygrad_seq.utils.data import random_split
    from torch.utils.data import random_split as t_random_split
    ts.manual_seed(2)
    torch.manual_seed(2)
    assert ([len(p) for p in random_split(range(10), [ts.tensor(0.3), ts.tensor(0.7)])] ==
            [len(p) for p in t_random_split(range(10), [torch.tensor(0.3), torch.tensor(0.7)])] == [3, 7])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = ts.tensor([1., 2., 4.], requires_grad=True)
        x.std(correction=4).backward()   # over all dims: nan, as torch's
        assert np.isnan(x.grad.numpy()).all()
    x = ts.tensor([[0., NAN], [1., 2.]], requires_grad=True)
    TF.pdist(x, p=float("inf")).sum().backward()
    assert np.isnan(x.grad.numpy()).all()
