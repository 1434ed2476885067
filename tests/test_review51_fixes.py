"""Fixes from the review and the recurrent edge audit of 2026-12-06 (stop 50): double backward
through a generated cell's fused call (its description's step, recomposed), torch's node name
for it, view(dtype) of a binary op's result laid out as torch's, results with a size-1 dim left
viewable, pow / maximum laid out as torch's, and the compile worker's pipes closed in a forked
child."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import torch

import tinygrad_seq as ts
from tinygrad_seq import nn


@pytest.mark.parametrize("make", [
    lambda f: nn.LSTM(3, 4, zoneout=0.2, fused=f),
    lambda f: nn.PeepholeLSTM(3, 4, fused=f),
    lambda f: nn.GRU(3, 4, reset_after=False, fused=f, bidirectional=True),
    lambda f: nn.IndRNN(3, 4, fused=f, num_layers=2),
    lambda f: nn.LayerNormGRU(3, 4, fused=f),
], ids=["lstm_zoneout", "peephole", "gru_reset_before", "indrnn", "layernorm_gru"])
def test_double_backward_through_a_generated_cell(make):
    # the fused call's create_graph backward recomposes the step of the cell's description: second
    # derivatives equal those through the unfused composition
    results = []
    for fused in (False, True):
        ts.manual_seed(0)
        layer = make(fused).double().eval()
        x = ts.tensor(np.random.RandomState(0).randn(5, 2, 3), requires_grad=True)
        g, = ts.autograd.grad((layer(x)[0] ** 2).sum(), x, create_graph=True)
        g.sum().backward()
        results.append((x.grad.numpy(), [p.grad.numpy() for p in layer.parameters()]))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-9, atol=1e-12)
    for fused_grad, plain_grad in zip(results[1][1], results[0][1]):
        np.testing.assert_allclose(fused_grad, plain_grad, rtol=1e-9, atol=1e-12)


def test_a_generated_cells_outputs_are_torchs_stack_nodes():
    y, (h, c) = nn.PeepholeLSTM(3, 4)(ts.randn(4, 2, 3))
    assert y.grad_fn.name() == h.grad_fn.name() == c.grad_fn.name() == "StackBackward0"


@pytest.mark.parametrize("lib", [torch, ts], ids=["torch", "ours"])
def test_dtype_view_of_a_transposed_product_shares_memory(lib):
    x = lib.arange(12.0).reshape(3, 4)
    r = x.t() * lib.ones(4, 3)
    v = r.view(lib.int32)
    assert v.stride() == (1, 4)
    v.zero_()
    assert float(r.sum()) == 0.0
    with pytest.raises(RuntimeError):
        r.view(lib.float16)


@pytest.mark.parametrize("lib", [torch, ts], ids=["torch", "ours"])
def test_pow_and_maximum_take_the_first_operands_layout(lib):
    x, y = lib.rand(3, 4) + 0.5, lib.rand(4, 3) + 0.5
    assert (x.t() ** y).stride() == (1, 4)
    assert lib.maximum(x.t(), y).stride() == (1, 4)


def test_a_result_with_a_size_one_dim_stays_viewable():
    # torch orders such dims by strides numpy does not keep: numpy's layout, and view() copies
    # rather than raise where torch's would not
    a = ts.ones(2, 1, 1, 4).permute(3, 1, 2, 0)
    b = ts.ones(4, 1, 4, 1).expand(4, 1, 4, 2)
    assert (a / b).view(-1).shape == (32,)


def test_a_forked_child_does_not_keep_the_compile_worker_alive(tmp_path):
    # the worker exits when its input ends: the parent's copy closes when it dies, and a forked
    # child's copy is closed at the fork
    script = textwrap.dedent("""
        import os, time, signal
        import numpy as np
        import tinygrad_seq as ts
        from tinygrad_seq.kernels import background_compile as bc
        x = ts.tensor(np.random.default_rng(0).standard_normal((3, 2, 4)), requires_grad=True)
        y, _ = ts.nn.LSTM(4, 4, dtype=np.float64)(x)
        y.sum().backward()
        print("WORKER", bc._worker.process.pid if bc._worker else -1, flush=True)
        if os.fork() == 0:
            os.close(1)
            os.close(2)
            time.sleep(20)
            os._exit(0)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    from tinygrad_seq.kernels import background_compile
    if background_compile.usable_cores() < 2 or not hasattr(os, "fork"):
        pytest.skip("no worker without a second core")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"), TINYGRAD_SEQ_TUNE_BACKGROUND_COMPILE="1")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    pid = int([l for l in out.stdout.splitlines() if l.startswith("WORKER")][0].split()[1])
    assert pid > 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        if open(f"/proc/{pid}/stat").read().split()[2] == "Z":   # exited, not yet reaped
            break
        time.sleep(0.2)
    else:
        os.kill(pid, signal.SIGKILL)
        pytest.fail("the compile worker outlived its parent while a forked child lived")


@pytest.mark.parametrize("lengths", [[5, 1], [0, 2], [-1, 2], [2]])
def test_a_bad_length_is_a_runtime_error_as_packings(lengths):
    with pytest.raises(RuntimeError, match="lengths"):
        nn.LSTM(2, 3)(ts.randn(4, 2, 2), lengths=lengths)
