"""optim.lr_scheduler against torch.optim.lr_scheduler: the same lr sequence, float for float."""
import math

import numpy as np
import pytest
import torch

import tinygrad_seq as ts
from tinygrad_seq import optim
from tinygrad_seq.optim import lr_scheduler as ours


def _pair(opt="SGD", groups=2, **kw):
    ws = [np.ones(3), np.ones(2)][:groups]
    o = getattr(optim, opt)([{"params": [ts.Tensor(w, requires_grad=True)], "lr": 0.1 * (i + 1)}
                             for i, w in enumerate(ws)], **kw)
    t = getattr(torch.optim, opt)([{"params": [torch.tensor(w, requires_grad=True)], "lr": 0.1 * (i + 1)}
                                   for i, w in enumerate(ws)], **kw)
    return o, t


def _run(make, steps=60, opt="SGD", metric=None, **kw):
    o, t = _pair(opt, **kw)
    so, st = make(ours, o), make(torch.optim.lr_scheduler, t)
    assert so.get_last_lr() == st.get_last_lr()
    for i in range(steps):
        o.step()
        t.step()
        if metric is None:
            so.step()
            st.step()
        else:
            so.step(metric(i))
            st.step(metric(i))
        assert so.get_last_lr() == st.get_last_lr(), i
        assert [g["lr"] for g in o.param_groups] == [g["lr"] for g in t.param_groups], i
    return o, t, so, st


SCHEDULES = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.93),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=13, eta_min=0.001),
    "LambdaLR": lambda m, o: m.LambdaLR(o, lambda e: 0.95 ** e + 1.0 / (e + 1)),
    "LambdaLR_list": lambda m, o: m.LambdaLR(o, [lambda e: 1.0 / (e + 1), lambda e: 0.9 ** e]),
    "MultiplicativeLR": lambda m, o: m.MultiplicativeLR(o, lambda e: 0.97),
    "LinearLR": lambda m, o: m.LinearLR(o, start_factor=0.25, end_factor=0.9, total_iters=17),
    "ConstantLR": lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=9),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=20, power=2.0),
    "OneCycleLR": lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 2.0], total_steps=61),
    "OneCycleLR_linear3": lambda m, o: m.OneCycleLR(o, max_lr=1.0, epochs=6, steps_per_epoch=11,
                                                    anneal_strategy="linear", three_phase=True),
    "CyclicLR": lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=[0.1, 0.3], step_size_up=4, step_size_down=7),
    "CyclicLR_triangular2": lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=5, mode="triangular2"),
    "CyclicLR_exp_range": lambda m, o: m.CyclicLR(o, [0.01, 0.02], 0.1, step_size_up=3, mode="exp_range",
                                                  gamma=0.97, base_momentum=0.7, max_momentum=0.95),
    "CyclicLR_scale_fn": lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=6, scale_fn=lambda x: 0.5 + 0.5 / (x + 1),
                                                 scale_mode="iterations", cycle_momentum=False),
    "CosineAnnealingWarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2, eta_min=0.01),
    "SequentialLR": lambda m, o: m.SequentialLR(o, [m.LinearLR(o, 0.1, total_iters=5),
                                                    m.ExponentialLR(o, 0.9)], milestones=[5]),
    "ChainedScheduler": lambda m, o: m.ChainedScheduler([m.ConstantLR(o, 0.3, total_iters=4),
                                                         m.ExponentialLR(o, 0.95)]),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_matches_torch(name):
    _run(SCHEDULES[name], momentum=0.9)


def test_onecycle_cycles_momentum_and_adam_beta1():
    o, t, _, _ = _run(lambda m, o: m.OneCycleLR(o, max_lr=0.5, total_steps=40), steps=39, momentum=0.9)
    assert [g["momentum"] for g in o.param_groups] == [g["momentum"] for g in t.param_groups]
    o, t, _, _ = _run(lambda m, o: m.OneCycleLR(o, max_lr=0.5, total_steps=40), steps=39, opt="Adam")
    assert [g["betas"] for g in o.param_groups] == [tuple(g["betas"]) for g in t.param_groups]


