"""What an audit of optim, lr_scheduler, swa_utils and amp.GradScaler against torch 2.13 found,
each asserted against torch: optimizer hooks (step, global, state dict), group options of any
type surviving load_state_dict, torch's scheduler warnings and state dict keys, repr with several
groups, a custom optimizer's defaults, a Tensor lr, GradScaler's bookkeeping, SWA's float32
weight, step / mu_product in the default dtype, SGD's empty state and integer parameters."""
import copy
import pickle
import warnings

import numpy as np
import pytest
import torch

import tinygrad_seq as ts

W0 = np.random.default_rng(0).standard_normal((4, 3))
LIBS = (torch, ts)


def _param(L):
    return L.tensor(W0.copy(), requires_grad=True)


def _both(fn):
    return fn(torch), fn(ts)


def _warnings_of(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [str(w.message) for w in caught]


# ------------------------------------------------------------------ hooks
def test_step_hooks_see_the_call_and_can_be_removed():
    def run(L):
        p = _param(L)
        opt = L.optim.SGD([p], lr=0.1)
        calls = []
        opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", len(args), args[0] is o, sorted(kwargs))))
        handle = opt.register_step_post_hook(lambda o, args, kwargs: calls.append(("post", sorted(kwargs))))
        (p * p).sum().backward()
        opt.step()
        opt.step(closure=None)
        handle.remove()
        opt.step()
        return calls
    ours, theirs = run(ts), run(torch)
    assert ours == theirs and len(ours) == 5


def test_step_pre_hook_may_replace_the_arguments():
    def run(L):
        opt = L.optim.SGD([_param(L)], lr=0.1)
        opt.register_step_pre_hook(lambda o, args, kwargs: ((args[0],), {"closure": lambda: L.tensor(3.0)}))
        return float(opt.step())
    assert _both(run) == (3.0, 3.0)
    opt = ts.optim.SGD([_param(ts)], lr=0.1)
    opt.register_step_pre_hook(lambda o, args, kwargs: 5)
    with pytest.raises(RuntimeError, match="must return None or a tuple"):
        opt.step()


def test_global_step_hooks_and_lbfgs_and_subclass_steps():
    from torch.optim.optimizer import register_optimizer_step_post_hook as torch_post
    from torch.optim.optimizer import register_optimizer_step_pre_hook as torch_pre
    from tinygrad_seq.optim.optimizer import register_optimizer_step_post_hook as ts_post
    from tinygrad_seq.optim.optimizer import register_optimizer_step_pre_hook as ts_pre

    def run(L, pre, post):
        calls = []

        class Custom(L.optim.Optimizer):
            def __init__(self, params):
                super().__init__(params, dict(lr=0.1))

            def step(self, closure=None):
                calls.append("custom step")

        handles = [pre(lambda o, a, k: calls.append(("global pre", type(o).__name__))),
                   post(lambda o, a, k: calls.append(("global post", type(o).__name__)))]
        try:
            p = _param(L)
            lbfgs = L.optim.LBFGS([p], max_iter=2)
            lbfgs.register_step_post_hook(lambda o, a, k: calls.append("lbfgs post"))

            def closure():
                lbfgs.zero_grad()
                loss = (p ** 2).sum()
                loss.backward()
                return loss
            lbfgs.step(closure)
            Custom([p]).step()
        finally:
            for h in handles:
                h.remove()
        Custom([p]).step()
        return calls
    assert run(ts, ts_pre, ts_post) == run(torch, torch_pre, torch_post)


def test_state_dict_and_load_state_dict_hooks():
    def run(L):
        opt = L.optim.Adam([_param(L)])
        calls = []
        opt.register_state_dict_pre_hook(lambda o: calls.append("pre"))
        opt.register_state_dict_pre_hook(lambda o: calls.append("pre first"), prepend=True)
        opt.register_state_dict_post_hook(lambda o, sd: dict(sd, extra=1))
        sd = opt.state_dict()
        opt.register_load_state_dict_pre_hook(lambda o, sd: calls.append(sorted(sd)))
        opt.register_load_state_dict_pre_hook(lambda o, sd: {k: v for k, v in sd.items() if k != "extra"})
        opt.register_load_state_dict_post_hook(lambda o: calls.append("loaded"))
        opt.load_state_dict(sd)
        return calls, sorted(sd)
    ours, theirs = _both(run)
    assert ours == theirs


def test_optimizer_with_hooks_and_scheduler_deepcopies_and_pickles():
    p = _param(ts)
    opt = ts.optim.Adam([p])
    opt.register_step_pre_hook(lambda *a: None)
    sched = ts.optim.lr_scheduler.StepLR(opt, 2)
    (p * p).sum().backward()
    opt.step()
    sched.step()
    for other in (copy.deepcopy(opt), pickle.loads(pickle.dumps(opt))):
        assert len(other.state) == 1 and not other._optimizer_step_pre_hooks   # hooks are not saved (torch's)
        other.step()


# ------------------------------------------------------------------ state dicts, repr, defaults
@pytest.mark.parametrize("make", [
    lambda L, p: L.optim.LBFGS([p], line_search_fn="strong_wolfe"),
    lambda L, p: L.optim.LBFGS([p]),
    lambda L, p: L.optim.Adam([{"params": [p], "name": "encoder"}]),
])
def test_load_state_dict_restores_every_group_option(make):
    def run(L):
        p = _param(L)
        fresh = L.optim.LBFGS([p], history_size=7) if "LBFGS" in repr(make(L, p)) else L.optim.Adam([p])
        fresh.load_state_dict(make(L, p).state_dict())
        return {k: v for k, v in fresh.param_groups[0].items() if k != "params"}, list(fresh.param_groups[0])[-1]
    ours, theirs = _both(run)
    assert ours == theirs


def test_lbfgs_state_dict_keeps_al_as_torch():
    def run(L):
        p = L.tensor(np.full((3, 2), 2.0), requires_grad=True)
        opt = L.optim.LBFGS([p], max_iter=4, history_size=3)

        def closure():
            opt.zero_grad()
            loss = (p ** 4).sum() + (p * 3).sum()
            loss.backward()
            return loss
        opt.step(closure)
        opt.step(closure)
        st = opt.state_dict()["state"][0]
        return list(st), [None if a is None else round(float(a), 12) for a in st["al"]]
    ours, theirs = _both(run)
    assert ours == theirs
    opt = ts.optim.LBFGS([_param(ts)], max_iter=4, history_size=3)
    opt.load_state_dict({"state": {0: {"al": [None, ts.tensor(1.0)], "n_iter": 1}},
                         "param_groups": opt.state_dict()["param_groups"]})
    assert opt.state[opt._params[0]]["al"][0] is None


def test_repr_with_several_groups():
    def run(L):
        a, b = _param(L), _param(L)
        return repr(L.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1))
    ours, theirs = _both(run)
    assert ours == theirs and "\n\nParameter Group 1" in ours


