"""optimizer.state[p] holds what torch's holds, for every optimizer: Tensors (moments on the
parameter's device and dtype, `step` a 0-d CPU tensor of torch's scalar dtype; SparseAdam's
int step, LBFGS's own keys), which the next step reads, so a program's in-place write or
replaced entry changes training as in torch; state_dict() is live and load_state_dict shares
tensors that already match, as torch's; checkpoints through ts.save / ts.load and torch-made
state dicts keep working. Every check runs the same program in torch and here."""
import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")

SHAPES = [(4, 3), (5,)]
MUON_SHAPES = [(4, 3), (3, 5)]
CONFIGS = [
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("AdamW", dict(lr=0.05)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, initial_accumulator_value=0.1)),
    ("Adadelta", dict()),
    ("Adamax", dict()),
    ("NAdam", dict(lr=0.05)),
    ("RAdam", dict(lr=0.05)),
    ("ASGD", dict(lr=0.1, t0=1)),
    ("Rprop", dict()),
    ("SparseAdam", dict()),
    ("Adafactor", dict(lr=0.05)),
    ("Muon", dict(lr=0.05)),
]
IDS = [f"{n}-{i}" for i, (n, _) in enumerate(CONFIGS)]
# a tensor state entry of each optimizer that its next step reads (for the 2-D parameter)
MOMENT = dict(SGD="momentum_buffer", Adam="exp_avg", AdamW="exp_avg_sq", RMSprop="square_avg", Adagrad="sum",
              Adadelta="square_avg", Adamax="exp_avg", NAdam="exp_avg", RAdam="exp_avg_sq", ASGD="ax", Rprop="prev",
              SparseAdam="exp_avg", Adafactor="row_var", Muon="momentum_buffer")
TOL = dict(rtol=1e-4, atol=1e-6)


def make(L, name, kw, dtype=np.float32):
    rng = np.random.default_rng(0)
    shapes = MUON_SHAPES if name == "Muon" else SHAPES
    params = [L.nn.Parameter(L.tensor(rng.standard_normal(s).astype(dtype))) for s in shapes]
    return params, getattr(L.optim, name)(params, **kw)


def step(L, name, params, opt, seed):
    rng = np.random.default_rng(100 + seed)
    for p in params:
        g = L.tensor(rng.standard_normal(tuple(p.shape)).astype(p.detach().numpy().dtype))
        p.grad = g.to_sparse() if L is torch and name == "SparseAdam" else g
    opt.step()


def both(name, kw, steps, dtype=np.float32):
    """(params, optimizer) of torch and of ours after `steps` steps on the same gradients."""
    out = []
    for L in (torch, ts):
        params, opt = make(L, name, kw, dtype)
        for s in range(steps):
            step(L, name, params, opt, s)
        out.append((params, opt))
    return out


def dtype_name(v):
    return str(v.dtype).replace("torch.", "") if isinstance(v, torch.Tensor) else np.dtype(v.dtype).name


def assert_same_state(mine, theirs, where=""):
    """Same keys in the same order; Tensors where torch has tensors (same dtype, shape, device,
    values); the same Python type and value otherwise."""
    assert list(mine) == list(theirs), where
    for k, tv in theirs.items():
        mv = mine[k]
        if isinstance(tv, torch.Tensor):
            assert isinstance(mv, ts.Tensor), f"{where} {k}: {type(mv).__name__}"
            assert dtype_name(mv) == dtype_name(tv) and tuple(mv.shape) == tuple(tv.shape), f"{where} {k}"
            assert str(mv.device) == str(tv.device) == "cpu", f"{where} {k}"
            np.testing.assert_allclose(mv.numpy(), tv.numpy(), err_msg=f"{where} {k}", **TOL)
        elif isinstance(tv, list):
            assert isinstance(mv, list) and len(mv) == len(tv), f"{where} {k}"
            for i, (a, b) in enumerate(zip(mv, tv)):
                assert_same_state({i: a}, {i: b}, f"{where} {k}")
        elif tv is None:
            assert mv is None, f"{where} {k}"
        else:
            assert type(mv) is type(tv) and mv == pytest.approx(tv, rel=1e-4), f"{where} {k}: {mv!r} {tv!r}"


def assert_params_close(mine, theirs, where=""):
    for p, tp in zip(mine, theirs):
        np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), err_msg=where, **TOL)


def all_states(params, opt):
    return [opt.state[p] for p in params if p in opt.state]


