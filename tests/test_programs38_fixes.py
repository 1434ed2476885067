"""Round 38 (gradient conventions at ties and kinks, numerical extremes, error parity; beside
torch 2.13): what the rounds found, each checked against torch itself."""
import warnings

import numpy as np
import pytest

import tinygrad_seq as ts
import tinygrad_seq.nn.functional as TF

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402

INF, NAN = float("inf"), float("nan")


def _same(ours, theirs, rtol=1e-6, atol=1e-7):
    ours = ours.detach().numpy() if hasattr(ours, "detach") else np.asarray(ours)
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol, equal_nan=True)


def _both(fn, *values, dtype="float32", grad=True):
    """fn(lib, *tensors) under both libraries: (ours, torch's) outputs and input gradients."""
    results = []
    for lib in (ts, torch):
        xs = [lib.tensor(v, dtype=getattr(lib, dtype), requires_grad=grad) for v in values]
        y = fn(lib, *xs)
        grads = lib.autograd.grad(y.sum(), xs, allow_unused=True) if grad else ()
        results.append((y, grads))
    (y, g), (ty, tg) = results
    _same(y, ty)
    for a, b in zip(g, tg):
        if b is None:
            assert a is None or not a.abs().sum().item()
        else:
            _same(a, b)


# ------------------------------------------------------------------ ties and kinks
def test_cdist_and_pdist_inf_norm_give_each_tied_coordinate_the_whole_gradient():
    a, b = [[1., 0.], [2., 2.], [0., 0.]], [[0., 1.], [1., 1.]]
    _both(lambda L, x, y: L.cdist(x, y, p=INF) * L.tensor([[1., 2.], [3., 4.], [5., 6.]]), a, b)
    _both(lambda L, x: (TF if L is ts else F).pdist(x, p=INF), [[1., 0.], [0., 1.], [0., 0.]])


@pytest.mark.parametrize("name, kw", [("smooth_l1_loss", dict(beta=1.0)), ("smooth_l1_loss", dict(beta=0.5)),
                                      ("huber_loss", dict(delta=1.0)), ("huber_loss", dict(delta=2.0))])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_smooth_l1_and_huber_second_derivative_at_zero_and_at_the_bound(name, kw, dtype):
    values = [0.3, 0.0, 2.0, -0.5, 1.0, -1.0, 0.5, 7.3, INF, NAN]
    out = []
    for lib, fns in ((ts, TF), (torch, F)):
        x = lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=True)
        loss = getattr(fns, name)(x, lib.zeros(len(values), dtype=getattr(lib, dtype)), reduction="none", **kw)
        g, = lib.autograd.grad(loss.sum(), x, create_graph=True)
        finite = lib.tensor([1.] * 8 + [0., 0.], dtype=getattr(lib, dtype))
        g2, = lib.autograd.grad((g * finite).sum(), x)
        out.append((loss, g, g2))
    for a, b in zip(*out):
        _same(a, b)


def test_hinge_embedding_loss_passes_the_gradient_at_the_margin():
    _both(lambda L, x: (TF if L is ts else F).hinge_embedding_loss(x, L.tensor([-1., -1., 1., -1.]), margin=1.0,
                                                                     reduction="sum"), [1.0, 0.5, 2., -1.])


def test_multilabel_margin_loss_has_no_gradient_at_zero_margin():
    _both(lambda L, x: (TF if L is ts else F).multilabel_margin_loss(x, L.tensor([[0, -1, 0], [1, 2, -1]])),
          [[1., 0., 0.5], [0.2, 1.2, 0.3]])


@pytest.mark.parametrize("correction", [0, 1, 2, 3])
def test_var_and_std_with_correction_at_or_past_the_count(correction):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _both(lambda L, x: L.var(x, dim=1, correction=correction), [[3., 1.]])
        _both(lambda L, x: L.std(x, dim=1, correction=correction), [[3., 1.]])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_logsigmoid_keeps_its_tail_below_minus_twenty(dtype):
    _both(lambda L, x: (TF if L is ts else F).logsigmoid(x), [-20., -25., -40., -1000., 0., 3., 30.], dtype=dtype)
    x = ts.tensor([-25.], dtype=ts.float64, requires_grad=True)
    g, = ts.autograd.grad(TF.logsigmoid(x).sum(), x)
    assert g.item() == pytest.approx(1 - 1 / (1 + np.exp(25.)), rel=1e-12) and g.item() < 1.0


