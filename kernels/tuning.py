"""Every machine-dependent setting of the CPU kernels, with its default, in one place (as
stumpy's config.py). Kernels read the settings through this module at call time, so tests may
patch them (``monkeypatch.setattr(tuning, "PARALLEL_MIN_MACS", 0)``).

Two kinds:
- thresholds (the module constants below): the defaults were measured on an AMD EPYC (Zen 4, 2
  cores); ``TINYGRAD_SEQ_TUNE_<NAME>=value`` forces one (``setting(name)`` reads it);
- choices between alternative kernels for a shape class (how the time loop splits its work
  over threads, how the step product runs, how the weight gradients split): ``decide`` makes
  them by a short calibration the first time a shape class is met, measuring each alternative
  on this machine, and keeps the decision in a wisdom file (as FFTW does) next to Numba's cache,
  keyed by CPU model, instruction set and thread count. ``TINYGRAD_SEQ_TUNE_<PART>=value``
  forces a part of a choice (``TINYGRAD_SEQ_TUNE_SPLIT=units``).

Environment:
    TINYGRAD_SEQ_TUNE        auto (default): calibrate a shape class at its first call;
                             cached: use decisions on disk, never measure; off: defaults only,
                             nothing read or written (what the test suite runs with)
    TINYGRAD_SEQ_TUNE_DIR    folder of the wisdom file (default: beside Numba's cache of the
                             kernels, NUMBA_CACHE_DIR or kernels/__pycache__, else
                             ~/.cache/tinygrad_seq)
    TINYGRAD_SEQ_TUNE_<NAME> a setting's or a choice part's forced value

``python -m tinygrad_seq.tune`` redoes the calibration and prints what it chose and why.
Imports only the standard library, numpy and numba.
"""
import json
import os
import sys
import threading
import time
import warnings

# the environment and the machine a decision depends on (kernels/machine_cpu.py); tuning.getenv
# is the kernels' getenv
from .machine_cpu import getenv, machine, machine_key
from .calibration import calibrate, calibrating

# -- thresholds ---------------------------------------------------------------------------------

