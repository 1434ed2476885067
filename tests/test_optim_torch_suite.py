"""Differences found by porting PyTorch 2.13's test/optim/test_lrscheduler.py, test_optim.py and
test_swa_utils.py: the scheduler's epoch deprecation warning (torch's full text, exported as
lr_scheduler.EPOCH_DEPRECATION_WARNING), Tensor hyperparameters of CyclicLR / OneCycleLR / SWALR
cloned (torch's _format_param), optimizer state that is no parameter's kept by state_dict(),
param groups given as sets refused, fused=True with foreach=True refused, an old state dict's
numeric step loaded as a float32 tensor, and SGD's missing `fused` loaded as False. Each test
runs the same program on torch and on tinygrad_seq and compares."""
import copy
import warnings

import pytest

torch = pytest.importorskip("torch")
import tinygrad_seq as ts  # noqa: E402

LIBRARIES = (torch, ts)


def _sgd_two_groups(L):
    a = L.nn.Parameter(L.ones(2))
    b = L.nn.Parameter(L.ones(1))
    return L.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.05)


# ------------------------------------------------------------------ 1. step(epoch) warning
def _epoch_warnings(L):
    opt = _sgd_two_groups(L)
    scheduler = L.optim.lr_scheduler.StepLR(opt, 2)
    opt.step()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scheduler.step(3)
    return [str(w.message) for w in caught if "epoch parameter" in str(w.message)]


def test_epoch_deprecation_warning_text_matches_torch():
    assert _epoch_warnings(ts) == _epoch_warnings(torch)
    assert _epoch_warnings(torch)[0] == torch.optim.lr_scheduler.EPOCH_DEPRECATION_WARNING


def test_epoch_deprecation_warning_constant_exported():
    assert ts.optim.lr_scheduler.EPOCH_DEPRECATION_WARNING == torch.optim.lr_scheduler.EPOCH_DEPRECATION_WARNING


def test_reduce_lr_on_plateau_epoch_warning_uses_the_constant():
    def run(L):
        p = L.nn.Parameter(L.ones(2))
        scheduler = L.optim.lr_scheduler.ReduceLROnPlateau(L.optim.SGD([p], lr=0.1))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            scheduler.step(1.0, epoch=3)
        return [str(w.message) for w in caught]
    assert run(ts) == run(torch) == [torch.optim.lr_scheduler.EPOCH_DEPRECATION_WARNING]


# ------------------------------------------------------------------ 2. Tensor hyperparameters cloned
def _cyclic(L):
    lr, max_lr, base_m, max_m = L.as_tensor(0.1), L.as_tensor(0.2), L.as_tensor(0.8), L.as_tensor(0.9)
    opt = L.optim.SGD([L.nn.Parameter(L.ones(1))], lr=lr)
    scheduler = L.optim.lr_scheduler.CyclicLR(opt, base_lr=lr, max_lr=max_lr, base_momentum=base_m,
                                              max_momentum=max_m)
    out = []
    for _ in range(2):
        for t in (lr, max_lr, base_m, max_m):   # the caller's tensors change: the schedule must not
            t.mul_(0.5)
        opt.step()
        scheduler.step()
        g = opt.param_groups[0]
        out += [float(g["lr"]), float(g["momentum"]), float(g["max_momentum"]), float(g["base_momentum"]),
                float(scheduler.base_lrs[0]), float(scheduler.max_lrs[0])]
    return out


def test_cyclic_lr_copies_tensor_hyperparameters():
    assert _cyclic(ts) == pytest.approx(_cyclic(torch), rel=1e-6)


def _onecycle(L):
    lr, base_m, max_m = L.as_tensor(0.1), L.as_tensor(0.85), L.as_tensor(0.95)
    opt = L.optim.SGD([L.nn.Parameter(L.ones(1))], lr=lr)
    scheduler = L.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=10, base_momentum=base_m,
                                                max_momentum=max_m)
    out = []
    for _ in range(3):
        opt.step()
        scheduler.step()
        g = opt.param_groups[0]
        out += [float(g["lr"]), float(g["max_lr"]), float(g["momentum"]), float(g["max_momentum"]),
                float(g["base_momentum"])]
    return out


