"""optim.SGD / Adam / AdamW / RMSprop / Adagrad / Adadelta / Adamax / NAdam / RAdam against
torch.optim, step by step on the same small model for every option; param groups, skipped parameters, zero_grad, closures, state dicts
(through ts.save / ts.load, and PyTorch's own); nn.utils clipping against torch.nn.utils."""
import copy
import math

import numpy as np
import pytest
import torch

import tinygrad_seq as ts
import tinygrad_seq.functional as F
from tinygrad_seq import nn, optim
from module_helpers import load_from_torch

CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.2)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.2, maximize=True)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.95), eps=1e-4)),
    ("Adam", dict(lr=0.05, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1, maximize=True)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.05, weight_decay=0.3)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3, amsgrad=True, betas=(0.5, 0.9))),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-4)),
    ("RMSprop", dict(lr=0.01, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-6)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, weight_decay=0.2, initial_accumulator_value=0.1, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1, maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.05, betas=(0.8, 0.95), weight_decay=0.1, maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.05, momentum_decay=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", dict(lr=0.05)),   # 6 steps: rho_t passes 5 at step 4 (both branches)
    ("RAdam", dict(lr=0.05, betas=(0.5, 0.9), weight_decay=0.1)),
    ("RAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
]
TOLS = {np.float64: dict(atol=1e-10, rtol=1e-9), np.float32: dict(atol=2e-5, rtol=2e-4)}


def make_model(lib):
    return lib.Sequential(lib.Linear(4, 5), lib.Tanh() if lib is torch.nn else _Tanh(), lib.Linear(5, 2))


class _Tanh(nn.Module):
    def forward(self, x):
        return x.tanh()


def make_pair(dtype, seed=0):
    torch.manual_seed(seed)
    theirs = make_model(torch.nn)
    theirs = theirs.double() if dtype == np.float64 else theirs
    ours = make_model(nn).to(dtype=dtype)
    load_from_torch(ours, theirs)
    return ours, theirs


DATA = np.random.default_rng(3).standard_normal((8, 4)), np.random.default_rng(4).standard_normal((8, 2))


def loss_step(model, lib, dtype):
    x, y = DATA
    if lib is torch:
        return torch.nn.functional.mse_loss(model(torch.tensor(x.astype(dtype))), torch.tensor(y.astype(dtype)))
    return F.mse_loss(model(ts.Tensor(x.astype(dtype))), ts.Tensor(y.astype(dtype)))


def train(opt, model, lib, dtype, steps):
    for _ in range(steps):
        opt.zero_grad()
        loss_step(model, lib, dtype).backward()
        opt.step()


def assert_params_close(ours, theirs, tol, msg=""):
    for (n, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), err_msg=f"{msg} {n}", **tol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name,kw", CONFIGS, ids=[f"{n}-{'-'.join(k)}" for n, k in CONFIGS])
def test_optimizer_matches_torch(name, kw, dtype):
    ours, theirs = make_pair(dtype)
    params = list(ours.parameters())
    opt = getattr(optim, name)(ours.parameters(), **kw)
    topt = getattr(torch.optim, name)(theirs.parameters(), **kw)
    for step in range(6):
        train(opt, ours, ts, dtype, 1)
        train(topt, theirs, torch, dtype, 1)
        assert_params_close(ours, theirs, TOLS[dtype], f"step {step}")
    assert [id(p) for p in ours.parameters()] == [id(p) for p in params]
    assert all(p.dtype == dtype and isinstance(p, nn.Parameter) for p in ours.parameters())


def test_param_groups_per_group_options():
    ours, theirs = make_pair(np.float64)
    groups = lambda m: [{"params": m[0].parameters(), "lr": 0.3, "momentum": 0.5},
                        {"params": list(m[2].parameters()), "weight_decay": 0.1}]
    opt, topt = optim.SGD(groups(ours), lr=0.1), torch.optim.SGD(groups(theirs), lr=0.1)
    assert opt.param_groups[0]["lr"] == 0.3 and opt.param_groups[1]["lr"] == 0.1
    assert opt.param_groups[1]["momentum"] == 0 and opt.param_groups[0]["weight_decay"] == 0
    for _ in range(4):
        train(opt, ours, ts, np.float64, 1)
        train(topt, theirs, torch, np.float64, 1)
    assert_params_close(ours, theirs, TOLS[np.float64])
    extra = nn.Parameter(np.ones(3))
    opt.add_param_group({"params": [extra], "lr": 1.0})
    assert opt.param_groups[2]["momentum"] == 0 and len(opt.param_groups) == 3
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [extra]})


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_params_without_grad_are_skipped(name):
    a, b = nn.Parameter(np.ones(3)), nn.Parameter(np.full(2, 2.0))
    opt = getattr(optim, name)([a, b], lr=0.1, **({"momentum": 0.9} if name == "SGD" else {}))
    (a * a).sum().backward()
    before = b.numpy().copy()
    opt.step()
    np.testing.assert_array_equal(b.numpy(), before)
    assert not np.array_equal(a.numpy(), np.ones(3))
    if name != "Adagrad":  # Adagrad's state exists from the start, as in PyTorch
        assert b not in opt.state or not opt.state[b]