def test_cyclic_cycles_momentum_and_adam_beta1_and_resumes():
    make = lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=5)   # noqa: E731
    o, t, so, _ = _run(make, steps=23, momentum=0.9)
    assert [g["momentum"] for g in o.param_groups] == [g["momentum"] for g in t.param_groups]
    o, t, _, _ = _run(lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=5, mode="triangular2"), steps=23, opt="Adam")
    assert [g["betas"] for g in o.param_groups] == [tuple(g["betas"]) for g in t.param_groups]
    with pytest.raises(ValueError, match="momentum or beta1"):
        ours.CyclicLR(_pair("Adagrad")[0], 0.01, 0.1)
    fresh, _ = _pair(momentum=0.9)
    fresh.load_state_dict(_pair(momentum=0.9)[0].state_dict())
    resumed = make(ours, fresh)
    resumed.load_state_dict(so.state_dict())
    for _ in range(3):
        so.step()
        resumed.step()
    assert resumed.get_last_lr() == so.get_last_lr()


def test_onecycle_past_total_steps_raises():
    o, _ = _pair()
    s = ours.OneCycleLR(o, max_lr=1.0, total_steps=3)
    for _ in range(3):
        s.step()
    with pytest.raises(ValueError, match="Tried to step 4 times"):
        s.step()


@pytest.mark.parametrize("kw", [dict(), dict(mode="max", threshold_mode="abs", threshold=0.1, cooldown=2),
                                dict(patience=2, factor=0.5, min_lr=[0.01, 0.02])])
def test_reduce_on_plateau_matches_torch(kw):
    metric = (lambda i: math.sin(i / 3.0) + 0.01 * (i % 5)) if kw.get("mode") == "max" else \
        (lambda i: 1.0 / (1 + i) if i < 10 else 0.1 + 0.001 * (i % 3))
    _run(lambda m, o: m.ReduceLROnPlateau(o, **kw), steps=80, metric=metric)


def test_step_with_epoch_uses_closed_form():
    o, t = _pair()
    so, st = ours.StepLR(o, 4, 0.5), torch.optim.lr_scheduler.StepLR(t, 4, 0.5)
    with pytest.warns(UserWarning, match="epoch parameter"):
        so.step(9)
    with pytest.warns(UserWarning):
        st.step(9)
    assert so.get_last_lr() == st.get_last_lr()


def test_state_dict_round_trip_and_resume():
    o, _ = _pair()
    s = ours.CosineAnnealingLR(o, T_max=10)
    for _ in range(4):
        s.step()
    sd = s.state_dict()
    assert "optimizer" not in sd and sd["last_epoch"] == 4
    o2, _ = _pair()
    o2.load_state_dict(o.state_dict())
    assert [g["initial_lr"] for g in o2.param_groups] == [0.1, 0.2]
    s2 = ours.CosineAnnealingLR(o2, T_max=10, last_epoch=3)
    s2.load_state_dict(sd)
    for _ in range(5):
        s.step()
        s2.step()
        assert s.get_last_lr() == s2.get_last_lr()


def test_resume_without_initial_lr_raises():
    o, _ = _pair()
    with pytest.raises(KeyError, match="initial_lr"):
        ours.StepLR(o, 3, last_epoch=5)


def test_not_an_optimizer_raises():
    with pytest.raises(TypeError, match="is not an Optimizer"):
        ours.StepLR([1, 2], 3)


def test_scheduler_changes_what_the_optimizer_uses():
    p = ts.Tensor(np.array([1.0]), requires_grad=True)
    o = optim.SGD([p], lr=1.0)
    s = ours.StepLR(o, step_size=1, gamma=0.5)
    for lr in (1.0, 0.5, 0.25):
        p.grad = ts.Tensor(np.array([1.0]))
        before = p.numpy().copy()
        o.step()
        assert np.allclose(before - p.numpy(), lr)
        s.step()


def test_warm_restarts_fractional_epochs_match_torch():
    o, t = _pair()
    so = ours.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2)
    st = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(t, T_0=3, T_mult=2)
    for epoch in range(8):
        for i in range(4):
            so.step(epoch + i / 4)
            st.step(epoch + i / 4)
            assert so.get_last_lr() == st.get_last_lr()
