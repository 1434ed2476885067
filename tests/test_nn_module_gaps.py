"""The torch.nn pieces added in nn/buffer.py, nn/lazy_parameter.py, nn/lazy.py,
nn/sync_batchnorm.py, nn/more_modules2.py, functional_more2.py, functional_grid.py and
nn/utils/fusion.py, against torch 2.13: values and gradients (float64), state_dict keys both
ways, reprs and errors. SyncBatchNorm over two MPI ranks runs tests/mpi_scripts/
sync_batchnorm_checks.py under mpiexec (marked mpi)."""
import copy
import json
import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as TF  # noqa: E402

import tinygrad_seq as ts  # noqa: E402
import tinygrad_seq.functional as F  # noqa: E402
from tinygrad_seq import nn  # noqa: E402

from module_helpers import compare_module  # noqa: E402
from mpi_helpers import mpi_env  # noqa: E402

RNG = np.random.default_rng(0)


def _compare(fo, ft, arrays, needs=None, rtol=1e-9, atol=1e-11):
    """fo / ft on the same float64 arrays: outputs and the gradients of the inputs that need them."""
    needs = needs or [a.dtype.kind == "f" for a in arrays]
    res = []
    for lib, fn in ((ts, fo), (torch, ft)):
        xs = [lib.tensor(a, requires_grad=n) for a, n in zip(arrays, needs)]
        y = fn(*xs)
        y = y[0] if isinstance(y, tuple) else y
        (y * lib.tensor(np.linspace(-1, 2, y.numel()).reshape(tuple(y.shape)))).sum().backward()
        res.append([y.detach().numpy()] + [x.grad.numpy() for x, n in zip(xs, needs) if n])
    for a, t in zip(*res):
        np.testing.assert_allclose(a, t, rtol=rtol, atol=atol)


# ------------------------------------------------------------------ nn.Buffer
def _buffer_module(lib):
    class M(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = lib.nn.Buffer(lib.ones(2))
            self.b = lib.nn.Buffer(lib.zeros(3), persistent=False)
            self.lin = lib.nn.Linear(2, 1)
    return M()


def test_buffer_registers_on_assignment_as_torchs():
    ours, theirs = _buffer_module(ts), _buffer_module(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["a", "lin.weight", "lin.bias"]
    assert [k for k, _ in ours.named_buffers()] == [k for k, _ in theirs.named_buffers()] == ["a", "b"]
    assert type(ours.a) is ts.Tensor and isinstance(ours.a, nn.Buffer) and not isinstance(ts.ones(1), nn.Buffer)
    # a Buffer over a registered name takes its persistence with it
    ours.a, theirs.a = nn.Buffer(ts.ones(4), persistent=False), torch.nn.Buffer(torch.ones(4), persistent=False)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["lin.weight", "lin.bias"]
    ours.a, theirs.a = ts.zeros(5), torch.zeros(5)   # a plain tensor keeps the name's persistence
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in ours.state_dict().items()})
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def test_buffer_keeps_memory_requires_grad_and_repr():
    data = ts.ones(2, requires_grad=True)
    b = nn.Buffer(data)
    assert b.requires_grad and b.persistent and repr(b) == repr(data.detach().requires_grad_())
    with ts.no_grad():
        b.add_(1.0)
    assert data.numpy().tolist() == [2.0, 2.0]   # detached, same memory (torch's data.detach())
    assert nn.Buffer().shape == (0,)


def test_buffer_assignment_errors_as_torchs():
    for lib in (ts, torch):
        m = _buffer_module(lib)
        m.plain = 3
        with pytest.raises(KeyError, match="attribute 'plain' already exists"):
            m.plain = lib.nn.Buffer(lib.ones(1))
        with pytest.raises(TypeError, match="as parameter 'weight'"):
            m.lin.weight = lib.nn.Buffer(lib.ones(1))
        with pytest.raises(TypeError, match="as child module 'lin'"):
            m.lin = lib.nn.Buffer(lib.ones(1))

    class Early(nn.Module):
        def __init__(self):
            self.x = nn.Buffer(ts.ones(1))
    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()
    with pytest.raises(TypeError, match="must be a Tensor"):
        nn.Buffer([1.0])


