"""The generated cell kernels on "cuda": in Numba's CUDA simulator against the CPU (tiny shapes,
both dtypes, lengths, bidirectional, hx), and compiled to PTX for sm_90 / sm_80 without a GPU."""
import functools
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq import cell_library, nn
from tinygrad_seq.nn import variants

# every built-in cell beside PyTorch's four (from tinygrad_seq/cell_library.py) through the layer that
# runs it; indrnn_tanh differs from indrnn_relu only in its activation
MAKERS = {name: functools.partial(variants.layer_for, name)
          for name in sorted(set(cell_library.CELLS) - {"rnn_tanh", "rnn_relu", "lstm", "gru", "indrnn_tanh"})}
MAKERS["lstm_zoneout"] = lambda *a, **k: nn.LSTM(*a, zoneout=0.3, **k)


# (cell, dtype, bidirectional): tiny, the simulator runs a Python thread per CUDA thread
CASES = [(name, np.float64, name == "peephole_lstm") for name in sorted(MAKERS)] + [("peephole_lstm", np.float32, False)]


@pytest.mark.cuda
@pytest.mark.parametrize("name,dtype,bidirectional", CASES)
def test_generated_cuda_matches_cpu(name, dtype, bidirectional, monkeypatch):
    import tinygrad_seq.kernels.cell_cuda as cell_cuda
    calls = []
    forward = cell_cuda.cell_forward
    monkeypatch.setattr(cell_cuda, "cell_forward", lambda *a: calls.append(1) or forward(*a))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2, 2)).astype(dtype)
    n_states = 2 if "lstm" in name else 1
    dirs = 2 if bidirectional else 1
    hx = [rng.standard_normal((dirs, 2, 3)).astype(dtype) for _ in range(n_states)]
    got = []
    for device in ("cpu", "cuda"):
        layer = MAKERS[name](2, 3, bidirectional=bidirectional, dtype=dtype)
        layer.load_state_dict({k: np.random.default_rng(1).uniform(-0.8, 0.8, v.shape)
                               for k, v in layer.state_dict().items()})
        layer = layer.to(device).eval()
        xt = ts.Tensor(x, requires_grad=True, device=device)
        ht = [ts.Tensor(h, requires_grad=True, device=device) for h in hx]
        out, st = layer(xt, ht[0] if n_states == 1 else tuple(ht), lengths=[3, 2])
        finals = st if isinstance(st, tuple) else (st,)
        (out * out).sum().backward() if n_states == 1 else ((out * out).sum() + finals[1].sum()).backward()
        got.append([out.numpy()] + [f.numpy() for f in finals] + [xt.grad.numpy()] + [h.grad.numpy() for h in ht]
                   + [p.grad.numpy() for p in layer.parameters()])
    assert calls, "the generated CUDA kernels did not run"
    tol = dict(rtol=1e-9, atol=1e-12) if dtype == np.float64 else dict(rtol=2e-4, atol=2e-5)
    for i, (a, b) in enumerate(zip(*got)):
        np.testing.assert_allclose(a, b, err_msg=f"{name}: value/gradient {i}", **tol)


_SCRIPT = r"""
import json, re, sys
import numba.cuda.dispatcher as dispatcher

class _Device:
    compute_capability = (9, 0)

dispatcher.get_current_device = lambda: _Device()
from numba import cuda
from tinygrad_seq import cell_library, cellgen
from tinygrad_seq.kernels.cell_cuda import stage_signatures
rows = []
for name in sys.argv[1:]:
    for dtype in ("float32", "float64"):
        mod = cellgen.fused_kernel(cell_library.CELLS[name], 0, "cuda", dtype)
        for kernel, sig in zip((mod.forward_stage, mod.backward_stage), stage_signatures(dtype)):
            for cc in ((9, 0), (8, 0)):
                _Device.compute_capability = cc
                ptx, _ = cuda.compile_ptx(kernel.py_func, sig, cc=cc, fastmath=True)
                f64 = dtype == "float32" and bool(re.search(r"\b(add|sub|mul|fma|div)\.\S*f64", ptx))
                rows.append(dict(name=name, dtype=dtype, cc=cc, entry=".entry" in ptx, f64=f64))
print("RESULTS" + json.dumps(rows))
"""


@pytest.mark.slow
def test_generated_kernels_compile_to_ptx():
    pytest.importorskip("numba_cuda")
    cells = ["peephole_lstm", "layernorm_lstm", "gru_reset_before", "indrnn_relu"]
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    p = subprocess.run([sys.executable, "-c", _SCRIPT] + cells, env=env, capture_output=True, text=True, timeout=1200)
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULTS")]
    assert p.returncode == 0 and line, p.stderr[-3000:]
    rows = json.loads(line[0][len("RESULTS"):])
    assert len(rows) == len(cells) * 2 * 2 * 2
    for row in rows:
        assert row["entry"], row
        assert not row["f64"], f"float64 arithmetic in a float32 kernel: {row}"