# kernel calls below this many multiply-adds run on one thread: a parallel region costs more
PARALLEL_MIN_MACS = 1 << 20
# The ONE_STEP_* thresholds are a one-step call's default rule; its shape class measures one thread
# against the split (steps_cpu.time_loop_plan). By default one-step calls (a decoder's step) below
# this many multiply-adds run on one thread: both threads would stream the whole weight matrices for
# half the rows each (measured when handing a chunk to another thread cost ~50-100 us). Measured
# (AMD EPYC, 2 cores, LSTM, T=1, fwd / bwd ms, one vs two threads): B=32 I=320 H=256 (19M) 0.65 /
# 1.02 vs 0.78 / 1.10; B=64 (38M) 1.59 / 2.16 vs 1.39 / 2.42; B=32 I=576 H=512 (71M) 4.6 / 7.2 vs 3.1 / 4.9
ONE_STEP_PARALLEL_MIN_MACS = 1 << 25
# an LSTM one-step call splits its gate units over the threads from this many multiply-adds: each
# thread projects and updates its own units, reading its share of W_ih and W_hh (B=32 I=320
# H=256: forward 0.42 ms on two threads against 0.65 ms on one), and the backward's four GEMMs
# (dx, dh0, dW_ih, dW_hh) run two a thread
ONE_STEP_UNITS_MIN_MACS = 1 << 22
# a GRU or RNN one-step call splits over the threads from this many multiply-adds: forward its rows
# (each thread's step product reads all of W_hh), backward its four products (dx, dh0, dW_ih, dW_hh)
# two a thread (weight_grads_cpu.one_step_gradients; the pointwise part on one thread). Measured (AMD EPYC, 2 CPUs, float32, forward + backward, one thread -> split,
# medians of 9 alternating rounds, 2026-12-03): GRU B=16 H=256 (6M) 0.69 -> 0.79 ms, B=32 H=256
# (12M) 1.11 -> 0.87, B=16 H=512 (24M) 2.79 -> 1.66; RNN B=32 H=256 (4M) 0.42 -> 0.39; 2026-12-06:
# GRU B=16 H=256 0.59 -> 0.48, RNN B=32 H=256 0.39 -> 0.36, B=32 H=128 (1M) 0.14 -> 0.18
ONE_STEP_SPLIT_MIN_MACS = 1 << 23
# the LSTM's hidden-units split is a candidate from this W_hh size (bytes); below, meeting the
# other threads every step costs more than it saves (B=1, H=64: 0.40 vs 0.27 ms)
UNITS_SPLIT_BYTES = 1 << 20
# a time loop's step product runs on the weight packed into panels (kernels/panel_cpu.py) from
# this many steps: packing reads the weight once, as one step's product does
PANEL_MIN_STEPS = 2
# weights from this size (bytes) are packed into panels by all the call's threads, each its share
# of the panels (blas_cpu.packed_rows; the LSTM's units split: each thread its own units)
PACK_SPLIT_BYTES = 1 << 18
# weights from this size (bytes) are packed by a compiled loop, smaller ones by numpy's copy
# (kernels/panel_cpu.py: 2x faster at 4 MiB, the same at 1 MiB, and no first-run compile)
PACK_LOOP_BYTES = 1 << 21
# a first training call compiles its backward loop in a second process while its forward compiles
# (kernels/background_compile.py), with two cores or more; 0 turns it off. That process waits
# this many seconds for more work (a later model's backward) before it exits
BACKGROUND_COMPILE = 1
BACKGROUND_COMPILE_IDLE_S = 120
# the step product runs as the register-blocked loop up to this many rows of a thread's chunk,
# as one BLAS call above (OpenBLAS re-packs the whole weight matrix on every call)
STEP_BLAS_ROWS = 32
# weight gradients: dW_ih and dW_hh on a thread each when input and hidden size are within this
# ratio, or with fewer rows a thread than PRODUCT_SPLIT_ROWS (partial sums cost as much as the
# product); otherwise split by rows into partial sums
PRODUCT_SPLIT_RATIO = 1.5
PRODUCT_SPLIT_ROWS = 64
# the engine's products (gemm_cpu): OpenBLAS runs a GEMM of at most NUMPY_SINGLE_THREAD_MACS on one thread; products
# split from SPLIT_MIN_MACS, by ROWS_PER_THREAD rows a thread or, with fewer (a decoder step's [B, K] @ [K, V]), by
# columns from COLUMNS_SPLIT_MIN_ROWS rows and K * V weights (smaller lose to the hand-off: kernels/gemm_cpu.py)
NUMPY_SINGLE_THREAD_MACS = 65536 * 4
SPLIT_MIN_MACS = 1 << 22
ROWS_PER_THREAD = 128
COLUMNS_SPLIT_MIN_ROWS = 4
COLUMNS_SPLIT_MIN_WEIGHT = 1 << 20
# where the GEMM route is "panels" (blas_cpu.gemm_route), products of at least this many rows and
# multiply-adds run on panels: below, packing the right operand costs more than the faster product saves ([32, 320]
# x [320, 1024]: 68-78 GFLOP/s packed per call against 71-82 for OpenBLAS on Haswell kernels;
# 128 rows: 145 against 105; AMD EPYC, one thread, 2026-12-02)
PANEL_GEMM_MIN_ROWS = 64
PANEL_GEMM_MIN_MACS = 1 << 20
# by default x @ W^T (x C-ordered, W^T a C-ordered weight's transpose) of at most this many rows
# runs as (W @ x^T)^T; calibrated per class of rows up to twice this (blas_cpu.swap_rows)
SWAP_MAX_ROWS = 64
# an input projection on the panel route splits its columns over the threads (each packs its share
# of W_ih) from a W_ih of this many bytes, its rows below (blas_cpu.input_projection)
PROJECTION_COLUMNS_BYTES = 1 << 20
# ... and on numpy's BLAS route (a product of fewer than PANEL_GEMM_MIN_ROWS rows takes it too) up
# to this many rows: reading W_ih is then most of the product's time, and a split of the rows
# made both threads read all of it (T*B = 50, H=512: 1.36 ms by rows, 0.98 by columns; 200 rows
# 2.62 against 2.37; 800 rows level, 3200 rows 35.4 against 36.8; AMD EPYC, 2 threads, 2026-12-03)
PROJECTION_COLUMNS_ROWS = 256
# ... blocked as BLIS blocks a GEMM (panel_cpu.panel_gemm): K_BLOCK rows of a panel stay in L1
# while M_BLOCK rows of the left operand pass over them
PANEL_GEMM_K_BLOCK = 256
PANEL_GEMM_M_BLOCK = 128

