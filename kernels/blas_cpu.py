"""BLAS plumbing of the fused CPU kernels: the whole-sequence GEMMs and the BLAS thread count.

``np.dot`` inside @njit calls scipy's BLAS (``scipy.linalg.cython_blas``; OpenBLAS in the scipy
wheels), a different OpenBLAS instance and thread pool from numpy's own: the step products' BLAS
route uses it. The whole-sequence GEMMs (the input projection here, the weight gradients and dx
in weight_grads_cpu) go through gemm_into from the kernels' threads: numpy's matmul (it releases
the GIL; no compile) or the panel GEMM, whichever gemm_route measured faster on the machine.
kernel_threads keeps both BLAS libraries on one thread while a kernel runs.

Threads: every product of a kernel runs on ONE OpenBLAS thread, called from the kernels' own
threads (``run_chunks``: as many as Numba's thread count, each running a nogil kernel on a chunk
of rows, handed over in microseconds by workers_cpu; the LSTM's hidden-units split runs a chunk
of units per thread, meeting at a spin barrier every step, spin_cpu). Two pools on two cores
fight: OpenBLAS workers spin for up to ~0.1 s after a GEMM and Numba's OpenMP workers after a
parallel region, so alternating them (input projection on OpenBLAS threads, time loop on Numba
threads) made a B=16, H=256 LSTM 2x slower here. Measured (AMD EPYC, 2 cores, float32): two single-thread OpenBLAS calls on half the
rows each ran as fast as one two-thread call for the big GEMMs (170-181 GFLOP/s at [800,256] x
[256,1024] and [3200,512] x [512,2048]) and 1.7x faster for a small one ([200,64] x [64,256]: 100
vs 60 GFLOP/s). The time loop splits the batch: rows of a batch never meet inside the loop, so
each thread runs the whole sequence for its rows with no barrier per step.
``ts.set_num_threads`` / ``numba.set_num_threads`` set the thread count.

The BLAS libraries themselves (scipy's import trimmed, each one's thread count) are
kernels/openblas_cpu.py's; this module imports it before numba.
"""
from . import openblas_cpu  # noqa: F401  (first: it trims numba's import of scipy)

import threading  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

import numpy as np  # noqa: E402
import numba  # noqa: E402

from . import calibration, machine_cpu, panel_cpu, split_cpu, tuning, workers_cpu  # noqa: E402
from .compile_notice import announce  # noqa: E402
from .numba_threads import num_threads  # noqa: E402
from .openblas_cpu import numpy_blas_one_thread, one_blas_thread  # noqa: E402


# A parallel kernel at a time: a second caller runs on one chunk instead. So the pool's workers
# are idle whenever run_chunks hands them chunks, which the spin barrier of the units split needs
# (its chunks must all run at once); numba's "workqueue" threading layer also aborts the process
# when two Python threads launch parallel regions at once.
_parallel_lock = threading.Lock()


