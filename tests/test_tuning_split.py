"""Whether a row-wise, elementwise, optimizer, embedding-gradient or engine-product call splits
over the kernels' threads is a calibrated decision per family, op, class of size and dtype
(kernels/split_cpu.py); the tuning thresholds (ROWS_SPLIT_MIN_ELEMENTS, ...) are only the default
rules. Whatever the decision, and while it is measured, the call's result is the same."""
import json

import numpy as np
import pytest
import torch

import tinygrad_seq as ts
from tinygrad_seq import embedding_grad
from tinygrad_seq.kernels import elementwise_cpu, gemm_cpu, rows_cpu, split_cpu, tuning, workers_cpu
from tinygrad_seq.optim import fused_steps

from test_tuning import auto  # noqa: F401  (the fixture)

ROWS_THRESHOLD = tuning.ROWS_SPLIT_MIN_ELEMENTS


@pytest.fixture
def fake_split_times(monkeypatch):
    """The split measured faster from 2^16 elements (the rows rule: 2^18); the classes measured."""
    monkeypatch.setattr(split_cpu, "_memo", {})
    monkeypatch.setattr(split_cpu, "num_threads", lambda: 2)   # a machine of two threads
    measured = []

    def measure(run_one, run_split):
        def run(candidate, timer):
            size = measuring[0]
            if size not in measured:
                measured.append(size)
            return 1.0 if (candidate["threads"] == "all") == (size >= 1 << 16) else 2.0
        return run
    measuring = [None]
    real = split_cpu._decision

    def decision(family, op, size, dtype, runs):
        measuring[0] = 1 << max(int(size) - 1, 0).bit_length()
        return real(family, op, size, dtype, runs)
    monkeypatch.setattr(split_cpu, "_measure", measure)
    monkeypatch.setattr(split_cpu, "_decision", decision)
    return measured


def never(*_):
    raise AssertionError("run while deciding")


def test_the_split_is_decided_per_class(auto, fake_split_times):
    def ask(size):
        return split_cpu.splits("rows", "softmax", size, np.float32, never, never)
    assert ask(1 << 16) and ask(100000)           # below the rule's 2^18: measured faster split
    assert not ask(1 << 15)                        # measured: one thread
    assert ask(1 << 19)                            # the rule's choice, measured too
    assert not ask(1 << 13)                        # below the measured range: one thread, not measured
    assert ask(1 << 30)                            # above it: the rule, not measured
    assert fake_split_times == [1 << 16, 1 << 17, 1 << 15, 1 << 19]
    fake_split_times.clear()
    assert ask(70000)                              # class 2^17 again: remembered
    assert fake_split_times == []
    table = json.load(open(tuning.wisdom_path()))["decisions"]
    record = table["threads|dtype=float32|family=rows|op=softmax|size=65536|threads=2"]
    assert record["default"] == "threads=one" and record["choice"] == {"threads": "all"}
    assert "threads|dtype=float32|family=rows|op=softmax|size=524288|threads=2" in table
    # another op, dtype or family is another decision
    assert split_cpu.splits("rows", "layer_norm", 1 << 16, np.float64, never, never)
    assert fake_split_times == [1 << 16]


def test_forced_by_the_threshold_or_the_threads_variable(auto, fake_split_times, monkeypatch):
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_ROWS_SPLIT_MIN_ELEMENTS", "0")
    assert split_cpu.splits("rows", "softmax", 1 << 15, np.float32, never, never)
    monkeypatch.delenv("TINYGRAD_SEQ_TUNE_ROWS_SPLIT_MIN_ELEMENTS")
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_THREADS", "one")
    assert not split_cpu.splits("rows", "softmax", 1 << 20, np.float32, never, never)
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_THREADS", "all")
    assert split_cpu.splits("rows", "softmax", 1 << 15, np.float32, never, never)
    assert fake_split_times == []
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_THREADS", "some")
    with pytest.raises(ValueError, match="TINYGRAD_SEQ_TUNE_THREADS='some': expected one of one, all"):
        split_cpu.splits("rows", "softmax", 1 << 15, np.float32, never, never)