@pytest.mark.parametrize("name,kw", CONFIGS, ids=IDS)
def test_state_entries_are_torchs_after_1_and_3_steps(name, kw):
    for steps in (1, 3):
        (tparams, topt), (params, opt) = both(name, kw, steps)
        assert len(opt.state) == len(topt.state)
        for p, tp in zip(params, tparams):
            assert (p in opt.state) == (tp in topt.state)
            if tp in topt.state:
                assert_same_state(opt.state[p], topt.state[tp], f"{steps} steps")
        mine, theirs = opt.state_dict()["state"], topt.state_dict()["state"]
        assert list(mine) == list(theirs)
        for i in theirs:
            assert_same_state(mine[i], theirs[i], f"state_dict {steps} steps")
    if name != "SparseAdam" and opt.state:   # the idioms that broke with arrays and int steps
        st = opt.state[params[0]]
        assert st["step"].item() == 3.0 if "step" in st else True
        st[MOMENT[name]].zero_()
        assert float(st[MOMENT[name]].abs().sum().item()) == 0.0


def test_adagrad_state_exists_before_the_first_step_as_torchs():
    (tparams, topt), (params, opt) = both("Adagrad", dict(initial_accumulator_value=0.5), 0)
    for p, tp in zip(params, tparams):
        assert_same_state(opt.state[p], topt.state[tp])


@pytest.mark.parametrize("name,kw", [c for c in CONFIGS if c[1] != dict(lr=0.1)],
                         ids=[i for i, c in zip(IDS, CONFIGS) if c[1] != dict(lr=0.1)])
@pytest.mark.parametrize("edit", ["zero_", "mul_", "replace", "step"])
def test_a_programs_edit_of_the_state_changes_the_next_step_as_in_torch(name, kw, edit):
    (tparams, topt), (params, opt) = both(name, kw, 2)
    key = MOMENT[name]
    for L, ps, o in ((torch, tparams, topt), (ts, params, opt)):
        st = o.state[ps[0]]
        if edit == "zero_":
            st[key].zero_()
        elif edit == "mul_":
            st[key].mul_(0.5)
        elif edit == "replace":   # a new tensor in the entry: the next step updates that one
            st[key] = L.full_like(st[key], 0.25)
        elif "step" in st:
            if isinstance(st["step"], int):   # SparseAdam's
                st["step"] = 7
            else:
                st["step"].fill_(7.0)
    new = opt.state[params[0]][key]
    for s in (2, 3):
        step(torch, name, tparams, topt, s)
        step(ts, name, params, opt, s)
        assert_params_close(params, tparams, f"{edit} step {s}")
    for p, tp in zip(params, tparams):
        assert_same_state(opt.state[p], topt.state[tp], edit)
    if edit == "replace":
        assert opt.state[params[0]][key] is new


@pytest.mark.parametrize("name,kw", CONFIGS, ids=IDS)
@pytest.mark.parametrize("copy", [False, True])
def test_the_to_device_resume_idiom_keeps_training_as_torchs(name, kw, copy):
    # for st in opt.state.values(): for k, v in st.items(): if isinstance(v, Tensor): st[k] = v.to(device)
    (tparams, topt), (params, opt) = both(name, kw, 2)
    for L, o in ((torch, topt), (ts, opt)):
        for st in o.state.values():
            for k, v in st.items():
                if isinstance(v, L.Tensor):
                    st[k] = v.to("cpu", copy=copy)
    for s in (2, 3, 4):
        step(torch, name, tparams, topt, s)
        step(ts, name, params, opt, s)
    assert_params_close(params, tparams)
    for p, tp in zip(params, tparams):
        if tp in topt.state:
            assert_same_state(opt.state[p], topt.state[tp])


@pytest.mark.parametrize("name,kw", CONFIGS, ids=IDS)
def test_state_dict_is_live_as_torchs(name, kw):
    (tparams, topt), (params, opt) = both(name, kw, 1)
    tsd, sd = topt.state_dict(), opt.state_dict()
    for L, ps, o, d in ((torch, tparams, topt, tsd), (ts, params, opt, sd)):
        for i, p in enumerate(ps):
            if p in o.state:
                assert d["state"][i] is o.state[p]
    step(torch, name, tparams, topt, 1)
    step(ts, name, params, opt, 1)
    for i in tsd["state"]:
        assert_same_state(sd["state"][i], tsd["state"][i], "after a later step")
        if "step" in tsd["state"][i]:
            assert float(sd["state"][i]["step"]) == float(tsd["state"][i]["step"]) == 2.0