# microseconds a kernel worker spins waiting for its next chunk, and a caller for a worker's end
# of a chunk, before sleeping (kernels/workers_cpu.py): a chunk posted within that time starts in
# about a microsecond instead of a thread's wake-up (tens of microseconds in a VM). 0: always
# sleep. 1000 rather than 300: an nn.LSTM call's forward and backward kernels are more than 300 us
# apart at T=50 B=16 H=64, and the layer path took 1.1-1.6x the kernel path's time with 300,
# 1.0-1.2x with 1000 (compare_torch, AMD EPYC, 2026-12-02 11:05 UTC; PyTorch's OpenMP threads
# spin about 9 ms after each op here)
WORKER_SPIN_US = 1000
# microseconds a caller, after a worker has taken the GIL for its chunk, leaves it to the worker
# before it starts its own chunk: the worker's Python part (a chunk's arguments, Numba's dispatch)
# then runs alone, and neither thread sleeps in the kernel waiting for the GIL
WORKER_GRACE_US = 6

# The *_SPLIT_* thresholds below (and SPLIT_MIN_MACS above) are default rules: in mode auto each
# class of size is measured on the machine (kernels/split_cpu.py, SPLIT_MEASURED); their figures
# (AMD EPYC Zen 2, 2 cores, 2026-12-05) are in the README's Threads section.
# Row-wise ops (kernels/rows_cpu.py: softmax, log_softmax, their backwards, layer_norm) run the
# Numba row kernels from ROWS_KERNEL_MIN_ELEMENTS elements until Numba is loaded, then at any size
# (faster than numpy's passes at every size: [1, 64] softmax 3.0 us against 15; the threshold only
# spares a small call loading Numba, 0.5 s once); rows split over threads from ROWS_SPLIT_MIN_ELEMENTS
ROWS_KERNEL_MIN_ELEMENTS = 1024
ROWS_SPLIT_MIN_ELEMENTS = 1 << 18
# optimizer steps (fused_steps.py: Adam, AdamW, SGD) run one compiled pass per parameter from
# OPTIM_FUSED_MIN_ELEMENTS (faster at every size for Adam and momentum SGD), plain SGD (p -= lr g)
# from OPTIM_PLAIN_SGD_MIN_ELEMENTS (4096 x 256: 6.1 against numpy's 5.0 ms, 65536 x 32 level);
# a parameter splits over the threads from OPTIM_SPLIT_MIN_ELEMENTS (memory-bound); the embedding
# gradient (zero the table, add the rows) from EMBEDDING_SPLIT_MIN_ELEMENTS table elements (two
# threads were slower at every size measured, so by default it stays on one)
OPTIM_FUSED_MIN_ELEMENTS = 1
OPTIM_PLAIN_SGD_MIN_ELEMENTS = 1 << 16
OPTIM_SPLIT_MIN_ELEMENTS = 1 << 22
EMBEDDING_SPLIT_MIN_ELEMENTS = 1 << 27
# elementwise activations (elementwise_cpu.py) run the Numba kernel from ELEMENTWISE_MIN_SIZE
# elements (a call costs ~3 us, which numpy's single ufuncs beat up to 1-2K elements), split over
# the threads from ELEMENTWISE_SPLIT_NS of one thread's work (elementwise_cpu.COST_NS)
ELEMENTWISE_MIN_SIZE = 1024
ELEMENTWISE_SPLIT_NS = 150000