def test_zero_grad_and_closure_and_version():
    p = nn.Parameter(np.array([1.0, -2.0]))
    opt = optim.SGD([p], lr=0.5)
    (p * p).sum().backward()
    v0 = p._version
    opt.step()
    assert p._version > v0
    np.testing.assert_allclose(p.numpy(), [0.0, 0.0])
    opt.zero_grad(set_to_none=False)
    assert p.grad is not None and np.all(p.grad.numpy() == 0)
    opt.zero_grad()
    assert p.grad is None

    def closure():
        opt.zero_grad()
        loss = ((p - 3.0) ** 2).sum()
        loss.backward()
        return loss
    loss = opt.step(closure)
    assert loss.item() == 18.0
    np.testing.assert_allclose(p.numpy(), [3.0, 3.0])


def test_invalid_arguments():
    ps = [nn.Parameter(np.ones(2))]
    with pytest.raises(ValueError, match="learning rate"):
        optim.SGD(ps, lr=-1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD(ps, lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)
    with pytest.raises(ValueError, match="beta"):
        optim.Adam(ps, betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="empty"):
        optim.Adam([])
    with pytest.raises(TypeError):
        optim.Adam(ps[0])
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([ps[0] * 2], lr=0.1)
    # a parameter twice in a group: torch 2.13 warns and keeps both entries (a step updates it twice)
    p = ts.nn.Parameter(ts.ones(2))
    with pytest.warns(UserWarning, match="duplicate"):
        opt = optim.SGD([p, p], lr=0.1)
    p.grad = ts.ones(2)
    opt.step()
    np.testing.assert_allclose(p.numpy(), [0.8, 0.8], rtol=1e-6)


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.05, amsgrad=True)),
                                     ("AdamW", dict(lr=0.05)), ("RMSprop", dict(centered=True, momentum=0.5)),
                                     ("Adagrad", dict(lr=0.1, lr_decay=0.1)), ("Adadelta", dict()),
                                     ("Adamax", dict()), ("NAdam", dict(lr=0.05)), ("RAdam", dict(lr=0.05))])