def test_logit_gradient_outside_zero_one_is_nan_under_create_graph():
    for lib in (ts, torch):
        x = lib.tensor([-20., 2.0, 0.5, 0.2], requires_grad=True)
        g, = lib.autograd.grad(lib.logit(x).sum(), x, create_graph=True)
        assert np.isnan(g.detach().numpy()[:2]).all()
        assert g.detach().numpy()[2:] == pytest.approx([4.0, 6.25], rel=1e-6)


def test_renorm_of_zero_and_nan_slices():
    for rows, p in [([[3., 4.], [0., 0.]], 2), ([[1., NAN, 3.], [3, 4, 0]], 2), ([[3., -4.], [0., 0.]], INF),
                    ([[3., 4.], [0.1, 0.2], [0., 0.]], 1)]:
        _both(lambda L, x: L.renorm(x, p, 0, 1.0) * L.arange(x.numel(), dtype=x.dtype).reshape(x.shape), rows,
              dtype="float64")


@pytest.mark.parametrize("mode", ["trunc", "floor"])
def test_double_backward_through_rounded_division(mode):
    out = []
    for lib in (ts, torch):
        x = lib.tensor([5., -3., 2.5], requires_grad=True)
        b = lib.tensor([2., 2., 0.7], requires_grad=True)
        gx, gb = lib.autograd.grad((lib.div(x, b, rounding_mode=mode) * x).sum(), (x, b), create_graph=True)
        out.append((gx, gb, *lib.autograd.grad(gx.sum(), (x, b), allow_unused=True)))
    for a, b in zip(*out):
        _same(a, b)


# ------------------------------------------------------------------ numerical extremes
@pytest.mark.parametrize("fn", ["remainder", "fmod"])
def test_fmod_and_remainder_values_with_gradients_are_the_exact_ones(fn):
    cases = [([5., -3.], [INF, INF]), ([5., -3., 0.], [0., 0., 0.]), ([1.797e308], [3.]), ([-2., 2., 7.5], [2.] * 3),
             ([5., -3.], [INF, -INF]), ([-4., 4.], [-2., -2.])]
    for a, b in cases:
        _both(lambda L, x, y: getattr(L, fn)(x, y), a, b, dtype="float64")


def test_fmod_and_remainder_double_backward():
    out = []
    for lib in (ts, torch):
        x = lib.tensor([5., -3., 2.5], requires_grad=True)
        b = lib.tensor([2., 2., 0.7], requires_grad=True)
        y = (lib.fmod(x, b) * x).sum() + (x % b * b).sum()
        gx, gb = lib.autograd.grad(y, (x, b), create_graph=True)
        out.append((gx, gb, *lib.autograd.grad(gx.sum() + gb.sum(), (x, b))))
    for a, b in zip(*out):
        _same(a, b)


def test_division_gradient_of_the_divisor_neither_overflows_nor_underflows():
    for a, b in [(1e20, 1e20), (0., 1e-45), (3., 2.), (-1., 0.)]:
        _both(lambda L, x, y: x / y, [a], [b])


def test_cross_entropy_and_nll_ignore_rows_whatever_their_logits():
    rows = [[INF, 0., 1.], [-INF, -INF, -INF], [0., 1., 2.]]
    target = [-100, -100, 1]
    for kw in ({}, dict(label_smoothing=0.1), dict(reduction="none"), dict(reduction="sum")):
        _both(lambda L, x: (TF if L is ts else F).cross_entropy(x, L.tensor(target), **kw), rows)
    for kw in ({}, dict(reduction="none")):
        _both(lambda L, x: (TF if L is ts else F).nll_loss(x, L.tensor(target), **kw), rows)
    big = [[-INF] * 3] * 600 + [[0., 1., 2.]] * 600   # the row-kernel path
    _both(lambda L, x: (TF if L is ts else F).cross_entropy(x, L.tensor([-100] * 600 + [1] * 600)), big)


def test_hardsigmoid_and_hardswish_at_infinity():
    for name in ("hardsigmoid", "hardswish"):
        _both(lambda L, x: getattr(TF if L is ts else F, name)(x), [INF, -INF, 1., -3., 3., 0., 5., -5.])


def test_lerp_takes_torchs_two_branch_formula():
    _both(lambda L, s, e: L.lerp(s, e, 0.5), [INF, -INF, 1., 2.], [0., 1., INF, 3.])
    _both(lambda L, s, e: L.lerp(s, e, 0.75), [1., 2.], [INF, 3.])
    _both(lambda L, s, e, w: L.lerp(s, e, w), [1., 2., 5.], [3., 7., -1.], [0.2, 0.9, 1.0])
    assert ts.lerp(ts.tensor([1., 2.]), ts.tensor([3., 7.]), 1.0).tolist() == [3.0, 7.0]
    assert ts.lerp(ts.ones(2, 3), ts.zeros(3), 0.3).dtype == ts.float32
    for q, nan_too in ((0.25, False), (0.9, True)):
        ours = (ts.nanquantile if nan_too else ts.quantile)(ts.tensor([INF, -INF, 0., 1., NAN][:5 if nan_too else 4]), q)
        theirs = (torch.nanquantile if nan_too else torch.quantile)(torch.tensor([INF, -INF, 0., 1., NAN][:5 if nan_too else 4]), q)
        _same(ours, theirs)


