"""tinygrad_seq.malloc_tuning: glibc's malloc keeps freed memory, so that a step's temporaries
are reused without page faults; TINYGRAD_SEQ_MALLOC=system leaves it alone."""
import os
import subprocess
import sys

import pytest

from tinygrad_seq import malloc_tuning

_PROBE = r"""
import resource, numpy as np
import tinygrad_seq
from tinygrad_seq import malloc_tuning
def step():   # a step's temporaries: eight of 3 MiB alive at once, written, then freed
    bufs = [np.empty(768 * 1024, np.float32) for _ in range(8)]
    for b in bufs:
        b[:] = 1.0
    return sum(float(b[-1]) for b in bufs)
step(); step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print(malloc_tuning.applied, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _probe(mode):
    env = dict(os.environ, TINYGRAD_SEQ_MALLOC=mode)
    out = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    applied, faults = out.stdout.split()
    return applied == "True", int(faults)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: Linux only")
def test_freed_blocks_are_reused_without_page_faults():
    applied, faults = _probe("keep")
    if not applied:
        pytest.skip("this C library has no mallopt (not glibc)")
    assert faults < 200              # 20 steps of 8 x 768 pages, reused
    applied, faults = _probe("system")
    assert not applied
    assert faults > 20 * 1000        # glibc's defaults: the heap trimmed, fresh pages every step


def test_a_bad_setting_is_named(monkeypatch):
    monkeypatch.setattr(malloc_tuning, "applied", None)
    monkeypatch.setenv("TINYGRAD_SEQ_MALLOC", "jemalloc")
    with pytest.raises(ValueError, match="TINYGRAD_SEQ_MALLOC='jemalloc'"):
        malloc_tuning.keep_freed_memory()