def test_with_tuning_off_the_rule_decides(monkeypatch, fake_split_times):
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE", "off")
    sizes = (1 << 14, ROWS_THRESHOLD - 1, ROWS_THRESHOLD, 1 << 22)
    assert [split_cpu.splits("rows", "softmax", s, np.float32, never, never) for s in sizes] == [False, False, True, True]
    monkeypatch.setattr(tuning, "ROWS_SPLIT_MIN_ELEMENTS", 0)   # a patched threshold is the rule
    assert split_cpu.splits("rows", "softmax", 1 << 14, np.float32, never, never)
    assert fake_split_times == []


def test_a_chunk_never_measures(auto, fake_split_times, monkeypatch):
    """A kernel's chunk takes a decision already held, else the rule (its caller may hold the
    tuning lock inside a calibration)."""
    monkeypatch.setattr(workers_cpu, "in_chunk", lambda: True)
    assert not split_cpu.splits("rows", "softmax", 1 << 16, np.float32, never, never)   # the rule
    assert fake_split_times == []
    monkeypatch.setattr(workers_cpu, "in_chunk", lambda: False)
    assert split_cpu.splits("rows", "softmax", 1 << 16, np.float32, never, never)       # measured now
    monkeypatch.setattr(workers_cpu, "in_chunk", lambda: True)
    assert split_cpu.splits("rows", "softmax", 1 << 16, np.float32, never, never)       # and known


@pytest.fixture
def measured_for_real(auto, monkeypatch):
    """Real measurements, short: two rounds, samples of 0.1 ms."""
    monkeypatch.setattr(split_cpu, "_memo", {})
    monkeypatch.setattr(tuning, "CALIBRATE_REPEATS", 2)
    monkeypatch.setattr(tuning, "CALIBRATE_SPLIT_SAMPLE_S", 1e-4)
    return auto


def _measured(family):
    return [k for k in tuning.decisions() if k.startswith("threads|") and f"family={family}|" in k]


def assert_measured(family, count=None, ops=()):
    """The family's classes were measured (count of them, ops among them); on a machine of one
    thread, where a split is one chunk, that nothing was."""
    keys = _measured(family)
    if split_cpu.num_threads() < 2:
        assert keys == []
        return
    assert keys and (count is None or len(keys) == count)
    assert set(ops) <= {k.split("|op=")[1].split("|")[0] for k in keys}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_measured_row_and_elementwise_calls_give_their_results(measured_for_real, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 512)).astype(dtype)    # 2^15 elements: a measured class
    assert np.allclose(rows_cpu.softmax(x), torch.softmax(torch.from_numpy(x), -1).numpy(), rtol=1e-5, atol=1e-7)
    g = rng.standard_normal(x.shape).astype(dtype)
    out, mean, rstd = rows_cpu.layer_norm(x, None, None, 1e-5)
    dx, dw, db = rows_cpu.layer_norm_backward(g, x, mean, rstd, None, True, False, False)
    tx = torch.from_numpy(x).requires_grad_()
    ref = torch.nn.functional.layer_norm(tx, (512,), eps=1e-5)
    ref.backward(torch.from_numpy(g))
    assert np.allclose(out, ref.detach().numpy(), rtol=1e-4, atol=1e-5)
    assert np.allclose(dx, tx.grad.numpy(), rtol=1e-4, atol=1e-4)
    assert_measured("rows", 3)
    y = rng.standard_normal(1 << 16).astype(dtype)
    assert np.allclose(elementwise_cpu.sigmoid(y), torch.sigmoid(torch.from_numpy(y)).numpy(), rtol=1e-5, atol=1e-7)
    assert_measured("elementwise")


