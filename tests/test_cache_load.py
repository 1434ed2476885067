"""kernels/cache_load.py: a fresh process runs its cached kernels without Numba's registry refresh,
and they compute what they compute after one (fresh processes over the test session's cache)."""
import os
import subprocess
import sys

import pytest
from numba.core import caching

from tinygrad_seq.kernels import cache_load, lstm_cpu, rnn_cpu

# a workload over the hand-written and generated recurrent kernels, the optimizer, row and
# elementwise kernels; prints a digest of every result and whether the registries were refreshed
WORKLOAD = r"""
import hashlib, sys
if sys.argv[1] == "refresh-first":
    from numba.core.registry import cpu_target
    cpu_target.target_context.refresh()
import numpy as np
import tinygrad_seq as ts
digest = hashlib.sha256()
rng = np.random.default_rng(0)
x = ts.tensor(rng.standard_normal((5, 3, 4)).astype(np.float32), requires_grad=True)
for layer in (ts.nn.LSTM(4, 6), ts.nn.GRU(4, 6), ts.nn.RNN(4, 6), ts.nn.PeepholeLSTM(4, 6)):
    for p in layer.parameters():
        p.data = ts.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.3)
    y, _ = layer(x)
    (y * y).sum().backward()
    opt = ts.optim.Adam(layer.parameters(), lr=0.01)
    opt.step()
    for t in (y, x.grad, *layer.parameters()):
        digest.update(t.detach().numpy().tobytes())
a = ts.tensor(rng.standard_normal((256, 300)).astype(np.float32))
for t in (a.softmax(-1), a.sigmoid(), a.tanh(), ts.nn.functional.layer_norm(a, (300,))):
    digest.update(t.numpy().tobytes())
from numba.core.registry import cpu_target
from tinygrad_seq.kernels import cache_load
print(digest.hexdigest(), len(cpu_target.target_context._registries) > 0, cache_load.quick_loads[0])
"""


def _run(mode):
    run = subprocess.run([sys.executable, "-c", WORKLOAD, mode], capture_output=True, text=True,
                         env=dict(os.environ), timeout=900)
    assert run.returncode == 0, run.stderr
    digest, refreshed, loads = run.stdout.split()
    return digest, refreshed == "True", int(loads)


needs_quick = pytest.mark.skipif(not cache_load._QUICK, reason="this Numba is outside cache_load.NUMBA_VERSIONS: "
                                                             "the kernels load through Numba's own cache")


@needs_quick
def test_cached_kernels_run_without_the_refresh_and_match_it():
    warm, _, _ = _run("plain")   # compiles whatever the session's cache lacks
    quick, refreshed, loads = _run("plain")
    control, control_refreshed, _ = _run("refresh-first")
    assert not refreshed   # nothing compiled: every kernel loaded without the refresh
    assert loads >= 10     # the recurrent, generated, Adam, row and elementwise kernels (13 on 2026-12-06)
    assert control_refreshed
    assert quick == warm == control


@needs_quick
def test_the_kernels_dispatchers_load_quickly():
    for dispatcher in (lstm_cpu._forward, lstm_cpu._backward, rnn_cpu._forward):
        assert type(dispatcher._cache) is cache_load.QuickLoadCache


def test_njit_without_cache_keeps_numbas_dispatcher():
    def twice(v):
        return 2 * v
    plain = cache_load.njit(twice)
    assert type(plain._cache) is not cache_load.QuickLoadCache and plain(3) == 6
    cached = cache_load.njit(cache=False)(twice)
    assert type(cached._cache) is not cache_load.QuickLoadCache
    assert issubclass(cache_load.QuickLoadCache, caching.FunctionCache)
