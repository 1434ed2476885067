"""Grad mode is per thread (issue 17): no_grad or a backward() in one thread never changes what
another thread records, and the in-place bookkeeping is safe under threads."""
import threading

import numpy as np

import tinygrad_seq as ts
from tinygrad_seq import nn, optim


def make_model(seed):
    ts.manual_seed(seed)
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3)).double() \
        if hasattr(nn, "Sequential") and hasattr(nn, "Tanh") else _Small(seed)


class _Small(nn.Module):
    def __init__(self, seed):
        super().__init__()
        self.a, self.b = nn.Linear(6, 16).double(), nn.Linear(16, 3).double()

    def forward(self, x):
        return self.b(self.a(x).tanh())


def train(model, seed, steps, log=None):
    """SGD steps on seeded data, with in-place writes in the graph; returns every step's grads."""
    rng = np.random.default_rng(seed)
    opt = optim.SGD(model.parameters(), lr=0.05)
    grads = []
    for _ in range(steps):
        x = ts.tensor(rng.standard_normal((8, 6)))
        h = model(x)
        h[:, 0] = h[:, 0] * 2       # item assignment and an in-place op, both recorded
        h.mul_(0.5)
        loss = (h * h).mean()
        if log is not None:
            log.append(loss.requires_grad)
        opt.zero_grad()
        loss.backward()
        grads.append([p.grad.numpy().copy() for p in model.parameters()])
        opt.step()
    return grads


def run_threads(*targets):
    errors = []

    def wrap(fn):
        def run():
            try:
                fn()
            except BaseException as e:  # reported by the test below
                errors.append(e)
        return run

    threads = [threading.Thread(target=wrap(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors


def test_two_threads_training_two_models_match_sequential_runs():
    expected = [train(make_model(s), s, 40) for s in (1, 2)]
    models = {s: make_model(s) for s in (1, 2)}   # built first: make_model seeds the global generator
    got = {}
    run_threads(lambda: got.__setitem__(1, train(models[1], 1, 40)),
                lambda: got.__setitem__(2, train(models[2], 2, 40)))
    for s, exp in zip((1, 2), expected):
        for step_got, step_exp in zip(got[s], exp):
            for a, b in zip(step_got, step_exp):
                np.testing.assert_array_equal(a, b)


def test_trainer_next_to_an_evaluator_under_no_grad_records_every_step():
    trainer, evaluator = make_model(3), make_model(4)
    stop, evaluating = threading.Event(), threading.Event()
    recorded, evals = [], []

    def evaluate():
        x = ts.randn(8, 6, dtype=ts.float64)
        while not stop.is_set():
            with ts.no_grad():
                evals.append(evaluator(x).requires_grad)
            evaluating.set()
            ts.set_grad_enabled(False)     # the function form, also this thread's only
            ts.set_grad_enabled(True)

    def fit():
        try:
            # the steps overlap the evaluations: a loaded host once ran all 60 before the
            # evaluator's first
            evaluating.wait(60)
            train(trainer, 3, 60, recorded)
        finally:
            stop.set()

    run_threads(evaluate, fit)
    assert len(recorded) == 60 and all(recorded)
    assert evals and not any(evals)
    assert ts.is_grad_enabled()


def test_backward_in_one_thread_does_not_switch_grad_mode_off_in_another():
    x = ts.ones(200, 50, dtype=ts.float64, requires_grad=True)
    flags, stop = [], threading.Event()

    def backwards():
        try:
            for _ in range(30):
                y = x
                for _ in range(20):
                    y = (y * 1.01).tanh()
                y.sum().backward()
        finally:
            stop.set()

    def forwards():
        while not stop.is_set():
            flags.append((x * 2).requires_grad and ts.is_grad_enabled())

    run_threads(backwards, forwards)
    assert flags and all(flags)


def test_no_grad_object_shared_by_threads_restores_each_threads_mode():
    shared = ts.no_grad()
    seen = []
    barrier = threading.Barrier(2)

    def worker():
        with shared:
            barrier.wait()
            seen.append(ts.is_grad_enabled())
            barrier.wait()
        seen.append(ts.is_grad_enabled())

    run_threads(worker, worker)
    assert seen.count(False) == 2 and seen.count(True) == 2
