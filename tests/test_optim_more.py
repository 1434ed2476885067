"""optim.Rprop / SparseAdam / Adafactor / Muon against torch.optim: 10 steps on the same
gradients for every option (float32 and float64, several param groups, a parameter that never
gets a gradient, a 0-d parameter), defaults and param_groups keys in torch's order, state dicts
moving both ways with torch's optimizers and through ts.save / ts.load, torch's errors, and the
lr schedulers."""
import inspect

import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq import nn, optim

torch = pytest.importorskip("torch")

# shapes: a matrix, a vector, a 0-d parameter, a 3-D one (Adafactor factors its last two axes);
# Muon takes 2-D parameters only: a wide, a tall and a square one
SHAPES = [(4, 3), (5,), (), (2, 3, 4)]
MATRICES = [(4, 3), (3, 5), (6, 6)]
SHAPES_OF = dict(Rprop=SHAPES, SparseAdam=SHAPES, Adafactor=SHAPES, Muon=MATRICES)
# options of the second param group (the first takes the optimizer's)
SECOND_GROUP = dict(Rprop=dict(lr=0.03), SparseAdam=dict(lr=0.02, betas=(0.8, 0.99)),
                    Adafactor=dict(lr=0.05, weight_decay=0.2), Muon=dict(lr=0.01, momentum=0.8))
CONFIGS = [
    ("Rprop", dict()),
    ("Rprop", dict(lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.2))),
    ("Rprop", dict(lr=0.05, maximize=True)),
    ("Rprop", dict(etas=(0.4, 1.1), step_sizes=(1e-2, 0.03), maximize=True, foreach=True)),
    ("SparseAdam", dict()),
    ("SparseAdam", dict(lr=0.05, betas=(0.5, 0.9), eps=1e-4)),
    ("SparseAdam", dict(lr=0.05, maximize=True)),
    ("Adafactor", dict()),
    ("Adafactor", dict(lr=0.1, weight_decay=0.1)),
    ("Adafactor", dict(lr=0.1, beta2_decay=-0.5, d=2.0, eps=(1e-20, 1e-2))),
    ("Adafactor", dict(lr=0.2, eps=(1e-3, 1e-3), d=1.5, weight_decay=0.05, maximize=True, foreach=True)),
    ("Muon", dict()),
    ("Muon", dict(lr=0.05, weight_decay=0.0, nesterov=False)),
    ("Muon", dict(lr=0.05, adjust_lr_fn="match_rms_adamw")),
    ("Muon", dict(lr=0.02, adjust_lr_fn="original", momentum=0.5, weight_decay=0.3)),
    ("Muon", dict(lr=0.05, ns_coefficients=(3.0, -3.2, 1.2), ns_steps=3, eps=1e-5)),
]
TOLS = {np.float64: dict(atol=1e-12, rtol=1e-10), np.float32: dict(atol=2e-6, rtol=1e-5)}


def torch_grad(name, g):
    """torch's SparseAdam takes sparse gradients only: the rows of g with a nonzero entry (the
    whole value for a 0-d g), the gradient nn.Embedding(sparse=True) gives for the rows it used."""
    t = torch.tensor(g.copy())
    if name != "SparseAdam":
        return t
    return t.to_sparse(1) if t.ndim else t.to_sparse()


def make_pair(name, kw, dtype, seed=0):
    """Our and torch's optimizer over the same parameters in two groups, the second with
    SECOND_GROUP's options and one parameter that never gets a gradient (the last)."""
    rng = np.random.default_rng(seed)
    shapes = SHAPES_OF[name]
    init = [rng.standard_normal(s).astype(dtype) for s in shapes] + [rng.standard_normal(shapes[0]).astype(dtype)]
    ours = [nn.Parameter(x.copy()) for x in init]
    theirs = [torch.nn.Parameter(torch.tensor(x.copy())) for x in init]

    def groups(ps):
        return [{"params": ps[:2]}, dict(SECOND_GROUP[name], params=ps[2:])]
    return ours, theirs, getattr(optim, name)(groups(ours), **kw), getattr(torch.optim, name)(groups(theirs), **kw)