def test_custom_optimizer_gets_no_implementation_flags():
    def run(L):
        class MyOpt(L.optim.Optimizer):
            def __init__(self, params, lr=0.1):
                super().__init__(params, dict(lr=lr))

        class MySGD(L.optim.SGD):
            pass
        o = MyOpt([_param(L)])
        return o.defaults, repr(o), sorted(o.state_dict()["param_groups"][0]), sorted(MySGD([_param(L)]).defaults)
    ours, theirs = _both(run)
    assert ours == theirs


# ------------------------------------------------------------------ schedulers
SCHEDULERS = {
    "StepLR": lambda L, o: L.optim.lr_scheduler.StepLR(o, 2),
    "LambdaLR": lambda L, o: L.optim.lr_scheduler.LambdaLR(o, lambda e: 0.9 ** e),
    "ExponentialLR": lambda L, o: L.optim.lr_scheduler.ExponentialLR(o, 0.9),
    "CosineAnnealingLR": lambda L, o: L.optim.lr_scheduler.CosineAnnealingLR(o, 5),
    "CosineAnnealingWarmRestarts": lambda L, o: L.optim.lr_scheduler.CosineAnnealingWarmRestarts(o, 3),
    "OneCycleLR": lambda L, o: L.optim.lr_scheduler.OneCycleLR(o, 1.0, total_steps=20),
    "CyclicLR": lambda L, o: L.optim.lr_scheduler.CyclicLR(o, 0.01, 0.1),
    "ReduceLROnPlateau": lambda L, o: L.optim.lr_scheduler.ReduceLROnPlateau(o, patience=0),
    "SWALR": lambda L, o: L.optim.swa_utils.SWALR(o, 0.05),
    "SequentialLR": lambda L, o: L.optim.lr_scheduler.SequentialLR(
        o, [L.optim.lr_scheduler.ConstantLR(o), L.optim.lr_scheduler.ExponentialLR(o, 0.9)], [2]),
}