def test_checkpoint_resume_is_exact(name, kw, tmp_path):
    """Train 3 steps, save model + optimizer with ts.save, restore into fresh objects, train 2
    more: bit-identical to 5 uninterrupted steps."""
    ref, _ = make_pair(np.float64)
    opt = getattr(optim, name)(ref.parameters(), **kw)
    train(opt, ref, ts, np.float64, 5)

    model, _ = make_pair(np.float64)
    opt = getattr(optim, name)(model.parameters(), **kw)
    train(opt, model, ts, np.float64, 3)
    ts.save(model.state_dict(), tmp_path / "model.npz")
    ts.save(opt.state_dict(), tmp_path / "opt.npz")
    sd = opt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert sd["param_groups"][0]["lr"] == opt.param_groups[0]["lr"] and 0 in sd["state"]
    assert all(isinstance(v, (ts.Tensor, int, float)) for st in sd["state"].values() for v in st.values())

    fresh, _ = make_pair(np.float64, seed=9)
    fopt = getattr(optim, name)(fresh.parameters(), lr=123.0)
    fresh.load_state_dict(ts.load(tmp_path / "model.npz"))
    fopt.load_state_dict(ts.load(tmp_path / "opt.npz"))
    assert fopt.param_groups[0]["lr"] == opt.param_groups[0]["lr"]
    assert type(fopt.param_groups[0]["lr"]) is float
    train(fopt, fresh, ts, np.float64, 2)
    for p, q in zip(fresh.parameters(), ref.parameters()):
        if name == "NAdam":   # torch's load casts mu_product to the float64 parameters' dtype: from
            # there it rounds in float64, not float32 (torch's resumed NAdam differs the same way)
            np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-8)
        else:
            np.testing.assert_array_equal(p.numpy(), q.numpy())


@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=0.05, betas=(0.8, 0.9), amsgrad=True)),
                                     ("NAdam", dict(lr=0.05, betas=(0.8, 0.9))), ("Adadelta", dict(rho=0.8))])
def test_load_torch_optimizer_state_dict(name, kw):
    ours, theirs = make_pair(np.float64)
    topt = getattr(torch.optim, name)(theirs.parameters(), **kw)
    train(topt, theirs, torch, np.float64, 3)
    load_from_torch(ours, theirs)
    opt = getattr(optim, name)(ours.parameters())
    opt.load_state_dict(topt.state_dict())
    assert all(opt.param_groups[0][k] == v for k, v in kw.items())
    assert opt.state[next(ours.parameters())]["step"] == 3
    train(opt, ours, ts, np.float64, 3)
    train(topt, theirs, torch, np.float64, 3)
    assert_params_close(ours, theirs, TOLS[np.float64])


def test_load_state_dict_mismatch_changes_nothing():
    model, _ = make_pair(np.float64)
    opt = optim.Adam(model.parameters(), lr=0.05)
    train(opt, model, ts, np.float64, 2)
    sd = opt.state_dict()
    before = flat_state(opt)
    bad = copy.deepcopy(sd)
    bad["state"][1]["exp_avg"] = np.zeros((7,))
    bad["param_groups"][0]["lr"] = 9.0
    with pytest.raises(ValueError, match=r"exp_avg.*\(7,\).*\(5,\)"):
        opt.load_state_dict(bad)
    after = flat_state(opt)
    assert list(after) == list(before)
    for k in before:
        np.testing.assert_array_equal(after[k], before[k])
    other = optim.Adam([nn.Parameter(np.ones(2))])
    with pytest.raises(ValueError, match="parameter group"):
        other.load_state_dict(sd)


def flat_state(opt):
    sd = opt.state_dict()
    out = {f"state.{i}.{k}": np.asarray(v.numpy() if isinstance(v, ts.Tensor) else v)
           for i, st in sd["state"].items() for k, v in st.items()}
    out.update({f"group.{k}": np.asarray(v) for k, v in sd["param_groups"][0].items()})
    return out