def set_grads(name, ours, theirs, rng, dtype):
    """The same random gradient for each pair but the last (no gradient); SparseAdam's have
    zero rows, a looked-up embedding's."""
    for p, tp in zip(ours[:-1], theirs[:-1]):
        g = rng.standard_normal(p.shape).astype(dtype)
        if name == "SparseAdam" and g.ndim:
            g[rng.random(g.shape[0]) < 0.4] = 0
        p.grad = ts.Tensor(g.copy())
        tp.grad = torch_grad(name, g)


def assert_close(ours, theirs, tol, msg=""):
    for i, (p, tp) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), err_msg=f"{msg} parameter {i}", **tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,kw", CONFIGS, ids=[f"{n}-{'-'.join(k)}" for n, k in CONFIGS])
def test_ten_steps_match_torch(name, kw, dtype):
    ours, theirs, opt, topt = make_pair(name, kw, dtype)
    untouched = ours[-1].numpy().copy()
    rng = np.random.default_rng(1)
    for step in range(10):
        set_grads(name, ours, theirs, rng, dtype)
        opt.step()
        topt.step()
        assert_close(ours, theirs, TOLS[dtype], f"step {step}")
    np.testing.assert_array_equal(ours[-1].numpy(), untouched)
    assert ours[-1] not in opt.state and theirs[-1] not in topt.state
    assert all(p.dtype == dtype and isinstance(p, nn.Parameter) for p in ours)
    for p, tp in zip(ours[:-1], theirs[:-1]):   # the state: the same names, values and step counts
        state, tstate = opt.state[p], topt.state[tp]
        assert list(state) == list(tstate)
        for k, v in tstate.items():
            mine = state[k]
            if k == "step":
                assert int(mine) == int(v) == 10
            else:
                np.testing.assert_allclose(np.asarray(mine), v.numpy(), err_msg=k, **TOLS[dtype])


@pytest.mark.parametrize("name", ["Rprop", "SparseAdam", "Adafactor", "Muon"])
def test_defaults_signature_and_group_keys_are_torchs(name):
    shape = (3, 2)
    opt = getattr(optim, name)([nn.Parameter(np.ones(shape))])
    topt = getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(shape))])
    assert list(opt.defaults.items()) == list(topt.defaults.items())
    assert list(opt.param_groups[0]) == list(topt.param_groups[0])
    ours_sig = inspect.signature(getattr(optim, name).__init__).parameters
    torch_sig = inspect.signature(getattr(torch.optim, name).__init__).parameters
    assert [(p.name, p.default, p.kind) for p in ours_sig.values()] == \
        [(p.name, p.default, p.kind) for p in torch_sig.values()]
    assert opt.state_dict()["param_groups"] == topt.state_dict()["param_groups"]


def _train(name, ours, theirs, opt, topt, dtype, steps, seed):
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        set_grads(name, ours, theirs, rng, dtype)
        if opt is not None:
            opt.step()
        if topt is not None:
            topt.step()


KW = dict(Rprop=dict(lr=0.05), SparseAdam=dict(lr=0.05), Adafactor=dict(lr=0.1, weight_decay=0.1), Muon=dict(lr=0.05))