def test_lgamma_of_minus_infinity_is_plus_infinity():
    _same(ts.lgamma(ts.tensor([-INF, INF, -2.5, 3.])), torch.lgamma(torch.tensor([-INF, INF, -2.5, 3.])))
    _same(ts.special.gammaln(ts.tensor([-INF])), torch.special.gammaln(torch.tensor([-INF])))


def test_two_norm_and_std_gradients_at_an_infinite_norm():
    _both(lambda L, x: x.norm(), [3e38, 3e38, 1.])


def test_scans_of_infinities_print_no_numpy_warning():
    """Under Python's default warning filters (pytest's own would show the library's silenced ones)."""
    import subprocess
    import sys
    code = ("import tinygrad_seq as T; inf = float('inf'); T.tensor([inf, -inf, 1.]).cumsum(0); "
            "T.tensor([inf, 0., 1.]).cumprod(0); T.tensor([inf, 0., 1.]).prod(); T.tensor([1e30] * 3).cumprod(0)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "Warning" not in run.stderr, run.stderr


# ------------------------------------------------------------------ errors
def _raises_as_torch(ours, theirs):
    with pytest.raises(Exception) as caught_theirs:
        theirs()
    with pytest.raises(type(caught_theirs.value)) as caught:
        ours()
    return str(caught.value)


def test_convolution_with_an_empty_kernel_raises():
    msg = _raises_as_torch(lambda: TF.conv1d(ts.randn(1, 3, 5), ts.randn(4, 3, 0)),
                           lambda: F.conv1d(torch.randn(1, 3, 5), torch.randn(4, 3, 0)))
    assert msg == "kernel size should be greater than zero, but got kernel_height: 1 kernel_width: 0"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _raises_as_torch(lambda: ts.nn.Conv2d(3, 4, (2, 0))(ts.randn(1, 3, 5, 5)),
                         lambda: torch.nn.Conv2d(3, 4, (2, 0))(torch.randn(1, 3, 5, 5)))


@pytest.mark.parametrize("mask", ["attn_float64", "padding_float64", "attn_float16"])
def test_multihead_attention_refuses_a_float_mask_of_another_dtype(mask):
    def run(lib):
        m = lib.nn.MultiheadAttention(8, 2)
        q, k = lib.randn(3, 2, 8), lib.randn(4, 2, 8)
        if mask == "padding_float64":
            return m(q, k, k, key_padding_mask=lib.zeros(2, 4, dtype=lib.float64))
        dt = lib.float64 if mask == "attn_float64" else lib.float16
        return m(q, k, k, attn_mask=lib.zeros(3, 4, dtype=dt))
    msg = _raises_as_torch(lambda: run(ts), lambda: run(torch))
    assert msg.startswith("Input dtypes must be the same, got: input")
    assert ts.nn.MultiheadAttention(8, 2)(ts.randn(3, 2, 8), ts.randn(4, 2, 8), ts.randn(4, 2, 8),
                                          attn_mask=ts.zeros(3, 4, dtype=ts.bool))[0].dtype == ts.float32


def test_module_to_bfloat16_names_the_dtype():
    with pytest.raises(TypeError, match="bfloat16"):
        ts.nn.Linear(2, 2).to(ts.bfloat16)
    with pytest.raises(TypeError, match="bfloat16"):
        ts.nn.LSTM(2, 2).to("cpu", ts.bfloat16)


def test_pad_sequence_broadcasts_trailing_dims_into_the_first_ones():
    from tinygrad_seq.nn.utils.rnn import pad_sequence as ours
    from torch.nn.utils.rnn import pad_sequence as theirs
    _both(lambda L, a, b: (ours if L is ts else theirs)([a, b * 2]), np.ones((4, 3, 2)), np.ones((2, 3, 1)))
    _raises_as_torch(lambda: ours([ts.ones(4, 3, 2), ts.ones(2, 3, 4)]),
                     lambda: theirs([torch.ones(4, 3, 2), torch.ones(2, 3, 4)]))
    _raises_as_torch(lambda: ours([ts.tensor(1.), ts.tensor(2.)]), lambda: theirs([torch.tensor(1.), torch.tensor(2.)]))


def test_permute_errors_as_torchs():
    x, t = ts.randn(2, 3, 4), torch.randn(2, 3, 4)
    for order in [(0, 1, 3), (0, 1, -4)]:
        _raises_as_torch(lambda: x.permute(*order), lambda: t.permute(*order))
    for order in [(0, 1, 1), (0, 1), (0, 1, 2, 3)]:
        _raises_as_torch(lambda: x.permute(*order), lambda: t.permute(*order))


def test_messages_name_the_problem():
    cases = [
        (lambda L, G: G.batch_norm(L.randn(8, 4), L.zeros(5), L.ones(4), training=False), None),
        (lambda L, G: G.batch_norm(L.randn(8, 4), L.zeros(4), L.ones(4), weight=L.ones(3)), None),
        (lambda L, G: L.nn.GroupNorm(2, 4)(L.randn(2, 6, 3)), None),
        (lambda L, G: L.nn.GroupNorm(3, 4), None),
        (lambda L, G: bool(L.tensor([])), None),
        (lambda L, G: L.zeros(3, 2).index_copy_(0, L.tensor([5]), L.ones(1, 2)), None),
        (lambda L, G: G.multi_margin_loss(L.randn(2, 4), L.tensor([1, 4])), None),
        (lambda L, G: L.tensor({1, 2}), None),
        (lambda L, G: L.tensor([None]), None),
        (lambda L, G: L.Generator().manual_seed("a"), None),
    ]
    for fn, _ in cases:
        with pytest.raises(Exception) as theirs:
            fn(torch, F)
        with pytest.raises(type(theirs.value)) as ours:
            fn(ts, TF)
        assert str(ours.value) == str(theirs.value)


def test_error_classes_as_torchs():
    from tinygrad_seq.nn.utils.rnn import pack_padded_sequence as ours
    from torch.nn.utils.rnn import pack_padded_sequence as theirs
    _raises_as_torch(lambda: ours(ts.randn(5), [5]), lambda: theirs(torch.randn(5), [5]))
    _raises_as_torch(lambda: ours([[1., 2.]], [1]), lambda: theirs([[1., 2.]], [1]))
    _raises_as_torch(lambda: ours(ts.randn(3, 2), None), lambda: theirs(torch.randn(3, 2), None))
    _raises_as_torch(lambda: ts.normal(ts.zeros(3), ts.ones(4)), lambda: torch.normal(torch.zeros(3), torch.ones(4)))
    opt = ts.optim.SGD([ts.zeros(2, requires_grad=True)], lr=0.1)
    topt = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=0.1)
    _raises_as_torch(lambda: opt.load_state_dict({"state": {}}), lambda: topt.load_state_dict({"state": {}}))
    _raises_as_torch(lambda: ts.nn.LSTM(4, 3)(ts.randn(5, 2, 4), np.zeros((1, 2, 3), np.float32)),
                     lambda: torch.nn.LSTM(4, 3)(torch.randn(5, 2, 4), np.zeros((1, 2, 3), np.float32)))
    assert ts.manual_seed("12").initial_seed() == 12 and ts.manual_seed(1.5).initial_seed() == 1


