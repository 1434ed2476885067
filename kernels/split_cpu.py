"""Whether a call splits over the kernels' threads: a per-machine decision (tuning.decide
"threads"), per family of calls, operation, class of size (the next power of two), dtype and
thread count, measured on the call itself the first time its class is met.

The families and the thresholds that are their default rules (tuning.py says where each
threshold's figures came from):

    rows         row-wise ops (kernels/rows_cpu.py)            ROWS_SPLIT_MIN_ELEMENTS (elements)
    elementwise  activations (kernels/elementwise_cpu.py)      ELEMENTWISE_SPLIT_NS (ns of one thread's work)
    optim        optimizer steps (optim/fused_steps.py)        OPTIM_SPLIT_MIN_ELEMENTS (elements)
    embedding    embedding gradients (embedding_grad.py)       EMBEDDING_SPLIT_MIN_ELEMENTS (table elements)
    gemm         the engine's products (kernels/gemm_cpu.py)   SPLIT_MIN_MACS (multiply-adds)
                 and the recurrent kernels' input projection and weight gradients (blas_cpu,
                 weight_grads_cpu: ops input_projection, weight_gradients)

Each threshold prices handing part of a call to another thread against the time it saves; both
are the machine's and its load's (a kernel call's thread set-up and hand-off took 30-60 us on an
AMD EPYC Zen 3 KVM guest, 512 KiB L2, 32 MiB L3, numpy matmul 160-190 GFLOP/s, load 1-3,
2026-12-06; 10-14 us on a quiet Zen 4, 1 MiB L2, about 200 GFLOP/s, 2026-12-02; memory-bound calls gain little
from a second core where the cores share their bandwidth). So the classes from
SPLIT_MEASURED[family][0] up to SPLIT_MEASURED[family][1] are measured here: the call runs on one
thread and split, alternately (calibration.calibrate), each sample repeated to at least
CALIBRATE_SPLIT_SAMPLE_S. Outside that range the rule decides (below it, with the default
thresholds, one thread). A decision costs about 2 us a call (remembered per class).

Nothing is measured in mode off (the test suite), on one thread (ts.set_num_threads(1): a split
is one chunk), where TINYGRAD_SEQ_TUNE_<THRESHOLD> forces the rule, in a kernel's chunk or inside
another calibration: those take a decision this process has read already, else the rule (as
blas_cpu.swap_rows). TINYGRAD_SEQ_TUNE_THREADS=one|all forces
every family's measured classes. Imports only numpy and the kernels' tuning modules."""
import time

import numpy as np

from . import calibration, tuning, workers_cpu
from .numba_threads import num_threads

# each family's threshold (a tuning setting): its default rule splits calls of at least that size
FAMILY_THRESHOLDS = {"rows": "ROWS_SPLIT_MIN_ELEMENTS", "elementwise": "ELEMENTWISE_SPLIT_NS",
                     "optim": "OPTIM_SPLIT_MIN_ELEMENTS", "embedding": "EMBEDDING_SPLIT_MIN_ELEMENTS",
                     "gemm": "SPLIT_MIN_MACS"}
_memo = {}   # (family, op, class, dtype, threads, threshold, environment, forgets) -> (split, final)


def splits(family, op, size, dtype, run_one, run_split):
    """Whether a call of ``op`` (a name: the kernel's) in ``family``, ``size`` (the family's
    unit) large, of ``dtype``, runs split over the threads. run_one() and run_split() run the
    call on one thread and split: they are called only to measure, so each must leave the same
    result (write the call's output, or work on copies)."""
    return _decision(family, op, size, dtype, (run_one, run_split))


def split_known(family, op, size, dtype):
    """splits' answer without measuring: a decision this process holds, else the rule."""
    return _decision(family, op, size, dtype, None)


def _decision(family, op, size, dtype, runs):
    name = FAMILY_THRESHOLDS[family]
    threshold = tuning.setting(name)
    lo, hi = tuning.SPLIT_MEASURED[family]
    threads = num_threads()
    # outside the measured classes, on one thread (ts.set_num_threads(1): a split would be one
    # chunk, and a measurement of it noise), or with the threshold forced: the rule
    if size < lo or size >= hi or threads < 2 or tuning.is_forced(name):
        return size >= threshold
    state = tuning.state()
    cls = 1 << max(int(size) - 1, 0).bit_length()
    num = dtype.num if isinstance(dtype, np.dtype) else np.dtype(dtype).num
    # (the key leaves out the generation, which any decision bumps; forget() changes forgotten)
    key = (family, op, cls, num, threads, threshold, state[:-2], state[-1], tuning.forgotten[0])
    entry = _memo.get(key)
    if entry is not None and (entry[1] or runs is None):
        return entry[0]
    if tuning.mode() == "off":
        return size >= threshold
    rule = "all" if size >= threshold else "one"
    candidates = [{"threads": rule}, {"threads": "one" if rule == "all" else "all"}]
    shape_class = dict(family=family, op=op, size=cls, dtype=np.dtype(dtype).name, threads=threads)
    if runs is None or workers_cpu.in_chunk() or calibration.calibrating():
        choice = tuning.recorded("threads", shape_class, candidates)
        split = (choice or tuning.forced(candidates)[0])["threads"] == "all"
        if not calibration.calibrating() and choice is not None:
            _memo[key] = (split, True)
        return split
    split = tuning.decide("threads", shape_class, candidates, _measure(*runs))["threads"] == "all"
    _memo[key] = (split, True)
    return split


def _measure(run_one, run_split):
    """decide's measure: a candidate's time a call, over `reps` runs of it, reps set by the first
    candidate's second run so that a sample lasts CALIBRATE_SPLIT_SAMPLE_S (one 20 us call is
    below the clock's noise on a busy host)."""
    reps = []

    def measure(candidate, timer):
        run = run_split if candidate["threads"] == "all" else run_one
        if not reps:
            run()   # compiles, warms
            start = time.perf_counter()
            run()
            took = time.perf_counter() - start
            reps.append(max(1, min(1000, int(tuning.setting("CALIBRATE_SPLIT_SAMPLE_S") / max(took, 1e-7)) + 1)))

        def runs():
            for _ in range(reps[0]):
                run()
        return calibration.timed(runs, timer) / reps[0]   # a call's time (the wisdom file's ms)
    return measure