@pytest.mark.parametrize("name", ["Rprop", "SparseAdam", "Adafactor", "Muon"])
def test_state_dict_moves_both_ways_with_torch(name):
    dtype = np.float64
    ours, theirs, opt, topt = make_pair(name, KW[name], dtype)
    _train(name, ours, theirs, None, topt, dtype, 3, seed=2)
    for p, tp in zip(ours, theirs):   # torch trained alone: its parameters and state come over
        p.array[...] = tp.detach().numpy()
    fresh = getattr(optim, name)([{"params": ours[:2]}, {"params": ours[2:]}], lr=123.0)
    fresh.load_state_dict(topt.state_dict())
    assert fresh.param_groups[0]["lr"] == KW[name]["lr"] and fresh.param_groups[1] == opt.param_groups[1]
    sd, tsd = fresh.state_dict(), topt.state_dict()
    assert sd["param_groups"] == tsd["param_groups"]
    assert sorted(sd["state"]) == sorted(tsd["state"])
    for i, tst in tsd["state"].items():
        assert list(sd["state"][i]) == list(tst)
        for k, v in tst.items():
            mine = sd["state"][i][k]
            if isinstance(v, int):   # SparseAdam's step is a Python int in torch
                assert type(mine) is int and mine == v
            else:
                assert isinstance(mine, ts.Tensor) and mine.shape == tuple(v.shape)
                assert str(mine.dtype) == str(v.dtype).replace("torch.", "")
                np.testing.assert_array_equal(mine.numpy(), v.numpy())
    _train(name, ours, theirs, fresh, topt, dtype, 3, seed=3)
    assert_close(ours, theirs, TOLS[dtype], "after loading torch's state")

    # and ours into a fresh torch optimizer: the two go on identically
    back = getattr(torch.optim, name)([{"params": theirs[:2]}, {"params": theirs[2:]}], lr=123.0)
    sd = fresh.state_dict()
    back.load_state_dict({"state": {i: {k: torch.tensor(v.numpy()) if isinstance(v, ts.Tensor) else v
                                        for k, v in st.items()} for i, st in sd["state"].items()},
                          "param_groups": sd["param_groups"]})
    _train(name, ours, theirs, fresh, back, dtype, 3, seed=4)
    assert_close(ours, theirs, TOLS[dtype], "after torch loaded ours")


@pytest.mark.parametrize("name", ["Rprop", "SparseAdam", "Adafactor", "Muon"])
def test_checkpoint_resume_is_exact(name, tmp_path):
    dtype = np.float64
    ref, theirs, ref_opt, _ = make_pair(name, KW[name], dtype)
    _train(name, ref, theirs, ref_opt, None, dtype, 5, seed=5)

    ours, theirs, opt, _ = make_pair(name, KW[name], dtype)
    rng = np.random.default_rng(5)
    for _ in range(3):
        set_grads(name, ours, theirs, rng, dtype)
        opt.step()
    ts.save(opt.state_dict(), tmp_path / "opt.pt")
    fresh = getattr(optim, name)([{"params": ours[:2]}, {"params": ours[2:]}])
    fresh.load_state_dict(ts.load(tmp_path / "opt.pt"))
    assert fresh.param_groups == opt.param_groups
    for _ in range(2):
        set_grads(name, ours, theirs, rng, dtype)
        fresh.step()
    for p, q in zip(ours, ref):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_adafactor_refuses_a_factored_state_of_the_wrong_shape():
    p = nn.Parameter(np.ones((4, 3)))
    opt = optim.Adafactor([p])
    p.grad = ts.ones(4, 3, dtype=ts.float64)   # the parameter's dtype (torch refuses another)
    opt.step()
    sd = opt.state_dict()
    sd["state"][0]["row_var"] = ts.zeros(4, 3)
    with pytest.raises(ValueError, match=r"row_var.*\(4, 3\).*expected \(4, 1\)"):
        opt.load_state_dict(sd)


