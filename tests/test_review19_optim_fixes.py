"""Review 19 of optim against torch 2.13: 0-d Tensor hyperparameters besides lr (every
optimizer reads their numbers, param_groups keep the Tensors, Adam's foreach refusals),
AveragedModel's default SWA mean in the parameter's dtype (bit for bit) and its integer buffers,
the scheduler's wrapper of optimizer.step (the "overridden" and order warnings), and
CosineAnnealingWarmRestarts' _step_count."""
import copy
import pickle
import types
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import tinygrad_seq as ts  # noqa: E402

W0 = np.linspace(-1.0, 1.0, 6, dtype=np.float32).reshape(2, 3)


def _warnings_of(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [str(w.message) for w in caught]


# ------------------------------------------------------------------ 1. Tensor hyperparameters
def _tensor_options(L):
    T = L.tensor
    return {
        "SGD": dict(lr=0.1, momentum=T(0.9), dampening=T(0.1), weight_decay=T(0.1)),
        "SGD-wd-only": dict(lr=0.1, weight_decay=T(0.1)),
        "SGD-nesterov": dict(lr=0.1, momentum=T(0.9), weight_decay=T(0.05), nesterov=True),
        "Adam": dict(lr=0.1, betas=(T(0.9), T(0.99)), eps=T(1e-6), weight_decay=T(0.1)),
        "Adam-betas-only": dict(lr=0.1, betas=(T(0.9), T(0.99))),
        "Adam-amsgrad": dict(lr=T(0.1), betas=(T(0.8), T(0.9)), eps=T(1e-6), amsgrad=True),
        "AdamW": dict(lr=0.1, betas=(T(0.9), T(0.99)), eps=T(1e-6), weight_decay=T(0.1)),
        "Adagrad": dict(lr=0.1, lr_decay=T(0.01), weight_decay=T(0.1), initial_accumulator_value=T(0.1),
                        eps=T(1e-6)),
        "Adadelta": dict(lr=T(1.0), rho=T(0.8), eps=T(1e-6), weight_decay=T(0.1)),
        "NAdam": dict(lr=0.1, betas=(T(0.9), T(0.99)), eps=T(1e-6), weight_decay=T(0.1),
                      momentum_decay=T(0.004)),
        "RAdam": dict(lr=0.1, betas=(T(0.9), T(0.99)), eps=T(1e-6), weight_decay=T(0.1)),
        "RMSprop": dict(lr=0.01, alpha=T(0.9), eps=T(1e-6), weight_decay=T(0.1), momentum=T(0.5)),
        "RMSprop-centered": dict(lr=0.01, alpha=T(0.9), eps=T(1e-6), centered=True),
        "ASGD": dict(lr=0.1, lambd=T(1e-3), alpha=T(0.75), t0=T(2.0), weight_decay=T(0.1)),
        "Adafactor": dict(lr=0.1, beta2_decay=T(-0.8), eps=(None, T(1e-3)), d=T(1.0), weight_decay=T(0.1)),
        "Adamax": dict(lr=0.1, betas=(T(0.9), T(0.99)), eps=T(1e-6), weight_decay=T(0.1)),
        "Rprop": dict(lr=0.1, etas=(T(0.5), T(1.2)), step_sizes=(T(1e-6), T(50.0))),
    }


def _five_steps(L, case, dtype):
    name = case.split("-")[0]
    p = L.tensor(W0.astype(dtype), requires_grad=True)
    opt = getattr(L.optim, name)([p], **_tensor_options(L)[case])
    for i in range(5):
        p.grad = L.sin(p.detach() * (i + 1))
        opt.step()
    return p.detach().numpy(), opt


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", list(_tensor_options(torch)))
def test_tensor_hyperparameters_move_the_parameter_as_torchs(case, dtype):
    (ours, opt), (theirs, _) = _five_steps(ts, case, dtype), _five_steps(torch, case, dtype)
    assert not np.allclose(ours, W0, atol=1e-4)
    tol = 1e-5 if dtype == "float32" else 1e-7
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)
    # the groups keep the Tensors given (torch's), tuple items included
    given = _tensor_options(ts)[case]
    for k, v in given.items():
        kept = opt.param_groups[0][k]
        if isinstance(v, ts.Tensor):
            assert isinstance(kept, ts.Tensor) and kept.item() == v.item(), k
        elif isinstance(v, tuple):
            assert [type(x) for x in kept] == [type(x) for x in v], k


def test_sgd_tensor_weight_decay_equals_the_float():
    def run(wd):
        p = ts.tensor(W0.copy(), requires_grad=True)
        opt = ts.optim.SGD([p], lr=0.1, weight_decay=wd)
        p.grad = ts.zeros(2, 3)
        opt.step()
        return p.detach().numpy()
    np.testing.assert_array_equal(run(ts.tensor(0.5, dtype=ts.float64)), run(0.5))
    assert not np.array_equal(run(ts.tensor(0.5)), W0)