class kernel_threads:
    """``with kernel_threads(seq_len, batch, macs) as n_chunks:`` scipy's and numpy's BLAS on one
    thread each (the step products call scipy's from @njit code, the whole-sequence GEMMs numpy's
    matmul), and the number
    of chunks (one per Numba thread, at most seq_len * batch) to split a kernel call's work into:
    1 below tuning.PARALLEL_MIN_MACS multiply-adds (a parallel start costs more than it saves),
    for a one-step call (a decoder's) below the threshold one_step_min names (see planned), or
    while another thread runs a parallel kernel. plan: a time loop's plan (steps_cpu.time_loop_plan);
    a one-step call's plan says how many threads its calibration chose ("one_step_threads")."""

    def __init__(self, seq_len, batch, macs, one_step_min="ONE_STEP_PARALLEL_MIN_MACS", plan=None):
        threads = None if plan is None else plan.get("one_step_threads")   # "all", "one" or None
        self.n_chunks = 1 if threads == "one" else self.planned(seq_len, batch, macs,
                                                                None if threads == "all" else one_step_min)
        self.locked = self.n_chunks > 1 and _parallel_lock.acquire(blocking=False)
        if not self.locked:
            self.n_chunks = 1
        self.blas = (one_blas_thread(), numpy_blas_one_thread())
        # the call's runs pin the caller once (workers_cpu.PinScope), not each run
        self.pins = workers_cpu.PinScope() if self.locked else None
        self.cores = machine_cpu.cores_scope()   # the call's cores, read once

    @staticmethod
    def planned(seq_len, batch, macs, one_step_min="ONE_STEP_PARALLEL_MIN_MACS"):
        """The chunks a call gets when no other thread runs a parallel kernel. one_step_min: the
        tuning threshold a one-step call (seq_len 1) splits from, by how the kernel splits it
        (ONE_STEP_UNITS_MIN_MACS: the LSTM's gate units; ONE_STEP_SPLIT_MIN_MACS: the GRU's
        and RNN's rows forward, products backward; None: none, the most a call may use)."""
        if macs < tuning.setting("PARALLEL_MIN_MACS"):
            return 1
        if seq_len == 1 and one_step_min is not None and macs < tuning.setting(one_step_min):
            return 1
        return max(1, min(num_threads(), seq_len * batch))

    def __enter__(self):
        self.cores.__enter__()
        for pin in self.blas:
            pin.__enter__()
        if self.pins is not None:
            self.pins.__enter__()
        return self.n_chunks

    def __exit__(self, *exc):
        self.cores.__exit__(*exc)
        if self.pins is not None:
            self.pins.__exit__(*exc)
        for pin in self.blas:
            pin.__exit__(*exc)
        if self.locked:
            _parallel_lock.release()
        return False


# Chunks that run a whole call each (a batch split's time loop, row ranges of a GEMM) run on
# Python threads calling nogil kernels, not in a Numba parallel region: a prange wrapper links
# its callee's whole module into a new gufunc and optimises it again, which cost 3.5-5.7 s of
# compile time per wrapper (LSTM forward on an empty cache). The threads are workers_cpu's, which
# take a chunk in a few microseconds; a second caller while they are busy (another Python thread,
# a chunk that itself splits, or more chunks than workers) gets threads of concurrent.futures
# (~50 us a call).
_pool = None
_pool_lock = threading.Lock()


def run_chunks(task, n_chunks):
    """task(c) for c in 0..n_chunks-1 at once, chunk 0 on the calling thread; waits for all and
    re-raises the first error."""
    if n_chunks <= 1:
        task(0)
        return
    n_workers = max(n_chunks - 1, numba.config.NUMBA_NUM_THREADS - 1)
    workers = workers_cpu.pool(n_workers, cores_for_spinning())
    with workers_cpu.running_chunks():
        if len(workers.workers) >= n_chunks - 1 and workers.busy.acquire(blocking=False):
            try:
                workers.run(task, n_chunks)
            finally:
                workers.busy.release()
            return
        _run_on_executor(task, n_chunks)


def _run_on_executor(task, n_chunks):
    global _pool
    with _pool_lock:
        if _pool is None or _pool._max_workers < n_chunks - 1:
            workers = max(n_chunks - 1, numba.config.NUMBA_NUM_THREADS - 1)
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tinygrad_seq-kernel",
                                       initializer=workers_cpu.chunk_thread_start)
        pool = _pool
    futures = [pool.submit(task, c) for c in range(1, n_chunks)]
    try:
        task(0)
    finally:
        for f in futures:
            f.result()


def cores_for_spinning():
    """The cores this process may run on (machine_cpu.usable_cores: its CPU affinity, shared with the
    node's other MPI ranks): chunks that meet at a spin barrier every step (spin_cpu) need a core
    each, or each step waits for the scheduler, and workers_cpu spins only with one per thread."""
    return machine_cpu.usable_cores()


def chunk_bounds(c, n_chunks, rows):
    """(lo, hi): rows lo..hi-1 of chunk c when rows are split into n_chunks near-equal ranges."""
    return c * rows // n_chunks, (c + 1) * rows // n_chunks