# -------------------------------------------------------------- SparseAdam on dense gradients
def test_sparse_adam_with_embeddings_matches_torchs_sparse_gradients():
    """nn.Embedding(sparse=True) here gives a dense gradient with zero rows; SparseAdam updates
    the rows looked up, as torch's does with its sparse gradient."""
    torch.manual_seed(0)
    theirs = torch.nn.Embedding(10, 4, sparse=True).double()
    ours = nn.Embedding(10, 4, sparse=True).to(dtype=np.float64)
    ours.load_state_dict({"weight": theirs.weight.detach().numpy()})
    opt, topt = optim.SparseAdam(ours.parameters(), lr=0.1), torch.optim.SparseAdam(theirs.parameters(), lr=0.1)
    rng = np.random.default_rng(0)
    for _ in range(10):
        ids = rng.integers(0, 10, size=(3, 2))
        target = rng.standard_normal((3, 2, 4))
        opt.zero_grad()
        topt.zero_grad()
        ((ours(ts.Tensor(ids)) - ts.Tensor(target)) ** 2).sum().backward()
        ((theirs(torch.tensor(ids)) - torch.tensor(target)) ** 2).sum().backward()
        assert theirs.weight.grad.is_sparse and not np.all(ours.weight.grad.numpy() != 0)
        opt.step()
        topt.step()
    np.testing.assert_allclose(ours.weight.numpy(), theirs.weight.detach().numpy(), **TOLS[np.float64])


def test_sparse_adam_leaves_rows_without_gradient_alone():
    w0 = np.arange(12.0).reshape(4, 3)
    p = nn.Parameter(w0.copy())
    opt = optim.SparseAdam([p], lr=0.5)
    g = np.zeros((4, 3))
    g[1] = [0.0, 2.0, 0.0]   # one nonzero entry: the whole row moves, as torch's row does
    p.grad = ts.Tensor(g)
    opt.step()
    moved = p.numpy() != w0
    assert moved[1, 1] and moved.sum() == 1   # row 1's other entries: no moment yet, so no move
    exp_avg = opt.state_dict()["state"][0]["exp_avg"].numpy()
    np.testing.assert_array_equal(exp_avg[[0, 2, 3]], 0)
    assert exp_avg[1, 1] != 0
    # an all-zero gradient counts a step and changes nothing (torch skips an empty sparse gradient)
    before = p.numpy().copy()
    p.grad = ts.zeros(4, 3, dtype=ts.float64)
    opt.step()
    assert opt.state[p]["step"] == 2
    np.testing.assert_array_equal(p.numpy(), before)
    tp = torch.nn.Parameter(torch.tensor(w0))
    topt = torch.optim.SparseAdam([tp], lr=0.5)
    tp.grad = torch.tensor(g).to_sparse(1)
    topt.step()
    tp.grad = torch.zeros(4, 3, dtype=torch.float64).to_sparse(1)
    topt.step()
    np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), **TOLS[np.float64])
    with pytest.raises(RuntimeError, match="dense gradients"):   # what torch does with a dense gradient
        tp.grad = torch.ones(4, 3, dtype=torch.float64)
        topt.step()


# -------------------------------------------------------------- errors
BAD = [
    ("Rprop", dict(lr=-0.1)), ("Rprop", dict(etas=(0.5, 0.9))), ("Rprop", dict(etas=(1.0, 1.2))),
    ("Rprop", dict(etas=(0.0, 1.2))),
    ("SparseAdam", dict(lr=0.0)), ("SparseAdam", dict(lr=-1.0)), ("SparseAdam", dict(eps=0.0)),
    ("SparseAdam", dict(betas=(1.0, 0.9))), ("SparseAdam", dict(betas=(0.9, -0.1))),
    ("Adafactor", dict(lr=-1.0)), ("Adafactor", dict(beta2_decay=0.1)), ("Adafactor", dict(eps=(-1.0, 1e-3))),
    ("Adafactor", dict(eps=(None, -1.0))), ("Adafactor", dict(d=0.5)), ("Adafactor", dict(weight_decay=-0.1)),
    ("Muon", dict(lr=-1.0)), ("Muon", dict(momentum=-0.5)), ("Muon", dict(weight_decay=-0.1)),
    ("Muon", dict(adjust_lr_fn="spectral")),
]