@pytest.mark.parametrize("name,kw", CONFIGS, ids=IDS)
def test_load_state_dict_shares_matching_tensors_as_torchs(name, kw):
    (tparams, topt), (params, opt) = both(name, kw, 2)
    tsd, sd = topt.state_dict(), opt.state_dict()
    loaded = []
    for L, ps, d in ((torch, tparams, tsd), (ts, params, sd)):
        fresh = getattr(L.optim, name)(ps, **kw)
        fresh.load_state_dict(d)
        shared = {(i, k): fresh.state[ps[i]][k] is v for i, st in d["state"].items() for k, v in st.items()
                  if isinstance(v, L.Tensor)}
        loaded.append((fresh, shared))
    (tfresh, tshared), (fresh, shared) = loaded
    assert shared == tshared and all(shared.values())
    for s in (2, 3):
        step(torch, name, tparams, tfresh, s)
        step(ts, name, params, fresh, s)
    assert_params_close(params, tparams)
    for i in tsd["state"]:   # the loaded dicts' tensors moved on with the optimizers
        assert_same_state(sd["state"][i], tsd["state"][i], "the loaded dict")
        assert_same_state(fresh.state[params[i]], tfresh.state[tparams[i]], "the loading optimizer")


@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=0.05)), ("NAdam", dict(lr=0.05)), ("ASGD", dict(t0=1)),
                                     ("Adafactor", dict(lr=0.05))], ids=["Adam", "NAdam", "ASGD", "Adafactor"])
def test_load_into_float64_parameters_casts_all_but_step_as_torch(name, kw):
    (tparams, topt), (params, opt) = both(name, kw, 2)
    tsd, sd = topt.state_dict(), opt.state_dict()
    fresh_t, fresh = [], []
    for L, ps, d, out in ((torch, tparams, tsd, fresh_t), (ts, params, sd, fresh)):
        ps64 = [L.nn.Parameter(p.detach().double()) for p in ps]
        o = getattr(L.optim, name)(ps64, **kw)
        o.load_state_dict(d)
        out.extend([ps64, o])
    for i, (p, tp) in enumerate(zip(fresh[0], fresh_t[0])):
        assert_same_state(fresh[1].state[p], fresh_t[1].state[tp], "cast")
        assert fresh[1].state[p]["step"] is sd["state"][i]["step"]   # step kept as saved
    for s in (2, 3):
        step(torch, name, fresh_t[0], fresh_t[1], s)
        step(ts, name, fresh[0], fresh[1], s)
    assert_params_close(fresh[0], fresh_t[0])


@pytest.mark.parametrize("name,kw", CONFIGS, ids=IDS)
def test_save_load_round_trip_and_torchs_state_dict(name, kw, tmp_path):
    (tparams, topt), (params, opt) = both(name, kw, 2)
    ts.save(opt.state_dict(), tmp_path / "opt.pt")
    # ours through ts.save / ts.load, and torch's own state dict (its tensors converted)
    for source in (ts.load(tmp_path / "opt.pt"), topt.state_dict()):
        ps = [ts.nn.Parameter(ts.tensor(p.detach().numpy().copy())) for p in params]
        fresh = getattr(ts.optim, name)(ps, lr=0.123) if "lr" in kw else getattr(ts.optim, name)(ps)
        fresh.load_state_dict(source)
        for p, tp in zip(ps, tparams):
            if tp in topt.state:
                assert_same_state(fresh.state[p], topt.state[tp], "loaded")
        tps = [torch.nn.Parameter(p.detach().clone()) for p in tparams]
        tfresh = getattr(torch.optim, name)(tps, **kw)
        tfresh.load_state_dict(topt.state_dict())
        for s in (2, 3):
            step(ts, name, ps, fresh, s)
            step(torch, name, tps, tfresh, s)
        assert_params_close(ps, tps)


def test_default_dtype_float64_makes_float64_steps_as_torch():
    for L in (torch, ts):
        L.set_default_dtype(L.float64)
    try:
        for name in ("Adam", "NAdam", "ASGD", "Rprop"):
            (tparams, topt), (params, opt) = both(name, {}, 2)
            for p, tp in zip(params, tparams):
                assert_same_state(opt.state[p], topt.state[tp], name)
                assert dtype_name(opt.state[p]["step"]) == "float64"
    finally:
        for L in (torch, ts):
            L.set_default_dtype(L.float32)


def test_the_states_step_is_counted_in_place():
    (_, _), (params, opt) = both("Adam", {}, 1)
    counter = opt.state[params[0]]["step"]
    held = counter.numpy()   # torch's step_t += 1: the same tensor (and memory) counts on
    step(ts, "Adam", params, opt, 1)
    assert opt.state[params[0]]["step"] is counter and float(held) == 2.0


# ------------------------------------------------------------------ LBFGS keeps its own keys
X = np.random.default_rng(2).standard_normal((5, 3))
DTYPE = np.float64   # float32 runs of L-BFGS part ways with torch's by rounding within a few steps