def gemm_into(a, b, out, route="blas"):
    """out = a @ b (2-D, any strides BLAS takes: transposed views need no copy) through numpy's
    matmul, which releases the GIL; kernel_threads keeps numpy's BLAS on one thread meanwhile.
    Not an @njit np.dot: that compiled once per layout (3 x 0.3 s on a first run).
    route "panels" (gemm_route's choice for the dtype, passed by the whole-sequence GEMMs): a
    product that panels_fit accepts (enough rows and multiply-adds, rows of out contiguous, a C-
    or F-ordered b) runs as panel_gemm instead."""
    if a.shape[1] == 1:
        # an inner dimension of 1 (a one-row step's weight gradient dG^T x) is an outer product:
        # numpy's matmul runs it through its generic loop, not BLAS (T=1 B=1: [1536,1] @ [1,512]
        # 878 us, the broadcast multiply 265; K=2 by BLAS 209; AMD EPYC, one thread, 2026-12-03)
        np.multiply(a, b, out=out)
    elif route == "panels" and panels_fit(a, b, out):
        panel_gemm(a, b, out)
    elif swaps(a, b):
        # x @ W^T with few rows (a one-step input projection, a decoder step's Linear): OpenBLAS
        # runs W @ x^T faster, even with the copy back (tuning.SWAP_MAX_ROWS)
        out[...] = np.matmul(b.T, a.T).T
    else:
        np.matmul(a, b, out=out)


def swaps(a, b):
    """Whether gemm_into runs a @ b as (b^T @ a^T)^T: b a C-ordered weight's transpose (F-ordered),
    a of fewer rows than b's columns and at most 2 * tuning.SWAP_MAX_ROWS, and swap_rows says so
    for a's row count on this machine."""
    rows = a.shape[0]
    return (rows <= 2 * tuning.setting("SWAP_MAX_ROWS") and rows < b.shape[1] and b.flags.f_contiguous
            and not b.flags.c_contiguous and swap_rows(rows, a.dtype, rows * a.shape[1] * b.shape[1]))


_swap_decisions = {}   # (row class, dtype number, SWAP_MAX_ROWS, tuning.state() less the generation) -> (swap, final)


def swap_rows(rows, dtype, macs=1 << 62):
    """Whether a product x @ W^T of `rows` rows runs faster as (W @ x^T)^T on this machine: a
    decision per class of rows (the next power of two, up to 2 * SWAP_MAX_ROWS) and dtype
    (tuning.decide "swap"; TINYGRAD_SEQ_TUNE_SWAP=yes/no forces it), measured on [rows, 256] x
    [256, 1024] on one thread. The default rule swaps the classes up to SWAP_MAX_ROWS. Where the
    crossing lies is the machine's: OpenBLAS packs a transposed right operand slowly, by how much
    depends on its kernels and the caches. Measured ([rows, 256] x [1024, 256]^T, one thread,
    direct / swapped us; AMD EPYC, 32 MiB L3, numpy matmul ~190-200 GFLOP/s, load ~1): Zen 4 (1 MiB
    L2 a core), 2026-12-06: 32 rows 290 / 208, 64 452 / 387, 128 785 /
    750, 256 1420 / 1646; Zen 3 (512 KiB L2 a core), 2026-12-06 07:50 UTC: 8 rows 105 / 86, 16 147 / 139, 32 234 / 237, 64 428 /
    483, 128 758 / 968. A call below CALIBRATE_SWAP_MIN_MACS multiply-adds, a kernel's chunk and a
    candidate being timed never measure: they take a decision this process has read from the
    wisdom file, else the rule (a chunk's caller may hold the tuning lock inside a calibration and
    wait for the chunk: deciding there deadlocked). Every answer is remembered (a dict look-up
    a call: deciding on each small call cost 25-50 us); one not measured is replaced by the
    decision the next call large enough takes."""
    cls = 1 << max(rows - 1, 0).bit_length()
    max_rows = tuning.setting("SWAP_MAX_ROWS")
    state = tuning.state()
    key = (cls, dtype.num if isinstance(dtype, np.dtype) else np.dtype(dtype).num, max_rows, state[:-2], state[-1],
           tuning.forgotten[0])
    entry = _swap_decisions.get(key)   # (the key leaves out the generation: any decision bumps it)
    worth = macs >= tuning.setting("CALIBRATE_SWAP_MIN_MACS")
    if entry is not None and (entry[1] or not worth):
        return entry[0]
    dtype = np.dtype(dtype)
    rule = "yes" if cls <= max_rows else "no"
    candidates = [{"swap": rule}, {"swap": "no" if rule == "yes" else "yes"}]
    shape_class = dict(rows=cls, dtype=dtype.name)
    if not worth or workers_cpu.in_chunk() or calibration.calibrating():
        choice = tuning.recorded("swap", shape_class, candidates)
        swap = (choice or tuning.forced(candidates)[0])["swap"] == "yes"
        if not calibration.calibrating():
            _swap_decisions[key] = (swap, choice is not None)
        return swap
    swap = tuning.decide("swap", shape_class, candidates, _swap_measure(cls, dtype))["swap"] == "yes"
    _swap_decisions[key] = (swap, True)
    return swap