@pytest.mark.parametrize("name,kw", BAD, ids=[f"{n}-{k}" for n, k in BAD])
def test_bad_arguments_raise_torchs_errors(name, kw):
    with pytest.raises(Exception) as theirs:
        getattr(torch.optim, name)([torch.nn.Parameter(torch.ones(2, 2))], **kw)
    with pytest.raises(type(theirs.value)) as ours:
        getattr(optim, name)([nn.Parameter(np.ones((2, 2)))], **kw)
    assert str(ours.value) == str(theirs.value)


def test_more_errors_as_torchs():
    with pytest.raises(ValueError, match=r"^Muon only supports 2D parameters whereas we found a parameter with "
                                         r"size: torch.Size\(\[3\]\)$"):
        optim.Muon([nn.Parameter(np.ones(3))])
    for kw, message in [(dict(ns_steps=100), "Number of steps must be less than 100"),
                        (dict(ns_coefficients=(1.0, 2.0)), "Coefficients must be a tuple of exactly 3 values")]:
        p = nn.Parameter(np.ones((2, 3)))
        opt = optim.Muon([p], **kw)   # torch checks these at the step
        p.grad = ts.ones(2, 3, dtype=ts.float64)
        with pytest.raises(ValueError, match=message):
            opt.step()
    for name in ["Rprop", "SparseAdam", "Adafactor", "Muon"]:
        with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
            getattr(optim, name)([nn.Parameter(np.ones((2, 2)))], lr=ts.Tensor(np.array([0.1, 0.2])))
        with pytest.raises(ValueError, match="empty parameter list"):
            getattr(optim, name)([])
    with pytest.raises(TypeError, match="fused"):   # torch's Rprop and Adafactor take no fused=
        optim.Rprop([nn.Parameter(np.ones(2))], fused=True)
    for name, flag in [("Rprop", "capturable"), ("Rprop", "differentiable")]:   # one implementation here
        with pytest.raises(ValueError, match=f"{flag}=True is not supported"):
            getattr(optim, name)([nn.Parameter(np.ones(2))], **{flag: True})


# -------------------------------------------------------------- schedulers
@pytest.mark.parametrize("name", ["Rprop", "SparseAdam", "Adafactor", "Muon"])
def test_lr_schedulers_drive_them_as_torchs(name):
    dtype = np.float64
    ours, theirs, opt, topt = make_pair(name, KW[name], dtype)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    tsched = torch.optim.lr_scheduler.StepLR(topt, step_size=2, gamma=0.5)
    rng = np.random.default_rng(6)
    for _ in range(6):
        set_grads(name, ours, theirs, rng, dtype)
        opt.step()
        topt.step()
        sched.step()
        tsched.step()
        assert sched.get_last_lr() == tsched.get_last_lr()
    assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in topt.param_groups]
    assert opt.param_groups[0]["initial_lr"] == KW[name]["lr"]
    assert_close(ours, theirs, TOLS[dtype], "scheduled")


def test_tensor_lr_steps_as_torch():
    ours, theirs, _, _ = make_pair("Adafactor", {}, np.float64)
    opt = optim.Adafactor([{"params": ours[:2]}, dict(SECOND_GROUP["Adafactor"], params=ours[2:])],
                          lr=ts.Tensor(np.array(0.05)))
    topt = torch.optim.Adafactor([{"params": theirs[:2]}, dict(SECOND_GROUP["Adafactor"], params=theirs[2:])],
                                 lr=torch.tensor(0.05, dtype=torch.float64))
    assert isinstance(opt.param_groups[0]["lr"], ts.Tensor)
    _train("Adafactor", ours, theirs, opt, topt, np.float64, 4, seed=7)
    assert_close(ours, theirs, TOLS[np.float64], "tensor lr")