def test_tensor_option_of_a_param_group_and_after_load_state_dict():
    def run(L):
        a, b = L.tensor(W0.copy(), requires_grad=True), L.tensor(W0[0].copy(), requires_grad=True)
        opt = L.optim.Adam([{"params": [a]}, {"params": [b], "weight_decay": L.tensor(0.2)}], lr=0.05)
        for i in range(3):
            a.grad, b.grad = L.cos(a.detach() * i), L.cos(b.detach() * i)
            opt.step()
        return a.detach().numpy(), b.detach().numpy()
    for ours, theirs in zip(run(ts), run(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_adam_refuses_tensor_lr_and_betas_with_foreach(name):
    def refusal(L, **kw):
        p = L.tensor(W0.copy(), requires_grad=True)
        with pytest.raises(ValueError) as e:
            getattr(L.optim, name)([p], foreach=True, **kw)
        return str(e.value)
    for kw in (lambda L: dict(lr=L.tensor(0.1)), lambda L: dict(betas=(L.tensor(0.9), L.tensor(0.99)))):
        assert refusal(ts, **kw(ts)) == refusal(torch, **kw(torch))
    # foreach=False takes them
    p = ts.tensor(W0.copy(), requires_grad=True)
    getattr(ts.optim, name)([p], lr=ts.tensor(0.1), betas=(ts.tensor(0.9), ts.tensor(0.99)), foreach=False)


def test_adam_one_element_betas_become_0d_and_longer_ones_fail_as_torchs():
    def run(L):
        p = L.tensor(W0.copy(), requires_grad=True)
        opt = L.optim.Adam([p], betas=(L.tensor([0.9]), L.tensor([[0.99]])))
        return [tuple(b.shape) for b in opt.param_groups[0]["betas"]]
    assert run(ts) == run(torch) == [(), ()]
    for L in (torch, ts):   # the range check's bool() refuses a longer one first (torch's)
        p = L.tensor(W0.copy(), requires_grad=True)
        with pytest.raises(RuntimeError, match="ambiguous"):
            L.optim.Adam([p], betas=(L.tensor([0.9, 0.8]), L.tensor(0.99)))


# ------------------------------------------------------------------ 2. / 3. AveragedModel
class _Net:
    """A Linear and a BatchNorm1d whose parameters and buffers are set from arrays each round,
    so both libraries average the same numbers."""

    @staticmethod
    def make(L, dtype):
        m = L.nn.Sequential(L.nn.Linear(3, 2), L.nn.BatchNorm1d(2))
        return m.to(getattr(L, dtype))

    @staticmethod
    def set_round(L, m, k, dtype):
        rng = np.random.default_rng(k)
        with L.no_grad():
            for t in list(m.parameters()) + [m[1].running_mean, m[1].running_var]:
                t.copy_(L.tensor(rng.standard_normal(tuple(t.shape)).astype(dtype)))
            m[1].num_batches_tracked.fill_(7 * k + 3)


def _averaged(L, dtype, use_buffers, fn=None, rounds=5):
    su = L.optim.swa_utils
    m = _Net.make(L, dtype)
    am = su.AveragedModel(m, use_buffers=use_buffers, **(fn(su) if fn else {}))
    for k in range(rounds):
        _Net.set_round(L, m, k, dtype)
        am.update_parameters(m)
    return [t.detach().numpy() for t in list(am.module.parameters()) + list(am.module.buffers())]


_AVERAGERS = {
    "default": None,
    "swa_avg_fn": lambda su: dict(avg_fn=su.get_swa_avg_fn()),
    "ema_avg_fn": lambda su: dict(avg_fn=su.get_ema_avg_fn(0.9)),
    "lambda_avg_fn": lambda su: dict(avg_fn=lambda a, p, n: 0.25 * a + 0.75 * p),
    "ema_multi_avg_fn": lambda su: dict(multi_avg_fn=su.get_ema_multi_avg_fn(0.95)),
}


@pytest.mark.parametrize("averager", list(_AVERAGERS))
@pytest.mark.parametrize("use_buffers", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_averaged_model_bit_for_bit(dtype, use_buffers, averager):
    fn = _AVERAGERS[averager]
    ours, theirs = _averaged(ts, dtype, use_buffers, fn), _averaged(torch, dtype, use_buffers, fn)
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        assert o.dtype == t.dtype
        if averager == "ema_multi_avg_fn" and o.dtype.kind == "f":
            # torch's foreach lerp rounds once (a fused multiply-add on CPU); Tensor.lerp_ here
            # rounds the product and the sum: an ulp or so apart
            np.testing.assert_array_max_ulp(o, t, maxulp=4)
        else:
            np.testing.assert_array_equal(o, t)


def test_swa_multi_avg_fn_on_integer_buffers_fails_as_torchs():
    # torch's addcdiv refuses the integer list (num_batches_tracked) on the second update
    for L in (torch, ts):
        with pytest.raises(RuntimeError):
            _averaged(L, "float32", True, lambda su: dict(multi_avg_fn=su.get_swa_multi_avg_fn()))


def test_float64_average_is_float64_accurate():
    # the old lerp with a float32-rounded weight was off by ~1e-8 here
    su = ts.optim.swa_utils
    m = ts.nn.Linear(2, 2).to(ts.float64)
    am = su.AveragedModel(m)
    values = [np.full((2, 2), v) for v in (0.1, 0.7, 0.3)]
    for v in values:
        with ts.no_grad():
            m.weight.copy_(ts.tensor(v))
        am.update_parameters(m)
    np.testing.assert_allclose(am.module.weight.detach().numpy(), np.mean(values, axis=0), rtol=0, atol=1e-15)


def test_batchnorm_num_batches_tracked_is_averaged():
    def run(L):
        m = L.nn.BatchNorm1d(3)
        am = L.optim.swa_utils.AveragedModel(m, use_buffers=True)
        x = L.tensor(np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32))
        for _ in range(3):
            for _ in range(10):
                m(x)
            am.update_parameters(m)
        nbt = am.module.num_batches_tracked
        return nbt.item(), str(nbt.dtype).split(".")[-1], am.n_averaged.item()
    assert run(ts) == run(torch) == (20, "int64", 3)


# ------------------------------------------------------------------ 4. the scheduler's wrapper of step
def _sched_setup(L):
    p = L.tensor(W0.copy(), requires_grad=True)
    opt = L.optim.SGD([p], lr=0.1)
    return p, opt, L.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)


def test_step_replaced_after_the_scheduler_warns_as_torchs():
    def run(L):
        p, opt, sched = _sched_setup(L)
        assert getattr(opt.step, "_wrapped_by_lr_sched", False)
        opt.step = types.MethodType(type(opt).step, opt)   # replaced: the marker is gone
        p.grad = L.ones_like(p)
        opt.step()
        return _warnings_of(sched.step) + _warnings_of(sched.step)
    ours, theirs = run(ts), run(torch)
    assert ours == theirs and len(ours) == 1
    assert ours[0].startswith("Seems like `optimizer.step()` has been overridden after learning rate scheduler")


@pytest.mark.parametrize("optimizer_first", [False, True])
def test_order_warning_still_works(optimizer_first):
    def run(L):
        p, opt, sched = _sched_setup(L)
        if optimizer_first:
            p.grad = L.ones_like(p)
            opt.step()
        caught = _warnings_of(sched.step)
        p.grad = L.ones_like(p)
        opt.step()
        return caught + _warnings_of(sched.step), opt.param_groups[0]["lr"], p.detach().numpy()
    (ours, lr, w), (theirs, lr_t, w_t) = run(ts), run(torch)
    assert ours == theirs and lr == lr_t
    np.testing.assert_allclose(w, w_t, rtol=1e-6)
    assert len(ours) == (0 if optimizer_first else 1)
    if ours:
        assert ours[0].startswith("Detected call of `lr_scheduler.step()` before `optimizer.step()`")


def test_wrapper_is_made_once_and_keeps_hooks_and_copies():
    p, opt, sched = _sched_setup(ts)
    wrapped = opt.step
    ts.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
    assert opt.step is wrapped   # a second scheduler keeps the first wrapper (torch's)
    calls = []
    opt.register_step_post_hook(lambda o, a, k: calls.append(o))
    p.grad = ts.ones_like(p)
    opt.step()
    assert calls == [opt] and opt._opt_called
    # the wrapper is not saved (torch's __getstate__ keeps neither it nor _opt_called)
    for clone in (copy.deepcopy(opt), pickle.loads(pickle.dumps(opt))):
        assert "step" not in clone.__dict__ and "_opt_called" not in clone.__dict__
        clone.param_groups[0]["params"][0].grad = ts.ones_like(p)
        clone.step()


def test_step_replaced_by_a_function_before_the_scheduler_fails_as_torchs():
    for L in (torch, ts):
        p = L.tensor(W0.copy(), requires_grad=True)
        opt = L.optim.SGD([p], lr=0.1)
        opt.step = lambda: None
        with pytest.raises(AttributeError, match="__func__"):
            L.optim.lr_scheduler.StepLR(opt, step_size=1)


# ------------------------------------------------------------------ 5. CosineAnnealingWarmRestarts
def test_cosine_warm_restarts_step_count_stays_zero():
    def run(L):
        p = L.tensor(W0.copy(), requires_grad=True)
        opt = L.optim.SGD([p], lr=0.1)
        sched = L.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2)
        caught = []
        for epoch in range(7):
            opt.step()
            caught += _warnings_of(sched.step)
        caught += _warnings_of(lambda: sched.step(2.5))
        return sched.state_dict()["_step_count"], sched.get_last_lr(), caught
    assert run(ts) == run(torch) == (0, run(torch)[1], [])