def _sched_step(name, s):
    s.step(1.0) if name == "ReduceLROnPlateau" else s.step()


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_scheduler_warnings_and_state_dict_keys(name):
    def run(L):
        opt = L.optim.SGD([_param(L)], lr=0.1, momentum=0.9)
        s = SCHEDULERS[name](L, opt)
        early = _warnings_of(lambda: _sched_step(name, s))          # before any optimizer.step()
        opt.step()
        later = _warnings_of(lambda: _sched_step(name, s))
        outside = _warnings_of(s.get_lr) if name not in ("ReduceLROnPlateau", "SequentialLR") else []
        return early, later, outside, sorted(s.state_dict())
    ours, theirs = _both(run)
    assert ours == theirs


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_tensor_lr_stays_a_tensor_and_is_scheduled_in_its_dtype(name):
    def run(L):
        opt = L.optim.SGD([_param(L)], lr=L.tensor(0.1), momentum=0.9)
        s = SCHEDULERS[name](L, opt)
        out = []
        for _ in range(6):
            opt.step()
            _sched_step(name, s)
            lr = opt.param_groups[0]["lr"]
            out.append((isinstance(lr, L.Tensor), float(lr)))
        return out, [isinstance(x, L.Tensor) for x in s.get_last_lr()]
    ours, theirs = _both(run)
    assert ours == theirs and ours[0][0][0]


def test_tensor_lr_updates_as_torch_and_survives_load_state_dict():
    def run(L):
        p = _param(L)
        opt = L.optim.Adam([p], lr=L.tensor(0.01))
        for _ in range(5):
            opt.zero_grad()
            ((p ** 4).sum() + p.sum()).backward()
            opt.step()
        other = L.optim.Adam([_param(L)], lr=L.tensor(0.5))
        other.load_state_dict(opt.state_dict())
        return p.detach().numpy(), float(other.param_groups[0]["lr"]), isinstance(other.param_groups[0]["lr"], L.Tensor)
    ours, theirs = _both(run)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=0, atol=1e-7)
    assert ours[1:] == theirs[1:]
    with pytest.raises(ValueError, match="1-element"):
        ts.optim.SGD([_param(ts)], lr=ts.tensor([0.1, 0.2]))


# ------------------------------------------------------------------ GradScaler
def test_gradscaler_settings_and_state_dict():
    def run(L):
        sc = L.amp.GradScaler("cpu", growth_factor=3.0, backoff_factor=0.25, growth_interval=7)
        got = (sc.get_growth_factor(), sc.get_backoff_factor(), sc.get_growth_interval())
        sc.set_growth_factor(4.0)
        sc.set_backoff_factor(0.125)
        sc.set_growth_interval(9)
        sd = sc.state_dict()
        return got, {k: sd[k] for k in ("growth_factor", "backoff_factor", "growth_interval")}, sorted(sd)
    ours, theirs = _both(run)
    assert ours == theirs
    with pytest.raises(AssertionError, match="growth factor"):
        ts.amp.GradScaler("cpu", growth_factor=1.0)