# -- calibration --------------------------------------------------------------------------------

# a shape class is calibrated only at calls of at least this many multiply-adds (smaller calls are
# over before a measurement would pay off; they keep the default rule); a swap's row class from
CALIBRATE_MIN_MACS = 1 << 26
CALIBRATE_SWAP_MIN_MACS = 1 << 18
# steps of the sequence a time-loop measurement runs, rows of a weight-gradient measurement
CALIBRATE_STEPS = 8
# ... and up to CALIBRATE_STEPS_SHORT steps when a step is below CALIBRATE_SHORT_STEP_MACS
# multiply-adds: a call's fixed costs (handing chunks to threads, a barrier's set-up) weigh on 8
# short steps as they do not on a real sequence, and made the calibration prefer one thread to the
# units split at LSTM B=1 H=256 (3.3 vs 3.5 ms on 8 steps; 12.9 vs 9.9 ms on T=200). 64, not 32:
# the generated LSTM's units split took 0.89x the batch split's time on 32 steps and 0.79-0.82x on
# 64 (0.68-0.75x on 200), and with 32 the peephole and CIFG LSTMs at B=1 H=256 kept the batch
# split in 4 of 6 fresh calibrations, with 64 in 1 of 6, where the units split ran 1.1-1.4x faster
# on 200 steps (AMD EPYC, 2026-12-03)
CALIBRATE_STEPS_SHORT = 64
CALIBRATE_SHORT_STEP_MACS = 1 << 23
CALIBRATE_ROWS = 2048
# timed rounds (after one untimed run of each alternative), each round timing every alternative,
# every other round in reverse order (an even count: each alternative as often first as last)
CALIBRATE_REPEATS = 6
# the classes of size (each family's unit: kernels/split_cpu.py) whose split over the threads is
# measured; outside, the threshold's rule. Below the range a split cannot pay: a kernel call's
# thread set-up and hand-off took 30-60 us (AMD EPYC Zen 3 KVM guest, 512 KiB L2, 32 MiB L3, numpy
# matmul 160-190 GFLOP/s, load 1-3, 2026-12-06)
SPLIT_MEASURED = {"rows": (1 << 15, 1 << 23), "elementwise": (1 << 15, 1 << 21), "optim": (1 << 16, 1 << 23),
                  "embedding": (1 << 20, 1 << 26), "gemm": (1 << 21, 1 << 26)}
CALIBRATE_SPLIT_SAMPLE_S = 0.0005   # ... each sample repeating the call to this many seconds
# the version of calibrate's rule: a decision on disk taken under another is measured again (10: an
# alternative's median time must win too; 9: 64 steps for short steps, no background compile while
# timing; 8: the runoff; 7: AVX-512's 8-row tiles; 6: the panel GEMM route; why: README, Tuned on the machine)
CALIBRATION_RULE = 10
# an alternative replaces the default only when it is at least this much faster (noise margin)
CALIBRATE_MARGIN = 0.05
# two alternatives that beat the default with scores this close meet again, alone (calibrate)
CALIBRATE_RUNOFF = 0.15
# 0: a time loop's calibration on a first run measures only the candidates already compiled
# besides the default (the others written down as not measured): compiling each only to time it
# made a first LSTM forward + backward at T=50 B=16 H=256 take 16.1 s instead of 3.0, and the
# default won 70 of 72 step-product decisions (AMD EPYC, 2026-12-03). 1: every candidate (tune)
CALIBRATE_COMPILES = 0
# a decision whose timed rounds shared the machine with other processes taking more than this
# share of a core (/proc/stat: busy time beyond this process's own) holds for this process only:
# it is not written to the wisdom file, and the next process measures again. The generated LSTM
# at B=1 H=512 kept the batch split (one thread) measured while three other jobs ran, 24.7 against
# 34.0 ms; quiet, the units split ran that call 1.5x faster (AMD EPYC Zen 2, 2026-12-05)
CALIBRATE_MAX_OTHERS = 0.25