def _swap_measure(rows, dtype):
    def measure(candidate, timer):
        rng = np.random.default_rng(0)
        x = rng.standard_normal((rows, 256)).astype(dtype)
        w = rng.standard_normal((1024, 256)).astype(dtype)
        out = np.empty((rows, 1024), dtype)

        def run():
            if candidate["swap"] == "yes":
                out[...] = np.matmul(w, x.T).T
            else:
                np.matmul(x, w.T, out=out)
        with numpy_blas_one_thread():
            return calibration.timed(run, timer)
    return measure


# -- the GEMM route -----------------------------------------------------------------------------
# numpy's OpenBLAS runs the kernel set it picks for the CPU, or the one OPENBLAS_CORETYPE names:
# on an AMD EPYC (AVX-512) with OPENBLAS_CORETYPE=Haswell, 97-112 GFLOP/s a core, where the
# panel GEMM (panel_cpu, AVX-512 tiles from Numba) ran 172-204 with its packing included (one
# thread, float32, [128..10000, 64..10000] x [.., 256..10000], 2026-12-02); with the CPU's own
# kernel set numpy ran 167-185, level with the panel GEMM's 4-row tiles. Which is faster is
# measured on the machine (gemm_route).

_routes = {}   # (dtype number, OPENBLAS_CORETYPE, tuning.state()) -> "blas" | "panels"


def gemm_route(dtype):
    """How this machine's whole-sequence GEMMs of ``dtype`` run: "blas" (numpy's matmul) or
    "panels" (panel_gemm). A machine decision (tuning.decide "gemm", TINYGRAD_SEQ_TUNE_GEMM
    forces one): measured once, on one thread, on a [256, 256] x [256, 1024] product with
    packing included, per OPENBLAS_CORETYPE (which changes numpy's side); "blas" in mode off;
    inside another calibration the decision on disk or "blas", not remembered."""
    dtype = np.dtype(dtype)
    coretype = tuning.getenv("OPENBLAS_CORETYPE") or "auto"
    key = (dtype.num, coretype, tuning.state())
    route = _routes.get(key)
    if route is None:
        route = tuning.decide("gemm", dict(dtype=dtype.name, openblas_coretype=coretype),
                              [{"gemm": "blas"}, {"gemm": "panels"}], _route_measure(dtype))["gemm"]
        if not calibration.calibrating():   # inside another calibration decide gives the default (or the
            _routes[key] = route       # forced route): decided for good at the next call outside
    return route


def decided_route(dtype):
    """gemm_route(dtype) when this process has decided it already, else None (no measuring)."""
    dtype = np.dtype(dtype)
    return _routes.get((dtype.num, tuning.getenv("OPENBLAS_CORETYPE") or "auto", tuning.state()))