def test_onecycle_lr_copies_tensor_max_lr():
    # max_lr is the optimizer's own Tensor lr, which the schedule fills in place: torch's
    # schedule is unaffected because it keeps a clone
    assert _onecycle(ts) == pytest.approx(_onecycle(torch), rel=1e-5)


def _swalr(L):
    lr, swa_lr = L.as_tensor(0.1), L.as_tensor(0.05)
    opt = L.optim.SGD([L.nn.Parameter(L.ones(1))], lr=lr)
    scheduler = L.optim.swa_utils.SWALR(opt, swa_lr=swa_lr)
    out = []
    for _ in range(2):
        swa_lr.mul_(0.5)
        opt.step()
        scheduler.step()
        g = opt.param_groups[0]
        out += [float(g["swa_lr"]), float(g["lr"])]
    return out


def test_swalr_copies_tensor_swa_lr():
    assert _swalr(ts) == pytest.approx(_swalr(torch), rel=1e-5)


def test_one_tensor_for_all_groups_is_cloned_per_group():
    for L in LIBRARIES:
        swa_lr = L.as_tensor(0.05)
        opt = _sgd_two_groups(L)
        L.optim.swa_utils.SWALR(opt, swa_lr=swa_lr)
        first, second = (g["swa_lr"] for g in opt.param_groups)
        assert first is not swa_lr and second is not swa_lr and first is not second, L.__name__


def test_swalr_wrong_number_of_swa_lrs_message():
    for L in LIBRARIES:
        with pytest.raises(ValueError, match="swa_lr must have the same length as optimizer.param_groups"):
            L.optim.swa_utils.SWALR(_sgd_two_groups(L), swa_lr=[0.1, 0.2, 0.3])


# ------------------------------------------------------------------ 3. state that is no parameter's
def _non_param_state(L):
    p = L.nn.Parameter(L.ones(2))
    opt = L.optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = L.ones(2)
    opt.step()
    opt.state["test"] = 1
    sd = opt.state_dict()
    return sorted(map(str, sd["state"].keys())), sd["state"].get("test")


def test_optimizer_state_dict_keeps_non_param_state_keys():
    assert _non_param_state(ts) == _non_param_state(torch) == (["0", "test"], 1)


def test_non_param_state_survives_a_load():
    for L in LIBRARIES:
        p = L.nn.Parameter(L.ones(2))
        opt = L.optim.Adam([p])
        p.grad = L.ones(2)
        opt.step()
        opt.state["note"] = {"epoch": 3}
        opt.load_state_dict(opt.state_dict())
        assert opt.state["note"] == {"epoch": 3} and len(opt.state) == 2, L.__name__


def test_state_dict_pre_hook_sees_its_state_in_post_hook():
    # torch test_optim: test_state_dict_pre_hook / test_state_dict_post_hook
    ran = {}
    for L in LIBRARIES:
        p = L.nn.Parameter(L.ones(2))
        opt = L.optim.SGD([p], lr=0.001)
        opt.register_state_dict_pre_hook(lambda o: o.state.__setitem__("test", 1))

        def post(o, sd):
            sd["ran"] = "test" in sd["state"]
            sd["state"].pop("test", None)
            return sd
        opt.register_state_dict_post_hook(post)
        ran[L] = opt.state_dict()["ran"]
    assert ran[ts] == ran[torch] is True


# ------------------------------------------------------------------ 4. params given as a set
def test_add_param_group_with_set_raises_typeerror():
    with pytest.raises(TypeError):
        torch.optim.SGD([torch.nn.Parameter(torch.ones(1))], lr=0.1).add_param_group(
            {"params": {torch.nn.Parameter(torch.ones(1))}})
    with pytest.raises(TypeError, match="ordered collections"):
        ts.optim.SGD([ts.nn.Parameter(ts.ones(1))], lr=0.1).add_param_group(
            {"params": {ts.nn.Parameter(ts.ones(1))}})