_PREFIX = "TINYGRAD_SEQ_TUNE_"
_MODES = ("auto", "cached", "off")
_setting_keys = {}   # a setting's name -> its variable's name as os.environ._data keeps it (POSIX)


def setting(name):
    """The value of the threshold ``name``: TINYGRAD_SEQ_TUNE_<NAME> when set, else this module's
    (possibly patched) attribute. A malformed value raises ValueError naming the variable."""
    default = globals()[name]
    # a kernel call reads 10-50 settings: the environment's encoded dict looked up directly (one
    # call, 0.25 us, where getenv's took 0.45); an empty value counts as unset, as getenv's
    data = getattr(os.environ, "_data", None)
    key = _setting_keys.get(name)
    if data is None or key is None:
        raw = getenv(_PREFIX + name)
        if data is not None and os.name == "posix":
            _setting_keys[name] = os.environ.encodekey(_PREFIX + name)
    else:
        raw = data.get(key)
        raw = os.environ.decodevalue(raw) if raw else None
    if raw is None:
        return default
    try:
        return type(default)(float(raw)) if isinstance(default, int) else type(default)(raw)
    except ValueError:
        raise ValueError(f"{_PREFIX}{name}={raw!r}: expected a number like {default!r}") from None


def is_forced(name):
    """Whether TINYGRAD_SEQ_TUNE_<NAME> sets the setting ``name``."""
    return bool(getenv(_PREFIX + name))


def mode():
    value = (getenv("TINYGRAD_SEQ_TUNE") or "auto").strip().lower() or "auto"
    if value not in _MODES:
        raise ValueError(f"TINYGRAD_SEQ_TUNE={value!r}: expected one of {', '.join(_MODES)}")
    return value


# -- the wisdom file -----------------------------------------------------------------------------

def wisdom_dir():
    forced = getenv("TINYGRAD_SEQ_TUNE_DIR")
    if forced:
        return forced
    if getenv("NUMBA_CACHE_DIR"):
        return os.path.join(os.environ["NUMBA_CACHE_DIR"], "tinygrad_seq")
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "__pycache__")
    if os.access(os.path.dirname(here), os.W_OK):
        return here
    return os.path.join(os.path.expanduser("~"), ".cache", "tinygrad_seq")


def wisdom_path():
    return os.path.join(wisdom_dir(), f"tuning-{machine_key()}.json")


# -- decisions ----------------------------------------------------------------------------------

_lock = threading.RLock()
_decisions = {}      # wisdom path -> {class key: record}, loaded once per path


def _load(path):
    if path in _decisions:
        return _decisions[path]
    table = {}
    if os.path.exists(path):
        try:
            with open(path) as f:
                data = json.load(f)
            table = data["decisions"]
            if not isinstance(table, dict) or not all(isinstance(r.get("choice"), dict) for r in table.values()):
                raise ValueError("decisions is not a table of choices")
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            warnings.warn(f"tinygrad_seq: ignoring the unreadable tuning file {path} ({err}); "
                          "it is rewritten with new measurements", RuntimeWarning, stacklevel=4)
            table = {}
    _decisions[path] = table
    return table


def _save(path, table):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        kept = {k: r for k, r in table.items() if "crowded" not in r}   # measured beside other jobs: not kept
        json.dump(dict(machine=machine(), decisions=kept), f, indent=1, sort_keys=True)
    os.replace(tmp, path)


