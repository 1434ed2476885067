"""What the seventh audit of real PyTorch programs found, asserted against torch 2.13:
bernoulli_ with a tensor p, generator states as uint8 tensors (get_rng_state, Generator.get_state,
set_rng_state's errors, save / load, the dict of earlier versions), torch.random's fork_rng and
aliases, default_generator, Tensor.resize_ / resize_as_, and optim.ASGD (update and state)."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts

LIBS = (torch, ts)


def _raises(fn):
    try:
        fn()
    except Exception as e:   # noqa: BLE001 - the type is what is compared
        return type(e)
    return None


# ------------------------------------------------------------ bernoulli_
def test_bernoulli_inplace_with_tensor_probabilities():
    p = [0., 1., 1.]
    want = torch.zeros(3).bernoulli_(torch.tensor(p)).tolist()
    assert ts.zeros(3).bernoulli_(ts.tensor(p)).tolist() == want


@pytest.mark.parametrize("p_shape", [(3,), (2, 1), (), (1, 3)])
def test_bernoulli_tensor_p_broadcasts_to_self(p_shape):
    probs = np.random.default_rng(1).integers(0, 2, p_shape).astype(np.float32)   # 0 / 1: deterministic
    for L in LIBS:
        out = L.zeros(2, 3).bernoulli_(L.tensor(probs))
        assert tuple(out.shape) == (2, 3)
        np.testing.assert_array_equal(out.numpy(), np.broadcast_to(probs, (2, 3)))


def test_bernoulli_float_p_dtypes_and_generator():
    for L in LIBS:
        assert L.zeros(4, dtype=L.int64).bernoulli_(1.0).tolist() == [1] * 4
        assert L.zeros(4, dtype=L.bool).bernoulli_(1).dtype == L.bool
        assert L.ones(4, dtype=L.float64).bernoulli_(0.0).tolist() == [0.0] * 4
        assert L.zeros(3).bernoulli_(L.tensor([1., 0., 1.], dtype=L.float64)).dtype == L.float32
    g1, g2 = ts.Generator().manual_seed(5), ts.Generator().manual_seed(5)
    a = ts.zeros(50).bernoulli_(0.5, generator=g1)
    assert ts.equal(a, ts.zeros(50).bernoulli_(0.5, generator=g2)) and 0 < a.sum().item() < 50
    ts.manual_seed(3)
    m = ts.zeros(10000).bernoulli_(ts.full((10000,), 0.3)).mean().item()
    assert abs(m - 0.3) < 0.03


@pytest.mark.parametrize("make", [
    lambda L: L.zeros(3).bernoulli_(1.5),
    lambda L: L.zeros(3).bernoulli_(-0.1),
    lambda L: L.zeros(3).bernoulli_(L.tensor([1.5, 0., 0.])),
    lambda L: L.zeros(3).bernoulli_(L.tensor([float("nan"), 0., 0.])),
    lambda L: L.zeros(3).bernoulli_(L.tensor([0.5, 0.])),          # not broadcastable
    lambda L: L.zeros(3).bernoulli_(L.ones(2, 3)),                 # more dims than self
    lambda L: L.zeros(3).bernoulli_(L.tensor([1, 0, 1])),          # integer p
    lambda L: L.zeros(3).bernoulli_(0.5, L.Generator()),           # generator is keyword-only
    lambda L: L.ones(3, requires_grad=True).bernoulli_(0.5),       # a grad-requiring leaf
])
def test_bernoulli_errors_as_torch(make):
    want = _raises(lambda: make(torch))
    got = _raises(lambda: make(ts))
    assert want is not None and got is not None and issubclass(got, want), (want, got)


def test_bernoulli_in_graph_gives_zero_gradient():
    for L in LIBS:
        x = L.ones(3, requires_grad=True)
        y = x * 1
        y.bernoulli_(1.0)
        (y * 2).sum().backward()
        assert y.requires_grad and x.grad.tolist() == [0.0, 0.0, 0.0]


# ------------------------------------------------------------ generator states
def test_get_rng_state_is_a_uint8_tensor():
    s = torch.get_rng_state()
    assert s.dtype == torch.uint8 and s.dim() == 1
    ours = ts.get_rng_state()
    assert isinstance(ours, ts.Tensor) and ours.dtype == ts.uint8 and ours.dim() == 1
    assert hasattr(ours, "clone") and not ours.requires_grad


def test_generator_get_state_is_a_uint8_tensor():
    assert tuple(torch.Generator().get_state().shape) == (5056,)
    st = ts.Generator().get_state()
    assert st.dtype == ts.uint8 and st.dim() == 1 and tuple(st.shape) == (ts.random.STATE_SIZE,)


@pytest.mark.parametrize("L", LIBS)
def test_rng_state_clone_roundtrip(L):
    s = L.get_rng_state().clone()
    a = L.rand(3)
    L.set_rng_state(s)
    assert bool((a == L.rand(3)).all())


def test_rng_state_is_a_copy_and_exact():
    s = ts.get_rng_state()
    ts.rand(5)
    assert not ts.equal(s, ts.get_rng_state())
    ts.set_rng_state(s)
    assert ts.equal(s, ts.get_rng_state())
    x = ts.randn(4)
    ts.set_rng_state(s)
    ts.random.set_rng_state(s)
    assert ts.equal(x, ts.randn(4))


def test_generator_state_roundtrip_restores_initial_seed():
    for L in LIBS:
        g = L.Generator().manual_seed(5)
        L.rand(2, generator=g)
        st = g.get_state()
        a = L.rand(4, generator=g)
        g2 = L.Generator().manual_seed(9)
        assert g2.set_state(st) is g2 and g2.initial_seed() == 5
        assert L.equal(a, L.rand(4, generator=g2))


def test_rng_state_survives_save_and_load(tmp_path):
    path = tmp_path / "ck.pt"
    ts.save({"rng": ts.get_rng_state(), "x": ts.ones(2)}, path)
    a = ts.rand(6)
    for weights_only in (True, False):
        ck = ts.load(path, weights_only=weights_only)
        assert ck["rng"].dtype == ts.uint8
        ts.set_rng_state(ck["rng"])
        assert ts.equal(a, ts.rand(6))


def test_set_rng_state_keeps_taking_the_dict_of_earlier_versions():
    legacy = ts.random.default_generator.rng.bit_generator.state   # what get_rng_state returned before
    a = ts.rand(3)
    ts.set_rng_state(legacy)
    assert ts.equal(a, ts.rand(3))


@pytest.mark.parametrize("bad, error", [
    ([1, 2], TypeError),
    (lambda L: L.zeros(56), TypeError),                     # not uint8
    (lambda L: L.zeros(10, dtype=L.uint8), RuntimeError),   # wrong length
])
def test_set_rng_state_errors_as_torch(bad, error):
    for L in LIBS:
        state = bad(L) if callable(bad) else bad
        with pytest.raises(error):
            L.set_rng_state(state)
        with pytest.raises(error):
            L.Generator().set_state(state)


def test_set_rng_state_names_the_problem():
    with pytest.raises(RuntimeError, match="of size 5056 .*size to be 10"):
        ts.set_rng_state(ts.zeros(10, dtype=ts.uint8))
    with pytest.raises(RuntimeError, match="invalid"):
        ts.set_rng_state(ts.zeros(5056, dtype=ts.uint8))   # left = 0
    with pytest.raises(TypeError, match="but got list"):
        ts.set_rng_state([1, 2])


def test_rng_states_move_between_torch_and_ts():
    torch.manual_seed(11)
    torch.rand(5)
    ts.set_rng_state(ts.tensor(torch.get_rng_state().numpy()))   # torch's state, read here
    assert ts.rand(7).tolist() == torch.rand(7).tolist()
    ts.manual_seed(12)
    ts.randn(3)
    torch.set_rng_state(torch.from_numpy(ts.get_rng_state().numpy()))   # and the other way
    assert ts.rand(4).tolist() == torch.rand(4).tolist()


def test_cuda_rng_state_functions():
    assert ts.cuda.get_rng_state_all() == ([ts.get_rng_state()] if ts.cuda.is_available() else [])
    ts.cuda.set_rng_state_all(ts.cuda.get_rng_state_all())
    if not ts.cuda.is_available():
        with pytest.raises(RuntimeError, match="no CUDA GPU"):
            ts.cuda.get_rng_state()
        s = ts.get_rng_state()
        ts.cuda.set_rng_state(ts.Generator().get_state())   # deferred in torch: nothing changes
        assert ts.equal(s, ts.get_rng_state())


def test_negative_seed_counts_modulo_2_64():
    for L in LIBS:
        assert L.manual_seed(-1).initial_seed() == 2 ** 64 - 1
        with pytest.raises(ValueError):
            L.manual_seed(2 ** 64)


# ------------------------------------------------------------ torch.random, default_generator
def test_fork_rng_restores_the_stream():
    with torch.random.fork_rng(devices=[]):
        torch.rand(2)
    ts.manual_seed(0)
    x1 = ts.rand(2)
    ts.manual_seed(0)
    with ts.random.fork_rng(devices=[]):
        ts.rand(5)
    assert ts.allclose(ts.rand(2), x1)


def test_fork_rng_restores_on_error_and_enabled_false_does_nothing():
    ts.manual_seed(1)
    want = ts.rand(3)
    ts.manual_seed(1)
    with pytest.raises(ValueError):
        with ts.random.fork_rng():
            ts.rand(7)
            raise ValueError
    assert ts.equal(ts.rand(3), want)
    ts.manual_seed(1)
    with ts.random.fork_rng(enabled=False):
        ts.rand(3)
    assert not ts.equal(ts.rand(3), want)


def test_torch_random_aliases():
    for name in ("get_rng_state", "set_rng_state", "manual_seed", "seed", "initial_seed", "fork_rng",
                 "default_generator", "Generator"):
        assert hasattr(torch.random, name) and hasattr(ts.random, name), name
    assert ts.random.manual_seed(4) is ts.random.default_generator
    assert ts.random.initial_seed() == 4 == ts.initial_seed()


def test_default_generator_is_the_global_stream():
    assert isinstance(torch.default_generator, torch.Generator)
    gen = ts.random.default_generator
    assert isinstance(gen, ts.Generator) and ts.manual_seed(0) is gen
    gen.manual_seed(11)
    assert ts.initial_seed() == 11
    a = ts.rand(3)
    ts.manual_seed(11)
    assert ts.equal(a, ts.rand(3))
    st = gen.get_state()
    b = ts.rand(3)
    gen.set_state(st)
    assert ts.equal(b, ts.rand(3))


def test_default_generator_exported_at_top_level():
    if "default_generator" not in vars(ts):
        pytest.skip("tinygrad_seq/__init__.py does not export default_generator yet")
    assert ts.default_generator is ts.random.default_generator


# ------------------------------------------------------------ resize_ / resize_as_
def test_resize_inplace():
    for L in LIBS:
        assert tuple(L.tensor([1., 2.]).new().resize_((5, 1)).shape) == (5, 1)


def test_resize_as_inplace():
    for L in LIBS:
        assert tuple(L.zeros(1).resize_as_(L.ones(3, 4)).shape) == (3, 4)


@pytest.mark.parametrize("make", [
    lambda L: L.arange(9.).view(3, 3).resize_(2, 2),                # shrink: the leading elements
    lambda L: L.arange(6.).view(2, 3).t().resize_(6),               # memory order of a transpose
    lambda L: L.arange(6.).view(2, 3).t().resize_(2, 2),
    lambda L: L.arange(6.)[::2].resize_(3),                          # same shape: unchanged
    lambda L: L.arange(6.)[2:4].resize_(3),                          # reads on into the storage
    lambda L: L.ones(2, 2).expand(3, 2, 2).resize_(3),
    lambda L: L.ones(2).resize_([2, 3])[0, :2],                      # grown: old elements first
    lambda L: L.ones(2).resize_(L.Size([1, 2, 1])),
    lambda L: L.ones(2).resize_(()),
    lambda L: L.arange(4).resize_(1, 2),
    lambda L: L.zeros(1).resize_as_(L.ones(3, 1, dtype=L.int64))[:1],   # keeps its own dtype
])
def test_resize_values_as_torch(make):
    want, got = make(torch), make(ts)
    assert tuple(got.shape) == tuple(want.shape) and str(got.dtype) == str(want.dtype).split(".")[1]
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_resize_returns_self_shares_memory_and_bumps_version():
    for L in LIBS:
        x = L.arange(4.)
        y = x.resize_(2)
        assert y is x and x._version == 1
        v = L.arange(6.)
        w = v[2:4]
        w.resize_(3).add_(10)
        assert v.tolist() == [0., 1., 12., 13., 14., 5.]
    grown = ts.tensor([1., 2.]).resize_(4)
    assert grown.tolist() == [1., 2., 0., 0.]   # torch: uninitialised memory


@pytest.mark.parametrize("make", [
    lambda L: L.ones(2, requires_grad=True).resize_(3),
    lambda L: (L.ones(2, requires_grad=True) * 2).resize_(2, 1),
    lambda L: L.ones(2).resize_(2.0),
    lambda L: L.ones(2).resize_(),
    lambda L: L.ones(2).resize_as_([1, 2]),
    lambda L: L.ones(2).resize_(-1, 2),
])
def test_resize_errors_as_torch(make):
    want = _raises(lambda: make(torch))
    got = _raises(lambda: make(ts))
    assert want is not None and got is not None and issubclass(got, want), (want, got)


def test_resize_error_messages():
    with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
        ts.ones(2, requires_grad=True).resize_(3)
    with pytest.raises(RuntimeError, match="negative dimension -1"):
        ts.ones(2).resize_(-1, 2)


# ------------------------------------------------------------ optim.ASGD
W = np.random.default_rng(0).standard_normal((4, 3))
B0 = np.random.default_rng(1).standard_normal(4)
X = np.random.default_rng(2).standard_normal((5, 3))


def _asgd_run(L, opts, dtype="float64", steps=20, groups=False, opt=None, params=None):
    w, b = params or (L.nn.Parameter(L.tensor(W, dtype=getattr(L, dtype))),
                      L.nn.Parameter(L.tensor(B0, dtype=getattr(L, dtype))))
    x = L.tensor(X, dtype=getattr(L, dtype))
    if opt is None:
        opt = L.optim.ASGD([{"params": [w]}, {"params": [b], "lr": 0.05}] if groups else [w, b], **opts)
    for _ in range(steps):
        opt.zero_grad()
        ((x @ w.T + b).tanh() ** 2).sum().backward()
        opt.step()
    return w, b, opt


def test_optim_asgd_exists_and_matches():
    w0 = np.array([1.0, -2.0, 0.5])
    res = []
    for L in LIBS:
        p = L.nn.Parameter(L.tensor(w0.copy()))
        opt = L.optim.ASGD([p], lr=0.1, t0=0, lambd=0., weight_decay=1e-2)
        for _ in range(3):
            opt.zero_grad()
            (p ** 2).sum().backward()
            opt.step()
        res.append((p.detach().numpy().copy(), np.asarray(opt.state[p]["ax"].detach().numpy())))
    np.testing.assert_allclose(res[1][0], res[0][0], rtol=1e-6)
    np.testing.assert_allclose(res[1][1], res[0][1], rtol=1e-6)


@pytest.mark.parametrize("opts", [
    {}, dict(lr=0.1, t0=0, lambd=0., weight_decay=1e-2), dict(lr=0.05, t0=5, lambd=1e-2, alpha=0.5),
    dict(lr=0.1, t0=3, maximize=True, weight_decay=0.1), dict(lr=0.05, lambd=0.1, t0=10, foreach=False)])
@pytest.mark.parametrize("groups", [False, True])
def test_asgd_20_steps_float64_as_torch(opts, groups):
    (tw, tb, topt), (sw, sb, sopt) = (_asgd_run(L, opts, groups=groups) for L in LIBS)
    for tp, sp in ((tw, sw), (tb, sb)):
        np.testing.assert_allclose(sp.detach().numpy(), tp.detach().numpy(), rtol=1e-9, atol=1e-12)
        tst, sst = topt.state[tp], sopt.state[sp]
        np.testing.assert_allclose(sst["ax"].numpy(), tst["ax"].numpy(), rtol=1e-9, atol=1e-12)
        for name in ("step", "eta", "mu"):   # float32 0-d tensors, rounded as torch's
            assert sst[name].shape == () and str(sst[name].dtype) == "float32"
            assert sst[name].item() == tst[name].item(), name


def test_asgd_update_is_exact_for_exact_gradients():
    # (p^2).sum() has the exact gradient 2p in both libraries: only the update's rounding differs
    w0 = np.random.default_rng(3).standard_normal(6)
    out = []
    for L in LIBS:
        p = L.nn.Parameter(L.tensor(w0))
        opt = L.optim.ASGD([p], lr=0.3, lambd=0.05, alpha=0.6, t0=4, weight_decay=0.01)
        for _ in range(20):
            opt.zero_grad()
            (p ** 2).sum().backward()
            opt.step()
        out.append((p.detach().numpy(), opt.state[p]["ax"].numpy()))
    np.testing.assert_allclose(out[1][0], out[0][0], rtol=1e-14)
    np.testing.assert_allclose(out[1][1], out[0][1], rtol=1e-14)


def test_asgd_float32_keeps_dtype_and_matches():
    (tw, _, topt), (sw, _, sopt) = (_asgd_run(L, dict(lr=0.1, t0=2), dtype="float32") for L in LIBS)
    assert sw.dtype == ts.float32 and sopt.state[sw]["ax"].dtype == ts.float32
    np.testing.assert_allclose(sw.detach().numpy(), tw.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_asgd_state_dtype_follows_default_dtype():
    old = ts.get_default_dtype()
    try:
        ts.set_default_dtype(ts.float64)
        _, _, opt = _asgd_run(ts, {}, steps=1)
        assert all(st["eta"].dtype == ts.float64 for st in opt.state.values())
    finally:
        ts.set_default_dtype(old)


def test_asgd_state_dict_round_trip_and_from_torch(tmp_path):
    opts = dict(lr=0.1, t0=2, lambd=1e-3)
    tw, tb, topt = _asgd_run(torch, opts, steps=5)
    sw, sb, sopt = _asgd_run(ts, opts, steps=5)
    tsd, ssd = topt.state_dict(), sopt.state_dict()
    assert tsd["param_groups"] == ssd["param_groups"]
    assert sorted(tsd["state"][0]) == sorted(ssd["state"][0])
    ts.save(ssd, tmp_path / "opt.pt")
    for saved in (ts.load(tmp_path / "opt.pt"), tsd):   # ours through save / load, and torch's
        params = (ts.nn.Parameter(ts.tensor(sw.detach().numpy())), ts.nn.Parameter(ts.tensor(sb.detach().numpy())))
        fresh = ts.optim.ASGD(list(params), **opts)
        fresh.load_state_dict(saved)
        st = fresh.state[params[0]]
        assert all(isinstance(st[k], ts.Tensor) for k in ("step", "eta", "mu", "ax"))
        # torch's load casts every state tensor but step to the parameter's dtype (eta, mu too)
        assert st["step"].item() == 5.0 and st["step"].dtype == ts.float32 and st["eta"].dtype == params[0].dtype
        _asgd_run(ts, opts, steps=5, opt=fresh, params=params)
    # torch resumed the same way (its load casts eta and mu to float64 too)
    tw, tb = (torch.nn.Parameter(t.detach().clone()) for t in (tw, tb))
    tfresh = torch.optim.ASGD([tw, tb], **opts)
    tfresh.load_state_dict(tsd)
    _asgd_run(torch, opts, steps=5, opt=tfresh, params=(tw, tb))
    topt = tfresh
    np.testing.assert_allclose(params[0].detach().numpy(), tw.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(fresh.state[params[0]]["ax"].numpy(), topt.state[tw]["ax"].numpy(), rtol=1e-12)


def test_asgd_nt_asgd_swaps_in_the_average():
    # AWD-LSTM's evaluation: prm.data = optimizer.state[prm]['ax'].clone()
    w, _, opt = _asgd_run(ts, dict(lr=0.1, t0=0, lambd=0.), steps=4)
    saved = w.data.clone()
    w.data = opt.state[w]["ax"].clone()
    assert not ts.equal(w.data, saved)
    w.data = saved


def test_asgd_options_and_errors():
    p = [ts.nn.Parameter(ts.ones(2))]
    opt = ts.optim.ASGD(p, 0.5, 1e-3, 0.5, 10, 0.1, None, True)   # torch's positional order
    d = opt.defaults
    got = (d["lr"], d["lambd"], d["alpha"], d["t0"], d["weight_decay"], d["maximize"])
    assert got == (0.5, 1e-3, 0.5, 10, 0.1, True)
    assert set(d) == set(torch.optim.ASGD([torch.nn.Parameter(torch.ones(2))]).defaults)
    for bad in (dict(lr=-1.0), dict(weight_decay=-0.1)):
        for L in LIBS:
            with pytest.raises(ValueError):
                L.optim.ASGD([L.nn.Parameter(L.ones(2))], **bad)
    with pytest.raises(ValueError, match="capturable=True is not supported"):
        ts.optim.ASGD(p, capturable=True)