# -------------------------------------------------------------- details
def test_adafactor_eps1_comes_from_the_groups_first_parameter():
    # torch's single-tensor loop sets eps1 = finfo(dtype).eps once, from the first parameter it updates
    rng = np.random.default_rng(8)
    init = [rng.standard_normal((3, 2)) * 1e-9, rng.standard_normal(4).astype(np.float32) * 1e-5]
    ours = [nn.Parameter(init[0].copy()), nn.Parameter(init[1].copy())]
    theirs = [torch.nn.Parameter(torch.tensor(x.copy())) for x in init]
    opt, topt = optim.Adafactor(ours, lr=0.1), torch.optim.Adafactor(theirs, lr=0.1)
    for _ in range(3):
        for p, tp in zip(ours, theirs):
            g = (rng.standard_normal(p.shape) * 1e-9).astype(p.dtype)   # g^2 < float32 eps^2
            p.grad, tp.grad = ts.Tensor(g.copy()), torch.tensor(g.copy())
        opt.step()
        topt.step()
    for p, tp in zip(ours, theirs):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-5, atol=0)


def test_zero_dim_parameters_keep_array_state_through_load_state_dict():
    # a 0-d parameter's moments are 0-d arrays, not numbers, after a round trip (Adam too)
    for name in ["Adam", "Rprop", "SparseAdam", "Adafactor"]:
        p, tp = nn.Parameter(np.array(1.5)), torch.nn.Parameter(torch.tensor(1.5, dtype=torch.float64))
        opt, topt = getattr(optim, name)([p]), getattr(torch.optim, name)([tp])
        for g in [0.3, -0.2]:
            p.grad, tp.grad = ts.Tensor(np.array(g)), torch.tensor(g, dtype=torch.float64)
            tp.grad = tp.grad.to_sparse() if name == "SparseAdam" else tp.grad
            topt.step()
        opt.load_state_dict(topt.state_dict())
        assert all(k == "step" or np.asarray(v).shape == () and not isinstance(v, float)
                   for k, v in opt.state[p].items())
        p.array[...] = tp.item()
        p.grad, tp.grad = ts.Tensor(np.array(0.7)), torch.tensor(0.7, dtype=torch.float64)
        tp.grad = tp.grad.to_sparse() if name == "SparseAdam" else tp.grad
        opt.step()
        topt.step()
        np.testing.assert_allclose(p.item(), tp.item(), rtol=1e-12, err_msg=name)


@pytest.mark.cuda
@pytest.mark.parametrize("name", ["Rprop", "SparseAdam", "Adafactor", "Muon"])
def test_cuda_parameters_match_cpu(name, tmp_path):
    """The same gradients on "cpu" and "cuda" parameters: the same steps, parameters keep their
    identity and stay on the device, and the state survives a checkpoint."""
    rng = np.random.default_rng(0)
    shapes = [(3, 2), (2, 4)] if name == "Muon" else [(3, 2), (4,), ()]
    init = [rng.standard_normal(s) for s in shapes]
    cpu = [nn.Parameter(x.copy()) for x in init]
    gpu = [nn.Parameter(ts.Tensor(x.copy(), device="cuda")) for x in init]
    oc, og = getattr(optim, name)(cpu, **KW[name]), getattr(optim, name)(gpu, **KW[name])
    for _ in range(3):
        for pc, pg in zip(cpu, gpu):
            g = rng.standard_normal(pc.shape)
            if name == "SparseAdam" and g.ndim:
                g[0] = 0
            pc.grad, pg.grad = ts.Tensor(g.copy()), ts.Tensor(g.copy(), device="cuda")
        oc.step()
        og.step()
    for pc, pg in zip(cpu, gpu):
        assert pg.device == "cuda"
        np.testing.assert_allclose(pg.numpy(), pc.numpy(), atol=1e-12)
    ts.save(og.state_dict(), tmp_path / "opt.pt")
    og.load_state_dict(ts.load(tmp_path / "opt.pt"))
    for pg in gpu:
        for v in og.state[pg].values():
            assert not isinstance(v, np.ndarray)   # array state went back to the device