_generation = [0]  # bumped when decisions change (calibration, forget): callers' memos expire
forgotten = [0]    # bumped by forget() alone: memos keyed without the generation expire


_state_keys = []  # the environment variables state() reads, encoded as os.environ._data keeps them


def state():
    """What a decision also depends on besides its shape class: the mode, the forced parts, the
    wisdom folder and the decisions' generation. Callers memoise decisions under it (every kernel
    call asks: one C-level pass over the environment's raw items, about 0.4 us, where a getenv
    per variable took 1.8)."""
    data = getattr(os.environ, "_data", None)
    if data is None or os.name != "posix":
        return tuple(map(getenv, _state_names())) + (_generation[0], id(_decisions))
    if not _state_keys:
        _state_keys.extend(os.environ.encodekey(name) for name in _state_names())
    return tuple(map(data.get, _state_keys)) + (_generation[0], id(_decisions))


def _state_names():
    return ["TINYGRAD_SEQ_TUNE", "TINYGRAD_SEQ_TUNE_DIR", "NUMBA_CACHE_DIR"] + [_PREFIX + part.upper() for part in CHOICES]


def class_key(name, shape_class):
    return name + "|" + "|".join(f"{k}={shape_class[k]}" for k in sorted(shape_class))


# the parts of the calibrated choices and their values (TINYGRAD_SEQ_TUNE_<PART>=value forces one)
CHOICES = {
    "split": ("batch", "units"),          # time loop: batch rows or hidden units over threads
    "step_product": ("loop", "blas"),     # a step's product: register-blocked loop or BLAS call
    "dw_split": ("product", "rows"),      # weight gradients: a product a thread, or rows
    "gemm": ("blas", "panels"),           # whole-sequence GEMMs: numpy's BLAS or panel_cpu's tiles
    "one_step_threads": ("all", "one"),   # a one-step call: split over the threads, or on one
    "swap": ("yes", "no"),                # x @ W^T with few rows: as (W @ x^T)^T, or as it is
    "threads": ("one", "all"),            # a row-wise, elementwise, optimizer or product call (split_cpu)
}


def forced(candidates):
    """The candidates that TINYGRAD_SEQ_TUNE_<PART> variables allow. A forced value that this
    call does not offer (the units split on one thread) leaves the candidates as they are; a value
    that no call offers raises ValueError naming the variable and the values."""
    kept = list(candidates)
    for part in candidates[0]:
        raw = getenv(_PREFIX + part.upper())
        if raw is None:
            continue
        value = raw.strip()
        if value not in CHOICES.get(part, ()):
            raise ValueError(f"{_PREFIX}{part.upper()}={raw!r}: expected one of {', '.join(CHOICES.get(part, ()))}")
        kept = [c for c in kept if c[part] == value] or kept
    return kept