def test_gradscaler_unscale_and_step_once_per_update():
    def run(L):
        p = _param(L)
        opt = L.optim.SGD([p], lr=0.1)
        sc = L.amp.GradScaler("cpu")
        sc.scale((p * p).sum()).backward()
        sc.unscale_(opt)
        errors = []
        for call in (lambda: sc.unscale_(opt), lambda: (sc.step(opt), sc.step(opt)), lambda: sc.unscale_(opt)):
            try:
                call()
            except RuntimeError as e:
                errors.append(str(e))
        sc.update()
        sc.unscale_(opt)   # allowed again after update()
        return errors
    ours, theirs = _both(run)
    assert ours == theirs and len(ours) == 3


def test_gradscaler_for_cuda_without_cuda_is_disabled_with_torchs_warning():
    if torch.cuda.is_available() or ts.cuda.is_available():
        pytest.skip("needs a machine without CUDA")

    def run(L):
        made = []
        caught = _warnings_of(lambda: made.append(L.amp.GradScaler()))
        return made[0].is_enabled(), made[0].state_dict(), caught
    assert _both(run)[0] == _both(run)[1] == (False, {}, [
        "torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling."])


# ------------------------------------------------------------------ numbers
def test_swa_multi_avg_fn_weight_is_torchs_float32():
    def run(L):
        avg = [L.tensor(W0.copy())]
        fn = L.optim.swa_utils.get_swa_multi_avg_fn()
        for n in range(1, 6):
            fn(avg, [L.tensor(W0 * (n + 1) + 0.3)], L.tensor(n))
        return avg[0].numpy()
    ours, theirs = _both(run)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-14)
    with pytest.raises(ValueError, match="decay"):
        ts.optim.swa_utils.get_ema_multi_avg_fn(1.5)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_nadam_step_and_mu_product_follow_the_default_dtype(dtype):
    def run(L):
        old = L.get_default_dtype()
        L.set_default_dtype(getattr(L, dtype))
        try:
            p = L.tensor(W0.copy(), requires_grad=True)
            opt = L.optim.NAdam([p], lr=0.01, weight_decay=0.1)
            for _ in range(20):
                opt.zero_grad()
                ((p ** 4).sum() * 0.01 + (p * 2).sum()).backward()
                opt.step()
            st = opt.state_dict()["state"][0]
            return p.detach().numpy(), str(st["mu_product"].dtype), str(st["step"].dtype)
        finally:
            L.set_default_dtype(old)
    ours, theirs = _both(run)
    assert ours[1].endswith(dtype) and ours[2].endswith(dtype)
    assert theirs[1].endswith(dtype) and theirs[2].endswith(dtype)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=0, atol=1e-12 if dtype == "float64" else 1e-6)


def test_sgd_without_momentum_keeps_no_state():
    def run(L):
        p = _param(L)
        opt = L.optim.SGD([p], lr=0.1)
        (p * p).sum().backward()
        opt.step()
        return len(opt.state), opt.state_dict()["state"]
    assert _both(run) == ((0, {}), (0, {}))


def test_sgd_on_integer_parameters():
    def run(L, **kw):
        p = L.tensor([1, 2])
        opt = L.optim.SGD([p], **kw)
        p.grad = L.tensor([3, 4])
        try:
            opt.step()
        except RuntimeError:
            return "RuntimeError"
        return p.tolist()
    assert run(ts, lr=2) == run(torch, lr=2) == [-5, -6]
    assert run(ts, lr=0.5) == run(torch, lr=0.5) == "RuntimeError"