# ------------------------------------------------------------------ lazy modules
LAZY = [
    ("LazyLinear", (3,), {}, (2, 5, 4)),
    ("LazyConv1d", (4, 3), {"bias": False}, (2, 3, 7)),
    ("LazyConv1d", (4, 3), {"padding": 1}, (3, 7)),
    ("LazyConv2d", (4, 3), {"stride": 2, "groups": 2}, (2, 4, 7, 6)),
    ("LazyConvTranspose1d", (4, 3), {"groups": 2}, (1, 4, 5)),
    ("LazyConvTranspose2d", (2, 3), {"stride": 2, "output_padding": 1}, (1, 3, 4, 5)),
    ("LazyBatchNorm1d", (), {}, (4, 5)),
    ("LazyBatchNorm2d", (), {"affine": False}, (3, 2, 4, 4)),
    ("LazyInstanceNorm1d", (), {}, (2, 4, 5)),
    ("LazyInstanceNorm2d", (), {"track_running_stats": False}, (2, 3, 4, 4)),
]


@pytest.mark.parametrize("name,args,kwargs,shape", LAZY, ids=[f"{c[0]}{i}" for i, c in enumerate(LAZY)])
def test_lazy_module_matches_torch(name, args, kwargs, shape):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert ours.has_uninitialized_params() and theirs.has_uninitialized_params()
    before = ours.state_dict()
    assert list(before) == list(theirs.state_dict())
    assert [repr(v) if not isinstance(v, np.ndarray) else "array" for v in before.values()] == \
        [repr(v) if isinstance(v, torch.nn.parameter.UninitializedTensorMixin) else "array"
         for v in theirs.state_dict().values()]
    x = RNG.standard_normal(shape)
    out_t = theirs.double()(torch.tensor(x))
    out_o = ours.double()(ts.tensor(x))
    assert type(ours).__name__ == type(theirs).__name__ == name[4:]
    assert type(ours) is getattr(nn, name[4:]) and repr(ours) == repr(theirs)
    assert out_o.shape == tuple(out_t.shape)
    assert {k: v.shape for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    # with torch's values loaded, the materialized module computes as torch's (values, gradients)
    fresh = getattr(nn, name)(*args, **kwargs).double()
    fresh.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert type(fresh).__name__ == name and not fresh.has_uninitialized_params()
    compare_module(fresh, copy.deepcopy(theirs), [x], np.float64)
    assert type(fresh).__name__ == name[4:]


def test_lazy_optimizer_before_first_call_updates_the_materialized_parameters():
    ts.manual_seed(0)
    m = nn.LazyLinear(3)
    opt = ts.optim.SGD(m.parameters(), lr=0.1)
    weight = m.weight
    m(ts.ones(2, 4)).sum().backward()
    assert m.weight is weight and type(weight) is nn.Parameter and weight.shape == (3, 4)
    before = weight.numpy().copy()
    opt.step()
    np.testing.assert_allclose(weight.numpy(), before - 0.1 * 2.0)


def test_lazy_placeholders_behave_as_torchs():
    p, tp = nn.UninitializedParameter(), torch.nn.UninitializedParameter()
    b = nn.UninitializedBuffer()
    assert repr(p) == repr(tp) == "<UninitializedParameter>" and repr(b) == "<UninitializedBuffer>"
    assert p.requires_grad and not b.requires_grad and isinstance(p, nn.Parameter) and isinstance(b, nn.Buffer)
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized"):
        p.shape
    for use in (lambda t: t + 1, lambda t: t.sum(), lambda t: t @ t):
        with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter"):
            use(p)
        with pytest.raises(ValueError, match="Attempted to use an uninitialized parameter"):
            use(tp)
    q = nn.UninitializedParameter(dtype=ts.float64)
    q.materialize((2, 3))
    assert type(q) is nn.Parameter and q.shape == (2, 3) and q.dtype == np.float64 and q.requires_grad
    b.materialize((4,))
    assert type(b) is ts.Tensor and b.shape == (4,)
    assert nn.parameter.is_lazy(nn.UninitializedParameter()) and not nn.parameter.is_lazy(q)
    m = nn.LazyLinear(2).double()   # .to() before the first call sets the dtype it materializes with
    m(ts.ones(1, 3, dtype=ts.float64))
    assert m.weight.dtype == np.float64


def test_lazy_state_dict_loading_both_ways():
    lazy_t, lazy_o = torch.nn.LazyLinear(3), nn.LazyLinear(3)
    full = nn.Linear(4, 3)
    # an initialized state into an uninitialized module: materialized and loaded, still Lazy*
    assert repr(lazy_o.load_state_dict(full.state_dict())) == "<All keys matched successfully>"
    assert type(lazy_o) is nn.LazyLinear and not lazy_o.has_uninitialized_params()
    np.testing.assert_array_equal(lazy_o.weight.numpy(), full.weight.numpy())
    x = ts.tensor(RNG.standard_normal((2, 4)).astype(np.float32))
    np.testing.assert_allclose(lazy_o(x).numpy(), full(x).numpy())   # the first call keeps the loaded values
    assert type(lazy_o) is nn.Linear
    # an uninitialized state into an initialized module: torch's RuntimeError
    with pytest.raises(RuntimeError, match="Can't access the shape"):
        nn.Linear(4, 3).load_state_dict(nn.LazyLinear(3).state_dict())
    with pytest.raises(RuntimeError, match="Can't access the shape"):
        torch.nn.Linear(4, 3).load_state_dict(lazy_t.state_dict())
    # uninitialized into uninitialized: nothing to copy, still lazy
    m = nn.LazyLinear(3)
    m.load_state_dict(nn.LazyLinear(3).state_dict())
    assert m.has_uninitialized_params()


def test_lazy_errors_as_torchs():
    for lib in (ts, torch):
        with pytest.raises(RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input to LazyConv2d"):
            lib.nn.LazyConv2d(4, 3)(lib.ones(3, 5))
        with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
            lib.nn.LazyConv2d(4, 3, groups=2)(lib.ones(1, 3, 5, 5))
    with pytest.raises(RuntimeError, match="DataParallel"):
        nn.LazyLinear(2)._replicate_for_data_parallel()


# ------------------------------------------------------------------ SyncBatchNorm
def test_sync_batchnorm_without_process_group_is_batchnorm():
    x = RNG.standard_normal((4, 3, 2, 5))
    ours, theirs = nn.SyncBatchNorm(3), torch.nn.SyncBatchNorm(3)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    compare_module(ours, theirs, [x], np.float64)
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.detach().numpy(), rtol=1e-12)
    ours.eval(), theirs.eval()
    compare_module(ours, theirs, [x], np.float64)
    for lib in (ts, torch):
        with pytest.raises(ValueError, match="expected at least 2D input"):
            lib.nn.SyncBatchNorm(3)(lib.ones(3))
        with pytest.raises(ValueError, match="number of input channels should be non-zero"):
            lib.nn.SyncBatchNorm(0)(lib.ones(3, 0))


def test_convert_sync_batchnorm_shares_parameters_buffers_and_mode():
    def build(lib):
        return lib.nn.Sequential(lib.nn.Conv2d(3, 3, 1), lib.nn.BatchNorm2d(3),
                                 lib.nn.Sequential(lib.nn.BatchNorm1d(2, affine=False, momentum=None)))
    ours, theirs = build(ts), build(torch)
    ours[2].eval(), theirs[2].eval()
    bn_weight = ours[1].weight
    c_o = nn.SyncBatchNorm.convert_sync_batchnorm(ours)
    c_t = torch.nn.SyncBatchNorm.convert_sync_batchnorm(theirs)
    assert repr(c_o) == repr(c_t)
    assert list(c_o.state_dict()) == list(c_t.state_dict())
    assert c_o[1].weight is bn_weight and c_o[2][0].training is False and c_o[1].training is True
    assert c_o[2][0].running_mean is ours[2][0].running_mean
    single = nn.SyncBatchNorm.convert_sync_batchnorm(nn.BatchNorm1d(4, bias=False))
    assert type(single) is nn.SyncBatchNorm and single.bias is None


@pytest.mark.mpi
def test_sync_batchnorm_over_two_ranks_is_batchnorm_of_the_whole_batch(tmp_path):
    pytest.importorskip("mpi4py")
    mpiexec = Path(sys.executable).parent / "mpiexec"
    if not mpiexec.exists():
        pytest.skip(f"no mpiexec next to {sys.executable}")
    script = Path(__file__).parent / "mpi_scripts" / "sync_batchnorm_checks.py"
    out = tmp_path / "sbn"
    p = subprocess.Popen([str(mpiexec), "--oversubscribe", "-n", "2", sys.executable, str(script), str(out)],
                         env=mpi_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         start_new_session=True)
    try:
        log, _ = p.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        log, _ = p.communicate()
        pytest.fail(f"the job was still running after 180 s:\n{log[-3000:]}")
    assert p.returncode == 0, log[-4000:]
    for r in range(2):
        got = json.loads(Path(f"{out}.rank{r}").read_text())
        assert len(got) == 28
        for name, value in got.items():
            if name.endswith("_type"):
                assert value == "SyncBatchNorm"
            else:
                assert value < 1e-12, (r, name, value)


# ------------------------------------------------------------------ modules and functions
def test_rnn_cell_base_and_container():
    for cell in (nn.RNNCell(2, 3), nn.LSTMCell(2, 3), nn.GRUCell(2, 3)):
        assert isinstance(cell, nn.RNNCellBase)
    with pytest.warns(FutureWarning, match="nn.Container` is deprecated"):
        c = nn.Container(a=nn.Linear(1, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.nn.Container(a=torch.nn.Linear(1, 1))
    assert repr(c) == repr(t) and list(c.state_dict()) == list(t.state_dict())
    with pytest.warns(FutureWarning):
        class Sub(nn.Container):
            pass


def test_module_reprs():
    pairs = [(nn.Softmax2d(), torch.nn.Softmax2d()), (nn.ChannelShuffle(3), torch.nn.ChannelShuffle(3)),
             (nn.FeatureAlphaDropout(0.2), torch.nn.FeatureAlphaDropout(0.2)),
             (nn.TripletMarginWithDistanceLoss(margin=0.5), torch.nn.TripletMarginWithDistanceLoss(margin=0.5)),
             (nn.MultiLabelMarginLoss(), torch.nn.MultiLabelMarginLoss())]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)


def test_softmax2d_and_channel_shuffle():
    x = RNG.standard_normal((2, 6, 3, 2))
    _compare(lambda x: nn.Softmax2d()(x), lambda x: torch.nn.Softmax2d()(x), [x])
    _compare(lambda x: nn.Softmax2d()(x), lambda x: torch.nn.Softmax2d()(x), [x[0]])
    for g in (1, 2, 3):
        _compare(lambda x: F.channel_shuffle(x, g), lambda x: TF.channel_shuffle(x, g), [x])
        _compare(lambda x: nn.ChannelShuffle(g)(x), lambda x: torch.nn.ChannelShuffle(g)(x), [x[..., 0]])
    # torch's native_channel_shuffle has no derivative; the values agree
    np.testing.assert_array_equal(F.native_channel_shuffle(ts.tensor(x), 2).numpy(),
                                  TF.native_channel_shuffle(torch.tensor(x), 2).numpy())
    for lib, f in ((ts, F), (torch, TF)):
        with pytest.raises(RuntimeError, match="Number of channels must be divisible by groups. Got 6 channels"):
            f.channel_shuffle(lib.ones(2, 6, 1), 4)
        with pytest.raises(RuntimeError, match="Value of groups:0"):
            f.channel_shuffle(lib.ones(2, 6, 1), 0)
        with pytest.raises(RuntimeError, match="channel_shuffle expects input with > 2 dims"):
            f.channel_shuffle(lib.ones(2, 6), 2)
        with pytest.raises(ValueError, match="expected input to be 3D or 4D, got 2D"):
            lib.nn.Softmax2d()(lib.ones(2, 2))


def test_feature_alpha_dropout():
    x = ts.zeros(400, 3, 5)   # a zero input shows the affine map: kept -> b, dropped -> b - alpha' a
    p, alpha = 0.3, 1.7580993408473766
    a = 1.0 / np.sqrt((alpha ** 2 * p + 1) * (1 - p))
    ts.manual_seed(0)
    y = F.feature_alpha_dropout(x, p, training=True).numpy()
    assert (y == y[:, :, :1]).all()   # one draw per channel
    kept = np.isclose(y[:, :, 0], alpha * a * p)
    assert np.isclose(y[:, :, 0][~kept], alpha * a * p - alpha * a).all()
    assert abs((~kept).mean() - p) < 0.05
    xs = ts.tensor(RNG.standard_normal((4000, 2, 3)), requires_grad=True)
    ys = nn.FeatureAlphaDropout(0.2)(xs)   # keeps mean 0 and variance 1 of a unit normal
    assert abs(ys.numpy().mean()) < 0.05 and abs(ys.numpy().var() - 1) < 0.06
    ys.sum().backward()
    assert set(np.unique(np.round(xs.grad.numpy(), 12))) <= {0.0, round(1.0 / np.sqrt((alpha ** 2 * 0.2 + 1) * 0.8), 12)}
    m = nn.FeatureAlphaDropout(0.5).eval()
    assert m(xs) is xs and F.feature_alpha_dropout(xs, 0.5) is xs   # training=False by default
    assert (F.feature_alpha_dropout(ts.ones(3, 2, 2), 1.0, True).numpy() == 0).all()
    for lib, f in ((ts, F), (torch, TF)):
        with pytest.raises(RuntimeError, match="Feature dropout requires at least 2 dimensions"):
            f.feature_alpha_dropout(lib.ones(3), 0.5, True)
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
            f.feature_alpha_dropout(lib.ones(3, 2), 1.5, True)


@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_triplet_margin_with_distance_loss(swap, reduction):
    a, p, n = (RNG.standard_normal((5, 4)) for _ in range(3))
    _compare(lambda *t: F.triplet_margin_with_distance_loss(*t, swap=swap, reduction=reduction, margin=2.0),
             lambda *t: TF.triplet_margin_with_distance_loss(*t, swap=swap, reduction=reduction, margin=2.0), [a, p, n])

    def cosine(lib):
        return lambda x, y: 1.0 - lib.nn.functional.cosine_similarity(x, y)
    _compare(lambda *t: nn.TripletMarginWithDistanceLoss(distance_function=cosine(ts), swap=swap,
                                                          reduction=reduction)(*t),
             lambda *t: torch.nn.TripletMarginWithDistanceLoss(distance_function=cosine(torch), swap=swap,
                                                               reduction=reduction)(*t), [a, p, n])
    _compare(lambda *t: nn.TripletMarginWithDistanceLoss()(*t), lambda *t: torch.nn.TripletMarginWithDistanceLoss()(*t),
             [a[0], p[0], n[0]])


def test_triplet_margin_with_distance_loss_errors():
    for lib, f in ((ts, F), (torch, TF)):
        with pytest.raises(ValueError, match="expected margin to be greater than 0, got -0.5"):
            lib.nn.TripletMarginWithDistanceLoss(margin=-0.5)
        with pytest.raises(ValueError, match="margin must be greater than 0"):
            f.triplet_margin_with_distance_loss(lib.ones(2, 3), lib.ones(2, 3), lib.ones(2, 3), margin=0)
        with pytest.raises(RuntimeError, match="anchor 2D, positive 1D, and negative 2D inputs"):
            f.triplet_margin_with_distance_loss(lib.ones(2, 3), lib.ones(3), lib.ones(2, 3))
        with pytest.raises(ValueError, match="bad is not a valid value for reduction"):
            f.triplet_margin_with_distance_loss(lib.ones(2, 3), lib.ones(2, 3), lib.ones(2, 3), reduction="bad")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_multilabel_margin_loss(reduction):
    x = RNG.standard_normal((4, 5))
    target = np.array([[3, 0, -1, 1, 1], [1, 2, 3, 4, 0], [-1, 2, 2, 2, 2], [4, 4, -1, -1, -1]])
    _compare(lambda x, t: F.multilabel_margin_loss(x, t, reduction=reduction),
             lambda x, t: TF.multilabel_margin_loss(x, t, reduction=reduction), [x, target], [True, False])
    _compare(lambda x, t: nn.MultiLabelMarginLoss(reduction=reduction)(x, t),
             lambda x, t: torch.nn.MultiLabelMarginLoss(reduction=reduction)(x, t), [x[0], target[0]], [True, False])
    for lib, f in ((ts, F), (torch, TF)):
        with pytest.raises(RuntimeError, match=r"inconsistent target size: \[3\] for input of size: \[2, 3\]"):
            f.multilabel_margin_loss(lib.ones(2, 3), lib.tensor([0, -1, 2]))
        with pytest.raises(RuntimeError, match="expected scalar type Long but found"):
            f.multilabel_margin_loss(lib.ones(2, 3), lib.ones(2, 3))
    with pytest.raises(IndexError, match="'target' is out of range"):
        F.multilabel_margin_loss(ts.ones(2, 3), ts.tensor([[0, -1, 2], [3, 0, 0]]))


def test_pools_with_indices():
    x = RNG.standard_normal((2, 3, 9))
    for f_o, f_t, args in ((F.max_pool1d_with_indices, TF.max_pool1d_with_indices, (3, 2, 1)),
                           (F.adaptive_max_pool1d_with_indices, TF.adaptive_max_pool1d_with_indices, (4,))):
        (v_o, i_o), (v_t, i_t) = f_o(ts.tensor(x), *args), f_t(torch.tensor(x), *args)
        np.testing.assert_array_equal(v_o.numpy(), v_t.numpy())
        np.testing.assert_array_equal(i_o.numpy(), i_t.numpy())
        _compare(lambda x: f_o(x, *args)[0], lambda x: f_t(x, *args)[0], [x])


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")
@pytest.mark.parametrize("variant", ["packed", "separate", "bias_kv_zero_attn", "masks", "unbatched"])
def test_multi_head_attention_forward(variant):
    E, H, L, S, N = 6, 2, 4, 5, 3
    torch.manual_seed(0)
    separate = variant == "separate"
    mha = torch.nn.MultiheadAttention(E, H, kdim=4 if separate else None, vdim=5 if separate else None,
                                      add_bias_kv=variant == "bias_kv_zero_attn",
                                      add_zero_attn=variant == "bias_kv_zero_attn").double()
    names = ["in_proj_weight", "in_proj_bias", "bias_k", "bias_v", "out_proj.weight", "out_proj.bias",
             "q_proj_weight", "k_proj_weight", "v_proj_weight"]
    weights = [mha.get_parameter(n).detach().numpy() if getattr(mha, n.split(".")[0], None) is not None else None
               for n in names]
    q = RNG.standard_normal((L, E) if variant == "unbatched" else (L, N, E))
    k = RNG.standard_normal((S, 4 if separate else E) if variant == "unbatched" else (S, N, 4 if separate else E))
    v = RNG.standard_normal(k.shape[:-1] + ((5 if separate else E),))
    attn_mask = RNG.standard_normal((L, S)) if variant == "masks" else None
    padding = np.zeros((N, S), bool) if variant == "masks" else None
    if padding is not None:
        padding[1, -2:] = True
    arrays = [q, k, v] + [w for w in weights if w is not None]

    def call(lib, f):
        def run(q, k, v, *ws):
            it = iter(ws)
            w = [lib.tensor(0.0) if a is None else next(it) for a in weights]
            w = [None if a is None else t for a, t in zip(weights, w)]
            mask = None if attn_mask is None else lib.tensor(attn_mask)
            pad = None if padding is None else lib.tensor(padding)
            out, att = f.multi_head_attention_forward(
                q, k, v, E, H, w[0], w[1], w[2], w[3], variant == "bias_kv_zero_attn", 0.0, w[4], w[5],
                training=True, key_padding_mask=pad, need_weights=True, attn_mask=mask,
                use_separate_proj_weight=separate, q_proj_weight=w[6], k_proj_weight=w[7], v_proj_weight=w[8])
            return out * 2 + att.sum()
        return run
    _compare(call(ts, F), call(torch, TF), arrays)


def test_multi_head_attention_forward_errors():
    q = ts.ones(2, 1, 4)
    with pytest.raises(RuntimeError, match="expecting embedding dimension of 6"):
        F.multi_head_attention_forward(q, q, q, 6, 2, ts.ones(12, 4), None, None, None, False, 0.0, ts.ones(4, 4), None)
    with pytest.raises(NotImplementedError, match="static_k"):
        F.multi_head_attention_forward(q, q, q, 4, 2, ts.ones(12, 4), None, None, None, False, 0.0, ts.ones(4, 4),
                                       None, static_k=q)


# ------------------------------------------------------------------ affine_grid / grid_sample
@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid(align_corners):
    theta = RNG.standard_normal((2, 2, 3))
    _compare(lambda t: F.affine_grid(t, (2, 3, 4, 5), align_corners=align_corners),
             lambda t: TF.affine_grid(t, (2, 3, 4, 5), align_corners=align_corners), [theta])
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.affine_grid(ts.tensor(theta), (2, 1, 3, 3))


def test_affine_grid_errors():
    for lib, f in ((ts, F), (torch, TF)):
        with pytest.raises(ValueError, match="Expected a batch of 2D affine matrices of shape Nx2x3"):
            f.affine_grid(lib.ones(2, 3, 3), (2, 1, 3, 4), align_corners=False)
        with pytest.raises(NotImplementedError, match="affine_grid only supports 4D and 5D sizes"):
            f.affine_grid(lib.ones(2, 2, 3), (2, 1, 3), align_corners=False)
        with pytest.raises(ValueError, match="Expected theta to have floating point type"):
            f.affine_grid(lib.ones(2, 2, 3, dtype=lib.long), (2, 1, 3, 4), align_corners=False)
        with pytest.raises(ValueError, match="Expected non-zero, positive output size"):
            f.affine_grid(lib.ones(2, 2, 3), (2, 1, 0, 4), align_corners=False)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample(mode, padding_mode, align_corners):
    x = RNG.standard_normal((2, 3, 5, 4))
    grid = RNG.uniform(-1.6, 1.6, (2, 3, 6, 2))   # points outside the image too
    grid[0, 0, :2] = [[-1.0, -1.0], [1.0, 1.0]]  # the corners themselves
    needs = [True, mode == "bilinear"]
    _compare(lambda x, g: F.grid_sample(x, g, mode, padding_mode, align_corners),
             lambda x, g: TF.grid_sample(x, g, mode, padding_mode, align_corners), [x, grid], needs)


def test_grid_sample_of_affine_grid_end_to_end():
    x, theta = RNG.standard_normal((2, 1, 6, 6)), RNG.standard_normal((2, 2, 3)) * 0.5
    _compare(lambda x, t: F.grid_sample(x, F.affine_grid(t, (2, 1, 4, 5), align_corners=False), align_corners=False),
             lambda x, t: TF.grid_sample(x, TF.affine_grid(t, (2, 1, 4, 5), align_corners=False),
                                         align_corners=False), [x, theta])


def test_grid_sample_nearest_gives_the_grid_a_zero_gradient():
    g = ts.zeros(1, 2, 2, 2, requires_grad=True)
    F.grid_sample(ts.ones(1, 1, 3, 3), g, "nearest", align_corners=False).sum().backward()
    assert (g.grad.numpy() == 0).all()


def test_grid_sample_errors():
    for lib, f in ((ts, F), (torch, TF)):
        x = lib.ones(2, 1, 3, 4)
        with pytest.raises(ValueError, match="expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: 'bad'"):
            f.grid_sample(x, lib.zeros(2, 2, 2, 2), mode="bad", align_corners=False)
        with pytest.raises(ValueError, match="expected padding_mode to be 'zeros', 'border', or 'reflection'"):
            f.grid_sample(x, lib.zeros(2, 2, 2, 2), padding_mode="bad", align_corners=False)
        with pytest.raises(RuntimeError, match="expected grid and input to have same batch size"):
            f.grid_sample(x, lib.zeros(1, 2, 2, 2), align_corners=False)
        with pytest.raises(RuntimeError, match="expected grid to have size 2 in last dimension"):
            f.grid_sample(x, lib.zeros(2, 2, 2, 3), align_corners=False)
        with pytest.raises(RuntimeError, match="expected 4D input and grid with same number of dimensions"):
            f.grid_sample(x, lib.zeros(2, 2, 2), align_corners=False)
        with pytest.raises(RuntimeError):
            f.grid_sample(x, lib.zeros(2, 2, 2, 2, dtype=lib.float64), align_corners=False)
    with pytest.warns(UserWarning, match="align_corners=False since 1.3.0"):
        F.grid_sample(ts.ones(1, 1, 2, 2), ts.zeros(1, 1, 1, 2))
    with pytest.raises(NotImplementedError, match="bicubic"):
        F.grid_sample(ts.ones(1, 1, 2, 2), ts.zeros(1, 1, 1, 2), mode="bicubic", align_corners=False)


# ------------------------------------------------------------------ nn.utils
@pytest.mark.parametrize("kind", ["conv2d", "conv1d_no_bias", "conv_transpose2d", "linear", "linear_bn1"])
def test_fuse_with_batchnorm(kind):
    def build(lib):
        lib.manual_seed(0)
        if kind == "conv2d":
            layer, bn = lib.nn.Conv2d(3, 4, 3), lib.nn.BatchNorm2d(4)
        elif kind == "conv1d_no_bias":
            layer, bn = lib.nn.Conv1d(3, 4, 3, bias=False), lib.nn.BatchNorm1d(4, affine=False)
        elif kind == "conv_transpose2d":
            layer, bn = lib.nn.ConvTranspose2d(3, 4, 3), lib.nn.BatchNorm2d(4)
        elif kind == "linear":
            layer, bn = lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4)
        else:
            layer, bn = lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(1)
        return layer.double(), bn.double()
    (layer, bn), (t_layer, t_bn) = build(ts), build(torch)
    layer.load_state_dict({k: v.numpy() for k, v in t_layer.state_dict().items()})
    for b in (bn, t_bn):   # running statistics and affine parameters away from their defaults
        with (ts.no_grad() if b is bn else torch.no_grad()):
            n = b.num_features
            b.running_mean.copy_(b.running_mean * 0 + (ts.tensor if b is bn else torch.tensor)(np.linspace(-1, 1, n)))
            b.running_var.copy_(b.running_var * 0 + (ts.tensor if b is bn else torch.tensor)(np.linspace(0.5, 2, n)))
            if b.weight is not None:
                b.weight.copy_(b.weight * 0 + (ts.tensor if b is bn else torch.tensor)(np.linspace(0.3, 1.3, n)))
                b.bias.copy_(b.bias * 0 + (ts.tensor if b is bn else torch.tensor)(np.linspace(-0.2, 0.4, n)))
    layer.eval(), bn.eval(), t_layer.eval(), t_bn.eval()
    shape = {"conv2d": (2, 3, 5, 5), "conv1d_no_bias": (2, 3, 6), "conv_transpose2d": (2, 3, 4, 4)}.get(kind, (5, 3))
    x = RNG.standard_normal(shape)
    if kind.startswith("linear"):
        fused, t_fused = nn.utils.fuse_linear_bn_eval(layer, bn), torch.nn.utils.fuse_linear_bn_eval(t_layer, t_bn)
    else:
        tr = kind == "conv_transpose2d"
        fused = nn.utils.fuse_conv_bn_eval(layer, bn, transpose=tr)
        t_fused = torch.nn.utils.fuse_conv_bn_eval(t_layer, t_bn, transpose=tr)
    assert type(fused) is type(layer) and fused is not layer
    for (k, v), (tk, tv) in zip(fused.named_parameters(), t_fused.named_parameters()):
        assert k == tk and v.requires_grad == tv.requires_grad and type(v) is nn.Parameter
        np.testing.assert_allclose(v.numpy(), tv.detach().numpy(), rtol=1e-12, atol=1e-14)
    if kind != "linear_bn1":   # the fused layer computes layer then bn
        np.testing.assert_allclose(fused(ts.tensor(x)).numpy(), bn(layer(ts.tensor(x))).numpy(), rtol=1e-10, atol=1e-12)
    with pytest.raises(AssertionError, match="Fusion only for eval"):
        nn.utils.fuse_linear_bn_eval(nn.Linear(3, 4), nn.BatchNorm1d(4))
    with pytest.raises(AssertionError, match="linear.out_features == bn.num_features"):
        nn.utils.fuse_linear_bn_eval(nn.Linear(3, 4).eval(), nn.BatchNorm1d(3).eval())


def test_fuse_weights_functions_match_torch():
    w, b, rm, rv, bw, bb = (RNG.standard_normal(s) for s in ((4, 3, 2, 2), (4,), (4,), (4,), (4,), (4,)))
    rv = np.abs(rv) + 0.1
    ours = nn.utils.fuse_conv_bn_weights(*(ts.tensor(a) for a in (w, b, rm, rv)), 1e-3, ts.tensor(bw), None)
    theirs = torch.nn.utils.fuse_conv_bn_weights(*(torch.tensor(a) for a in (w, b, rm, rv)), 1e-3,
                                                 torch.tensor(bw), None)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.numpy(), t.detach().numpy(), rtol=1e-12)
    ours = nn.utils.fuse_linear_bn_weights(ts.tensor(w[:, :, 0, 0]), None, *(ts.tensor(a) for a in (rm, rv)), 1e-5,
                                           ts.tensor(bw), ts.tensor(bb))
    theirs = torch.nn.utils.fuse_linear_bn_weights(torch.tensor(w[:, :, 0, 0]), None,
                                                   *(torch.tensor(a) for a in (rm, rv)), 1e-5, torch.tensor(bw),
                                                   torch.tensor(bb))
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.numpy(), t.detach().numpy(), rtol=1e-12)
        assert o.requires_grad == t.requires_grad


def test_skip_init_and_memory_format():
    ts.manual_seed(3)
    expected = ts.randn(4).numpy()
    ts.manual_seed(3)
    m = nn.utils.skip_init(nn.Linear, 5, out_features=2)
    assert type(m) is nn.Linear and m.weight.shape == (2, 5)
    np.testing.assert_array_equal(ts.randn(4).numpy(), expected)   # the random stream as if nothing was drawn
    with pytest.raises(RuntimeError, match="Expected a Module"):
        nn.utils.skip_init(int)

    class NoDevice(nn.Module):
        def __init__(self, n):
            super().__init__()
    with pytest.raises(RuntimeError, match="must support a 'device' arg"):
        nn.utils.skip_init(NoDevice, 3)
    conv = nn.Sequential(nn.Conv2d(1, 2, 3))
    assert nn.utils.convert_conv2d_weight_memory_format(conv, ts.channels_last if hasattr(ts, "channels_last")
                                                        else "channels_last") is conv