def test_more_errors_as_torchs():
    _raises_as_torch(lambda: ts.zeros(2).fill_("a"), lambda: torch.zeros(2).fill_("a"))
    _raises_as_torch(lambda: ts.randn(3).norm(p="fro2"), lambda: torch.randn(3).norm(p="fro2"))
    _raises_as_torch(lambda: ts.nn.Embedding(0, 3)(ts.tensor([0])), lambda: torch.nn.Embedding(0, 3)(torch.tensor([0])))
    with pytest.raises(IndexError):   # and torch's IndexError for an index past the table
        ts.nn.Embedding(4, 3)(ts.tensor([4]))
    _raises_as_torch(lambda: ts.nn.Embedding(5, 3, _weight=ts.randn(4, 3)),
                     lambda: torch.nn.Embedding(5, 3, _weight=torch.randn(4, 3)))


def test_layer_norm_of_empty_input():
    out = []
    for lib in (ts, torch):
        ln = lib.nn.LayerNorm(3)
        x = lib.randn(0, 3, requires_grad=True)
        ln(x).sum().backward()
        empty = lib.nn.LayerNorm(0)(lib.randn(2, 0))
        out.append((tuple(x.grad.shape), ln.weight.grad.tolist(), ln.bias.grad.tolist(), tuple(empty.shape)))
    assert out[0] == out[1]