def lbfgs_run(L, steps, opt=None, params=None, **kw):
    rng = np.random.default_rng(0)
    w, b = params or (L.nn.Parameter(L.tensor(rng.standard_normal((4, 3)).astype(DTYPE))),
                      L.nn.Parameter(L.tensor(rng.standard_normal(4).astype(DTYPE))))
    x = L.tensor(X.astype(DTYPE))
    opt = opt or L.optim.LBFGS([w, b], max_iter=4, **kw)

    def closure():
        opt.zero_grad()
        loss = ((x @ w.T + b).tanh() ** 2).sum() + (w ** 2).sum() * 0.1
        loss.backward()
        return loss
    for _ in range(steps):
        opt.step(closure)
    return (w, b), opt


@pytest.mark.parametrize("line_search_fn", [None, "strong_wolfe"])
def test_lbfgs_state_is_torchs_live_and_survives_a_checkpoint(line_search_fn, tmp_path):
    (tps, topt), (ps, opt) = (lbfgs_run(L, 2, line_search_fn=line_search_fn) for L in (torch, ts))
    assert_params_close(ps, tps)
    assert_same_state(opt.state[ps[0]], topt.state[tps[0]], "LBFGS")
    sd = opt.state_dict()
    assert sd["state"][0] is opt.state[ps[0]]
    ts.save(sd, tmp_path / "lbfgs.pt")
    for source in (ts.load(tmp_path / "lbfgs.pt"), topt.state_dict()):
        fresh_params = [ts.nn.Parameter(ts.tensor(p.detach().numpy().copy())) for p in ps]
        fresh = ts.optim.LBFGS(fresh_params, max_iter=4, line_search_fn=line_search_fn)
        fresh.load_state_dict(source)
        assert_same_state(fresh.state[fresh_params[0]], topt.state[tps[0]], "loaded LBFGS")
        tfresh_params = [torch.nn.Parameter(p.detach().clone()) for p in tps]
        tfresh = torch.optim.LBFGS(tfresh_params, max_iter=4, line_search_fn=line_search_fn)
        tfresh.load_state_dict(topt.state_dict())
        lbfgs_run(ts, 2, fresh, fresh_params)
        lbfgs_run(torch, 2, tfresh, tfresh_params)
        assert_params_close(fresh_params, tfresh_params)
        assert_same_state(fresh.state[fresh_params[0]], tfresh.state[tfresh_params[0]], "resumed LBFGS")


# ------------------------------------------------------------------ "cuda" parameters
CUDA_CONFIGS = [c for c in CONFIGS if c[0] in ("SGD", "Adam", "NAdam", "ASGD", "Rprop", "Adagrad")]


@pytest.mark.cuda
@pytest.mark.parametrize("name,kw", CUDA_CONFIGS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CUDA_CONFIGS)])
def test_cuda_state_lives_on_the_device_and_the_resume_idiom_works(name, kw, tmp_path):
    """Moments on "cuda", step on the CPU (torch's, without capturable); moving every state
    tensor to "cuda" (the step too) and a checkpoint keep training equal to the CPU twin's."""
    (_, _), (cpu_params, cpu_opt) = both(name, kw, 2, np.float64)
    params = [ts.nn.Parameter(p.detach().to("cuda")) for p in make(ts, name, kw, np.float64)[0]]
    opt = getattr(ts.optim, name)(params, **kw)
    for s in range(2):
        rng = np.random.default_rng(100 + s)
        for p in params:
            p.grad = ts.tensor(rng.standard_normal(tuple(p.shape))).to("cuda")
        opt.step()
    for p in params:
        if p in opt.state:
            for k, v in opt.state[p].items():
                assert v.device.type == ("cpu" if k in ("step", "eta", "mu", "mu_product") else "cuda"), k
    for st in opt.state.values():
        for k, v in st.items():
            if isinstance(v, ts.Tensor):
                st[k] = v.to("cuda")
    # both through a checkpoint: the load casts NAdam's mu_product, ASGD's eta and mu to the
    # float64 parameters' dtype (torch's), which changes their rounding from here on
    for o, where in ((opt, "cuda"), (cpu_opt, "cpu")):
        ts.save(o.state_dict(), tmp_path / f"{where}.pt")
        o.load_state_dict(ts.load(tmp_path / f"{where}.pt"))
    for s in (2, 3):
        rng = np.random.default_rng(100 + s)
        for p, cp in zip(params, cpu_params):
            g = rng.standard_normal(tuple(p.shape))
            p.grad, cp.grad = ts.tensor(g).to("cuda"), ts.tensor(g)
        opt.step()
        cpu_opt.step()
    for p, cp in zip(params, cpu_params):
        assert p.device.type == "cuda"
        np.testing.assert_allclose(p.detach().cpu().numpy(), cp.detach().numpy(), rtol=1e-10, atol=1e-12)
        for k, v in opt.state.get(p, {}).items():
            np.testing.assert_allclose(v.cpu().numpy(), cpu_opt.state[cp][k].numpy(), rtol=1e-10, err_msg=k)