def test_a_measured_optimizer_step_updates_once(measured_for_real):
    """The step is measured on copies: the parameter and its state take exactly one step."""
    rng = np.random.default_rng(1)
    n = 1 << 17
    p0, g = rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)
    p, m, v = p0.copy(), np.zeros(n, np.float32), np.zeros(n, np.float32)
    group = dict(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False)
    assert fused_steps.adam_step(p, g, m, v, None, 1, group)
    tp = torch.from_numpy(p0.copy()).requires_grad_()
    opt = torch.optim.Adam([tp], lr=1e-2)
    tp.grad = torch.from_numpy(g)
    opt.step()
    assert np.allclose(p, tp.detach().numpy(), rtol=1e-6, atol=1e-7)
    assert np.allclose(m, opt.state[tp]["exp_avg"].numpy(), rtol=1e-6, atol=1e-8)
    assert_measured("optim")


def test_measured_embedding_gradients_and_products(measured_for_real):
    rng = np.random.default_rng(2)
    idx = rng.integers(0, 5000, 300)
    g = rng.standard_normal((300, 256)).astype(np.float32)      # a 5000 x 256 table: 2^20.3 elements
    out = embedding_grad.embedding_grad_cpu((5000, 256), idx, g, 3)
    ref = np.zeros((5000, 256), np.float32)
    np.add.at(ref, idx, g)
    ref[3] = 0
    assert np.allclose(out, ref, rtol=1e-5, atol=1e-6)
    assert_measured("embedding")
    a = rng.standard_normal((512, 64))
    b = rng.standard_normal((64, 64))                            # 2^21 multiply-adds, 512 rows
    assert np.allclose(gemm_cpu.matmul(a, b), a @ b)
    assert np.allclose(gemm_cpu.matmul(a.T.copy().T, b), a @ b)
    xt = rng.standard_normal((512, 300)).T                       # x^T @ g, 512 rows of x: by K
    assert np.allclose(gemm_cpu.matmul(xt, rng.standard_normal((512, 64))).shape, (300, 64))
    assert_measured("gemm", ops=("rows", "k"))


def test_measured_kernel_products_give_the_same_layer_results(measured_for_real):
    """The recurrent kernels' input projection and weight gradients ask split_cpu too (op
    input_projection / weight_gradients): measured on the call, the results stay torch's."""
    from tinygrad_seq import nn
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(32, 32)
    ours = nn.LSTM(32, 32)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(3).standard_normal((50, 16, 32)).astype(np.float32)   # 2^21.6 and 2^23.2 MACs
    xt, xo = torch.tensor(x, requires_grad=True), ts.tensor(x, requires_grad=True)
    yt, _ = theirs(xt)
    yo, _ = ours(xo)
    yt.sum().backward()
    yo.sum().backward()
    np.testing.assert_allclose(yo.detach().numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours.weight_hh_l0.grad.numpy(), theirs.weight_hh_l0.grad.numpy(), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(ours.weight_ih_l0.grad.numpy(), theirs.weight_ih_l0.grad.numpy(), rtol=1e-3, atol=1e-4)
    assert_measured("gemm", ops=("input_projection", "weight_gradients"))


def test_forget_and_a_forced_threshold_reach_a_remembered_class(auto, fake_split_times, monkeypatch):
    assert split_cpu.splits("rows", "softmax", 1 << 16, np.float32, never, never)
    tuning.forget()                                   # the remembered decision goes with the file's
    fake_split_times.clear()
    assert split_cpu.splits("rows", "softmax", 1 << 16, np.float32, never, never)
    assert fake_split_times == [1 << 16]              # measured again
    monkeypatch.setenv("TINYGRAD_SEQ_TUNE_ROWS_SPLIT_MIN_ELEMENTS", str(ROWS_THRESHOLD))   # the default, forced
    assert not split_cpu.splits("rows", "softmax", 1 << 16, np.float32, never, never)


def test_one_thread_measures_nothing(auto, fake_split_times, monkeypatch):
    """With ts.set_num_threads(1) a split is one chunk: nothing to measure, nothing written."""
    monkeypatch.setattr(split_cpu, "num_threads", lambda: 1)
    assert not split_cpu.splits("rows", "softmax", 1 << 16, np.float32, never, never)   # the rule
    assert split_cpu.splits("rows", "softmax", 1 << 19, np.float32, never, never)
    assert fake_split_times == [] and not [k for k in tuning.decisions() if k.startswith("threads|")]