def test_state_dict_has_torchs_form():
    ours, theirs = make_pair(np.float64)
    load_from_torch(ours, theirs)
    opt = optim.Adam(ours.parameters(), lr=0.05)
    topt = torch.optim.Adam(theirs.parameters(), lr=0.05)
    train(opt, ours, ts, np.float64, 2)
    train(topt, theirs, torch, np.float64, 2)
    sd, tsd = opt.state_dict(), topt.state_dict()
    assert sorted(sd) == sorted(tsd)
    assert sd["param_groups"][0]["params"] == tsd["param_groups"][0]["params"]
    assert sd["param_groups"][0]["betas"] == tsd["param_groups"][0]["betas"]
    assert sorted(sd["state"]) == sorted(tsd["state"])
    for i in tsd["state"]:
        np.testing.assert_allclose(sd["state"][i]["exp_avg"].numpy(), tsd["state"][i]["exp_avg"].numpy(),
                                   rtol=1e-10, atol=1e-12)
    # and a torch optimizer takes ours (its tensors converted), as ours takes torch's
    topt2 = torch.optim.Adam(theirs.parameters(), lr=0.05)
    topt2.load_state_dict({"state": {i: {k: torch.tensor(v.numpy()) if isinstance(v, ts.Tensor) else
                                         torch.tensor(float(v)) for k, v in st.items()}
                                     for i, st in sd["state"].items()},
                           "param_groups": sd["param_groups"]})
    assert topt2.state_dict()["param_groups"][0]["lr"] == 0.05


# ------------------------------------------------------------------ clipping
def _grads_pair(seed=0, scale=1.0):
    r = np.random.default_rng(seed)
    shapes = [(3, 4), (5,), (2, 2, 2)]
    gs = [r.standard_normal(s) * scale for s in shapes]
    ours = [nn.Parameter(np.zeros(s)) for s in shapes]
    theirs = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in shapes]
    for o, t, g in zip(ours, theirs, gs):
        o.grad = ts.Tensor(g.copy())
        t.grad = torch.tensor(g.copy())
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, 0.5])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, theirs = _grads_pair()
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, ts.Tensor) and total.shape == ()
    np.testing.assert_allclose(total.item(), ttotal.item(), rtol=1e-12)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_clip_grad_norm_details():
    import tinygrad_seq
    assert tinygrad_seq.nn.utils.clip_grad_norm_ is nn.utils.clip_grad_norm_
    p = nn.Parameter(np.array([3.0, 4.0], np.float32))
    p.grad = ts.Tensor(np.array([3.0, 4.0], np.float32))
    q = nn.Parameter(np.ones(2))  # no grad: ignored
    total = nn.utils.clip_grad_norm_((x for x in [p, q]), 1.0)
    assert total.item() == pytest.approx(5.0) and total.dtype == np.float32
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8], rtol=1e-5)
    assert nn.utils.clip_grad_norm_(p, 10.0).item() == pytest.approx(1.0, rel=1e-5)  # a single tensor
    assert nn.utils.clip_grad_norm_([q], 1.0).item() == 0.0
    p.grad = ts.Tensor(np.array([np.inf, 1.0], np.float32))
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


def test_clip_grad_value_matches_torch():
    ours, theirs = _grads_pair(scale=2.0)
    nn.utils.clip_grad_value_(ours, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.grad.numpy(), t.grad.numpy())


def test_clip_then_step_training_loop_matches_torch():
    ours, theirs = make_pair(np.float64)
    opt = optim.SGD(ours.parameters(), lr=0.5, momentum=0.9)
    topt = torch.optim.SGD(theirs.parameters(), lr=0.5, momentum=0.9)
    for _ in range(5):
        opt.zero_grad()
        topt.zero_grad()
        loss_step(ours, ts, np.float64).backward()
        loss_step(theirs, torch, np.float64).backward()
        a = nn.utils.clip_grad_norm_(ours.parameters(), 0.1)
        b = torch.nn.utils.clip_grad_norm_(theirs.parameters(), 0.1)
        np.testing.assert_allclose(a.item(), b.item(), rtol=1e-10)
        opt.step()
        topt.step()
    assert_params_close(ours, theirs, TOLS[np.float64])


# ------------------------------------------------------------------ the cuda device
CUDA_CONFIGS = [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
                ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1)), ("AdamW", dict(lr=0.05)),
                ("RMSprop", dict(centered=True, momentum=0.5)), ("Adagrad", dict(lr=0.1, lr_decay=0.1))]