def _route_measure(dtype):
    def measure(candidate, timer):
        rng = np.random.default_rng(0)
        a = rng.standard_normal((256, 256)).astype(dtype)
        w = rng.standard_normal((1024, 256)).astype(dtype)
        out = np.empty((256, 1024), dtype)
        with numpy_blas_one_thread():
            return calibration.timed(lambda: gemm_into(a, w.T, out, candidate["gemm"]), timer)
    return measure


def panels_fit(a, b, out):
    """Whether panel_gemm can run out = a @ b: float32/float64 alike, 2-D, a of any strides (a
    transposed view too), rows of out contiguous, b C- or F-ordered, at least
    tuning.PANEL_GEMM_MIN_ROWS rows and PANEL_GEMM_MIN_MACS multiply-adds (a smaller product
    spends more on packing b and on Python than it saves) and one panel of columns."""
    dt = out.dtype
    return (a.ndim == 2 and b.ndim == 2 and out.ndim == 2 and a.dtype == dt and b.dtype == dt
            and dt in (np.float32, np.float64) and a.shape[1] == b.shape[0] > 0
            and out.shape == (a.shape[0], b.shape[1])
            and a.shape[0] >= tuning.setting("PANEL_GEMM_MIN_ROWS")
            and a.shape[0] * a.shape[1] * out.shape[1] >= tuning.setting("PANEL_GEMM_MIN_MACS")
            and out.shape[1] >= panel_cpu.panel_width(dt) and out.strides[1] == dt.itemsize
            and (b.flags.c_contiguous or b.flags.f_contiguous))


def aliased(a):
    """Whether the tiles reading a in place would find its k in one L1 set: a transposed view (a
    weight gradient's dG^T) whose columns lie a multiple of 1 KiB apart (4H = 256 floats or a
    multiple). panel_cpu.panel_gemm then copies each block of a into a padded buffer first."""
    return a.flags.f_contiguous and not a.flags.c_contiguous and a.strides[1] % 1024 == 0


def panel_gemm(a, b, out):
    """out = a @ b with b packed into panels (panel_cpu: pack_rows of b.T for an F-ordered b, a
    transposed weight; pack_columns for a C-ordered one), the columns past the last whole panel
    by numpy. panels_fit(a, b, out) must hold."""
    dt = out.dtype
    n = out.shape[1]
    main = n - n % panel_cpu.panel_width(dt)
    if b.flags.f_contiguous:
        panels = panel_cpu.pack_rows(b.T, dt, 0, main)
    else:
        panels = panel_cpu.pack_columns(b, dt, 0, main)
    announce("the panel GEMM", dt, (panel_cpu.panel_gemm,))
    a_rows = a.T if aliased(a) else np.empty((0, 0), dt)  # C-contiguous either way
    panel_cpu.panel_gemm(a, panels, out[:, :main], tuning.setting("PANEL_GEMM_K_BLOCK"), tuning.setting("PANEL_GEMM_M_BLOCK"),
                         a_rows)
    if main < n:
        np.matmul(a, b[:, main:], out=out[:, main:])


