"""Tensor.share_memory_ / Module.share_memory (shared_memory.py): Hogwild / A3C workers started
by fork write a shared model in place and the parent sees it, as torch's. They returned the
tensor unchanged: the workers trained copies and the parent's model never moved."""
import multiprocessing
import pickle

import numpy as np
import pytest

import tinygrad_seq as ts
import tinygrad_seq.nn as nn

fork = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")


def _run(ctx, target, *args):
    p = ctx.Process(target=target, args=args)
    p.start()
    p.join(30)
    assert p.exitcode == 0


def _add_one(m):
    with ts.no_grad():
        m.weight.add_(1.0)


def _a3c_step(shared, seed):
    ts.manual_seed(seed)
    local = nn.LSTM(3, 4)
    local.load_state_dict(shared.state_dict())
    local(ts.randn(5, 2, 3))[0].sum().backward()
    opt = ts.optim.SGD(shared.parameters(), lr=0.1)
    for lp, sp in zip(local.parameters(), shared.parameters()):
        sp._grad = lp.grad
    opt.step()


@fork
def test_a_fork_started_worker_writes_reach_the_shared_module():
    ctx = multiprocessing.get_context("fork")
    m = nn.Linear(2, 1)
    before = m.weight.detach().clone()
    assert m.share_memory() is m and m.weight.is_shared() and m.bias.is_shared()
    _run(ctx, _add_one, m)
    np.testing.assert_allclose(m.weight.detach().numpy(), before.numpy() + 1.0)


@fork
def test_hogwild_optimizer_steps_in_workers_move_the_parents_lstm():
    ctx = multiprocessing.get_context("fork")
    ts.manual_seed(0)
    shared = nn.LSTM(3, 4).share_memory()
    before = [p.detach().clone() for p in shared.parameters()]
    for seed in (1, 2):
        _run(ctx, _a3c_step, shared, seed)
    moved = [float((p - b).abs().sum()) for p, b in zip(shared.parameters(), before)]
    assert all(d > 0 for d in moved)


def test_share_memory_keeps_values_dtype_and_grad_and_is_idempotent():
    x = ts.arange(6, dtype=ts.float64).reshape(2, 3).t()
    assert not x.is_shared()
    y = x.share_memory_()
    assert y is x and x.is_shared() and x.dtype == ts.float64
    np.testing.assert_array_equal(x.numpy(), np.arange(6.0).reshape(2, 3).T)
    arr = x.array
    assert x.share_memory_().array is arr
    lin = nn.Linear(2, 2)
    lin(ts.ones(1, 2)).sum().backward()
    lin.share_memory()
    assert lin.weight.grad.is_shared()


def test_pickling_a_shared_tensor_to_another_process_raises_plain_pickle_copies():
    t = ts.ones(3).share_memory_()
    with pytest.raises(RuntimeError, match="shared memory"):
        multiprocessing.reduction.ForkingPickler.dumps(t)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(t)).numpy(), np.ones(3))   # torch.save's path: values
    multiprocessing.reduction.ForkingPickler.dumps(ts.ones(3))   # an unshared one pickles by value