@pytest.mark.cuda
@pytest.mark.parametrize("name,kw", CUDA_CONFIGS, ids=[c[0] for c in CUDA_CONFIGS])
def test_optimizer_and_clipping_on_cuda_match_cpu(name, kw, tmp_path):
    """The same gradients on "cpu" and "cuda" parameters: clipping and steps agree, parameters
    keep their identity and stay on the device, and the state survives a checkpoint."""
    r = np.random.default_rng(0)
    w0 = r.standard_normal((3, 2))
    holder = nn.Module()
    holder.p = nn.Parameter(w0.copy())
    holder.to("cuda")
    pc, pg = nn.Parameter(w0.copy()), holder.p
    oc, og = getattr(optim, name)([pc], **kw), getattr(optim, name)([pg], **kw)
    for _ in range(3):
        g = r.standard_normal((3, 2))
        pc.grad, pg.grad = ts.Tensor(g.copy()), ts.Tensor(g.copy(), device="cuda")
        a, b = nn.utils.clip_grad_norm_([pc], 0.5), nn.utils.clip_grad_norm_([pg], 0.5)
        assert b.device == "cuda"
        np.testing.assert_allclose(b.item(), a.item(), rtol=1e-12)
        nn.utils.clip_grad_value_([pc], 0.1)
        nn.utils.clip_grad_value_([pg], 0.1)
        oc.step()
        og.step()
    assert holder.p is pg and pg.device == "cuda"
    np.testing.assert_allclose(pg.numpy(), pc.numpy(), atol=1e-12)
    ts.save(og.state_dict(), tmp_path / "opt.npz")
    og.load_state_dict(ts.load(tmp_path / "opt.npz"))
    for v in og.state[pg].values():
        assert not isinstance(v, np.ndarray)  # array state went back to the device


def test_scheduler_keys_survive_optimizer_checkpoint(tmp_path):
    # a resumed scheduler needs the param groups' initial_lr (and OneCycleLR its max_lr, ...)
    from tinygrad_seq.optim import lr_scheduler
    p = ts.Tensor(np.ones(3), requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    sched = lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    for _ in range(3):
        opt.step()
        sched.step()
    ts.save(opt.state_dict(), tmp_path / "ck.npz")
    p2 = ts.Tensor(np.ones(3), requires_grad=True)
    opt2 = optim.SGD([p2], lr=0.1, momentum=0.9)
    opt2.load_state_dict(ts.load(tmp_path / "ck.npz"))
    g, g2 = opt.param_groups[0], opt2.param_groups[0]
    for k in ("lr", "initial_lr", "max_lr", "min_lr", "momentum", "max_momentum", "base_momentum"):
        assert g2[k] == pytest.approx(g[k]), k
    # resuming: last_epoch >= 0 needs initial_lr in the groups; then the scheduler's own state
    sched2 = lr_scheduler.OneCycleLR(opt2, max_lr=1.0, total_steps=10, last_epoch=sched.last_epoch)
    sched2.load_state_dict(sched.state_dict())
    for group, lr in zip(opt2.param_groups, sched.get_last_lr()):
        group["lr"] = lr
    for _ in range(5):
        opt.step()
        opt2.step()
        sched.step()
        sched2.step()
        assert sched2.get_last_lr() == pytest.approx(sched.get_last_lr())


def test_a_tensor_learning_rate_is_taken_as_its_number():
    # torch takes lr=torch.tensor(0.1); the update is the same as with the float
    p, q = ts.nn.Parameter(ts.ones(2)), ts.nn.Parameter(ts.ones(2))
    opt_t = optim.Adam([p], lr=ts.tensor(0.1, dtype=ts.float64))
    opt_f = optim.Adam([q], lr=0.1)
    for opt, w in ((opt_t, p), (opt_f, q)):
        w.grad = ts.ones(2)
        opt.step()
    np.testing.assert_array_equal(p.numpy(), q.numpy())
    assert isinstance(opt_t.param_groups[0]["lr"], ts.Tensor)   # kept a Tensor, as torch's
    opt = optim.SGD([{"params": [p], "lr": torch.tensor(0.5)}], lr=0.1)
    assert opt.param_groups[0]["lr"] == 0.5