def packed_rows(w, dtype, n_chunks):
    """panel_cpu.pack_rows(w, dtype) with its panels split over n_chunks threads (one below
    tuning.PACK_SPLIT_BYTES): packing reads the weight once and writes it once, at a few GB/s a
    thread, which at B=1 took a fifth of an LSTM's forward + backward (T=50, H=512)."""
    width = panel_cpu.panel_width(dtype)
    w = np.ascontiguousarray(w, dtype)
    out = np.empty((w.shape[0] // width, w.shape[1], width), dtype)
    _pack_split(lambda lo, hi: panel_cpu.pack_rows(w, dtype, lo * width, (hi - lo) * width, out[lo:hi]),
                out.shape[0], w.nbytes, n_chunks)
    return out


def packed_columns(b, dtype, n_chunks, out=None):
    """panel_cpu.pack_columns(b, dtype) with its panels split over n_chunks threads (as
    packed_rows); out: the C-contiguous [N / P, K, P] array to fill, else a new one."""
    width = panel_cpu.panel_width(dtype)
    b = np.ascontiguousarray(b, dtype)
    if out is None:
        out = np.empty((b.shape[1] // width, b.shape[0], width), dtype)
    _pack_split(lambda lo, hi: panel_cpu.pack_columns(b, dtype, lo * width, (hi - lo) * width, out[lo:hi]),
                out.shape[0], b.nbytes, n_chunks)
    return out


def _pack_split(pack_range, n_panels, nbytes, n_chunks):
    if n_chunks < 2 or n_panels < 2 or nbytes < tuning.setting("PACK_SPLIT_BYTES"):
        pack_range(0, n_panels)
        return
    n = min(n_chunks, n_panels)
    run_chunks(lambda c: pack_range(*chunk_bounds(c, n, n_panels)), n)


def input_projection(x, w_ih, out, n_chunks):
    """out [T, B, G*H] <- x [T,B,I] @ w_ih[G*H, I]^T: one GEMM over all T*B rows, split into
    n_chunks parts, one per thread (one where the split does not pay: split_cpu "gemm", by
    default below tuning.SPLIT_MIN_MACS multiply-adds): ranges of
    rows, or on the panel route with a W_ih of tuning.PROJECTION_COLUMNS_BYTES or more ranges of
    columns, so that each thread packs only its share of W_ih where each packed all of it (4 MiB
    at H=512): 1.04-1.22x faster at H=256-512, 0.94x at H=64 (LSTM, T=50-200, B=16-64, 2 threads,
    same process, alternating; AMD EPYC znver5, 2026-12-02). Columns on numpy's BLAS route too
    for at most tuning.PROJECTION_COLUMNS_ROWS rows, where reading W_ih dominates."""
    rows = x.shape[0] * x.shape[1]
    x2 = x.reshape(rows, x.shape[2])
    out2 = out.reshape(rows, w_ih.shape[0])
    # split where that pays on this machine (split_cpu "gemm"; the product writes all of out;
    # rule: from tuning.SPLIT_MIN_MACS multiply-adds)
    if n_chunks > 1 and not split_cpu.splits("gemm", "input_projection", rows * x.shape[2] * w_ih.shape[0], x.dtype,
                                             lambda: _projection(x2, w_ih, out2, 1),
                                             lambda: _projection(x2, w_ih, out2, n_chunks)):
        n_chunks = 1
    _projection(x2, w_ih, out2, n_chunks)


def _projection(x2, w_ih, out2, n_chunks):
    rows = x2.shape[0]
    route = gemm_route(x2.dtype)
    width = panel_cpu.panel_width(x2.dtype)
    panels = w_ih.shape[0] // width
    # on numpy's BLAS too for few rows: each thread then reads its share of W_ih, where a split
    # of the rows made every thread read all of it (tuning.PROJECTION_COLUMNS_ROWS)
    by_columns = (route == "panels" and panels_fit(x2, w_ih.T, out2)) or rows <= tuning.setting("PROJECTION_COLUMNS_ROWS")
    if (n_chunks > 1 and by_columns and w_ih.nbytes >= tuning.setting("PROJECTION_COLUMNS_BYTES")
            and panels >= n_chunks):
        def columns_of(c):
            lo, hi = chunk_bounds(c, n_chunks, panels)
            cols = slice(lo * width, w_ih.shape[0] if c == n_chunks - 1 else hi * width)
            gemm_into(x2, w_ih[cols].T, out2[:, cols], route)

        run_chunks(columns_of, n_chunks)
        return

    def rows_of(c):
        lo, hi = chunk_bounds(c, n_chunks, rows)
        gemm_into(x2[lo:hi], w_ih.T, out2[lo:hi], route)

    run_chunks(rows_of, n_chunks)


def gate_buffer(shape, dtype, padded=False):
    """A [T, B, G*H] work array allocated by numpy, not inside @njit: numpy asks the kernel for
    transparent huge pages on large blocks, numba's allocator does not, and first touching a
    105 MB buffer of 4 KiB pages cost 31 ms more here (T=200, B=64, 4H=2048). Zeroed when some
    sequence is padded (rows past a length are never written)."""
    return np.zeros(shape, dtype) if padded else np.empty(shape, dtype)