def test_param_group_dict_with_set_in_constructor_raises_typeerror():
    for L in LIBRARIES:
        with pytest.raises(TypeError):
            L.optim.Adam([{"params": {L.nn.Parameter(L.ones(1))}}])


# ------------------------------------------------------------------ 5. fused with foreach
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "Adagrad"])
def test_fused_and_foreach_together_raises(name):
    for L in LIBRARIES:
        with pytest.raises(RuntimeError, match="`fused` and `foreach` cannot be `True` together"):
            getattr(L.optim, name)([L.nn.Parameter(L.ones(1))], lr=0.1, fused=True, foreach=True)


# ------------------------------------------------------------------ 6. an old state dict's numeric step
@pytest.mark.parametrize("name", ["Adam", "AdamW", "RMSprop", "Adagrad", "NAdam", "RAdam", "Adamax", "ASGD",
                                  "Rprop", "Adadelta"])
def test_numeric_step_loads_as_float32_tensor(name):
    dtypes = {}
    for L in LIBRARIES:
        p = L.nn.Parameter(L.ones(2))
        opt = getattr(L.optim, name)([p])
        p.grad = L.ones(2)
        opt.step()
        sd = copy.deepcopy(opt.state_dict())
        for state in sd["state"].values():
            state["step"] = state["step"].item()
        opt.load_state_dict(sd)
        loaded = str(opt.state[p]["step"].dtype).replace("torch.", "")
        p.grad = L.ones(2)
        opt.step()
        dtypes[L] = loaded + "/" + str(opt.state[p]["step"].dtype).replace("torch.", "")
    assert dtypes[ts] == dtypes[torch] == "float32/float32"


@pytest.mark.parametrize("name,keys", [("ASGD", ("step", "eta", "mu")), ("NAdam", ("step", "mu_product"))])
def test_numeric_scalar_states_load_as_tensors_and_step_as_torch(name, keys):
    # torch's ASGD / NAdam __setstate__ also turn eta, mu and mu_product from numbers into tensors
    result = {}
    for L in LIBRARIES:
        p = L.nn.Parameter(L.ones(2))
        opt = getattr(L.optim, name)([p])
        p.grad = L.ones(2)
        opt.step()
        sd = copy.deepcopy(opt.state_dict())
        for state in sd["state"].values():
            for k in keys:
                state[k] = state[k].item()
        opt.load_state_dict(sd)
        p.grad = L.ones(2)
        opt.step()
        result[L] = ([str(opt.state[p][k].dtype).replace("torch.", "") for k in keys],
                     p.detach().numpy().tolist())
    assert result[ts][0] == result[torch][0]
    assert result[ts][1] == pytest.approx(result[torch][1], rel=1e-6)


# ------------------------------------------------------------------ 7. SGD's missing fused
def test_sgd_old_state_dict_without_fused_sets_false():
    fused = {}
    for L in LIBRARIES:
        p = L.nn.Parameter(L.ones(2))
        opt = L.optim.SGD([p], lr=0.1)
        sd = copy.deepcopy(opt.state_dict())
        for group in sd["param_groups"]:
            group.pop("fused", None)
        opt.load_state_dict(sd)
        fused[L] = opt.param_groups[0]["fused"]
    assert fused[ts] is fused[torch] is False


def test_adam_old_state_dict_without_flags_loads_torch_defaults():
    groups = {}
    for L in LIBRARIES:
        p = L.nn.Parameter(L.ones(2))
        opt = L.optim.Adam([p], lr=0.1, amsgrad=True, maximize=True)
        sd = copy.deepcopy(opt.state_dict())
        for group in sd["param_groups"]:
            for k in ("amsgrad", "maximize", "decoupled_weight_decay", "fused"):
                group.pop(k)
        opt.load_state_dict(sd)
        g = opt.param_groups[0]
        groups[L] = {k: g[k] for k in ("amsgrad", "maximize", "decoupled_weight_decay", "fused", "lr")}
    assert groups[ts] == groups[torch] == dict(amsgrad=False, maximize=False, decoupled_weight_decay=False,
                                               fused=None, lr=0.1)