def decide(name, shape_class, candidates, measure, worth_measuring=True, timer=time.perf_counter,
           compiled_only=False):
    """One of ``candidates`` (dicts of parts, the default rule's choice first) for the shape class
    ``shape_class`` (a dict) of decision ``name``. In order: TINYGRAD_SEQ_TUNE_<PART> filters
    the candidates; one left, or mode off, or nothing worth measuring or a call inside another
    calibration (and nothing on disk), gives the first; a decision on disk for this machine is
    reused when it measured every
    candidate offered now; in mode auto the candidates are measured (``measure(candidate, timer)
    -> seconds``), the fastest kept unless it beats the first by less than CALIBRATE_MARGIN, and
    the decision written to disk, unless a forced part had narrowed the candidates.
    compiled_only (and CALIBRATE_COMPILES 0): a candidate other than the first that would compile
    a kernel is not measured (calibrate); the decision on disk lists it as unmeasured and counts
    as complete, until a calibration with CALIBRATE_COMPILES 1 measures it too."""
    kept = forced(candidates)
    if len(kept) == 1 or mode() == "off":
        return kept[0]
    key = class_key(name, shape_class)
    path = wisdom_path()
    with _lock:
        table = _load(path)
        record = table.get(key)
        # a decision counts only if it measured every candidate offered now: one taken while a
        # TINYGRAD_SEQ_TUNE_<PART> variable narrowed the field is not this machine's best
        compiled_only = compiled_only and not setting("CALIBRATE_COMPILES")
        if record is not None and record["choice"] in kept and record.get("rule") == CALIBRATION_RULE:
            known = set(record.get("ms", {})) | ({record.get("default")} | set(record.get("unmeasured", ()))
                                                 if compiled_only else set())
            if {_label(c) for c in candidates} <= known:
                return record["choice"]
        if mode() == "cached" or not worth_measuring or calibrating():
            return kept[0]   # inside another calibration: a decision on disk, else the default
        # the machine's load is read only when timing with the real clock (tests pass fake clocks)
        crowd = {} if timer is time.perf_counter else None
        choice, times = calibrate(kept, measure, timer, compiled_only, rounds=setting("CALIBRATE_REPEATS"),
                                  margin=setting("CALIBRATE_MARGIN"), runoff=setting("CALIBRATE_RUNOFF"),
                                  crowd=crowd)
        if len(kept) < len(candidates):
            return choice   # measured among the forced candidates only: not written to disk
        _generation[0] += 1
        table[key] = dict(choice=choice, ms={_label(c): round(t * 1e3, 4) for c, t in zip(kept, times)
                                             if t is not None},
                          rule=CALIBRATION_RULE,
                          default=_label(kept[0]), measured=time.strftime("%Y-%m-%d %H:%M:%S"))
        unmeasured = [_label(c) for c, t in zip(kept[1:], times[1:]) if t is None]
        if unmeasured:
            table[key]["unmeasured"] = unmeasured
        if crowd and crowd.get("others", 0.0) > setting("CALIBRATE_MAX_OTHERS"):
            table[key]["crowded"] = round(crowd["others"], 2)   # this process's only (_save)
            return choice
        try:
            _save(path, table)
        except OSError as err:
            warnings.warn(f"tinygrad_seq: could not write the tuning file {path} ({err})", RuntimeWarning,
                          stacklevel=2)
        return choice


def _label(candidate):
    return ",".join(f"{k}={v}" for k, v in candidate.items())


def recorded(name, shape_class, candidates):
    """decide's choice for the shape class from a wisdom file this process has read already, or
    None: no lock, no reading, no measuring (for a thread that must not wait: a kernel's chunk)."""
    kept = forced(candidates)
    if len(kept) == 1 or mode() == "off":
        return kept[0]
    record = _decisions.get(wisdom_path(), {}).get(class_key(name, shape_class))
    ok = record is not None and record.get("rule") == CALIBRATION_RULE and record["choice"] in kept
    return record["choice"] if ok else None


def decisions():
    """The decisions held for this machine (from the wisdom file): {class key: record}."""
    with _lock:
        return dict(_load(wisdom_path()))


def forget():
    """Drop this machine's decisions, in memory and on disk (``python -m tinygrad_seq.tune``)."""
    path = wisdom_path()
    with _lock:
        _generation[0] += 1
        forgotten[0] += 1
        _decisions.pop(path, None)
        if os.path.exists(path):
            os.remove(path)


def calibration_steps(seq_len, step_macs):
    """Steps of the sequence a time-loop measurement runs: CALIBRATE_STEPS, or
    CALIBRATE_STEPS_SHORT for steps of fewer than CALIBRATE_SHORT_STEP_MACS multiply-adds; at most
    seq_len."""
    short = step_macs < setting("CALIBRATE_SHORT_STEP_MACS")
    return max(1, min(seq_len, setting("CALIBRATE_STEPS_SHORT" if short else "CALIBRATE_STEPS")))


def log(message):
    print(f"tinygrad_seq: {message}", file=sys.stderr, flush=True)
