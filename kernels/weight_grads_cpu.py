"""The weight-gradient GEMMs of the fused CPU kernels' backward: dx, dW_ih and dW_hh over all of a
sequence's T*B rows (weight_gradients, split over the kernels' threads as gradient_split decides
per shape class), and a one-step call's four products two a thread (one_step_gradients). The
products run through blas_cpu.gemm_into on the machine's GEMM route (blas_cpu.gemm_route)."""
import numpy as np
from numba import types

from . import calibration, panel_cpu, tuning
from .blas_cpu import chunk_bounds, decided_route, gemm_into, gemm_route, run_chunks
from .compile_notice import c_array
from .split_cpu import splits


def _gradients_by_product(di2, dh2, x2, h2, w_ih, dx, dw_ih, dw_hh, n_chunks):
    # dx split by rows; then dW_ih on one thread while dW_hh runs on another
    rows = x2.shape[0]
    route = gemm_route(x2.dtype)

    def dx_rows(c):
        lo, hi = chunk_bounds(c, n_chunks, rows)
        gemm_into(di2[lo:hi], w_ih, dx[lo:hi], route)

    def one_product(c):
        if c == 0:
            gemm_into(di2.T, x2, dw_ih, route)
        else:
            gemm_into(dh2.T, h2, dw_hh, route)

    if dx is not None:
        run_chunks(dx_rows, n_chunks)
    run_chunks(one_product, 2)


def _gradients_by_rows(di2, dh2, x2, h2, w_ih, dx, dw_ih, dw_hh, n_chunks):
    # every product split by rows; dW as partial sums per chunk (chunk 0 writes dW itself)
    rows = x2.shape[0]
    dw_ih_parts = [dw_ih] + [np.empty_like(dw_ih) for _ in range(n_chunks - 1)]
    dw_hh_parts = [dw_hh] + [np.empty_like(dw_hh) for _ in range(n_chunks - 1)]
    route = gemm_route(x2.dtype)

    def rows_of(c):
        lo, hi = chunk_bounds(c, n_chunks, rows)
        if dx is not None:
            gemm_into(di2[lo:hi], w_ih, dx[lo:hi], route)
        gemm_into(di2[lo:hi].T, x2[lo:hi], dw_ih_parts[c], route)
        gemm_into(dh2[lo:hi].T, h2[lo:hi], dw_hh_parts[c], route)

    run_chunks(rows_of, n_chunks)
    for c in range(1, n_chunks):
        dw_ih += dw_ih_parts[c]
        dw_hh += dw_hh_parts[c]


_GRADIENT_SPLITS = {"product": _gradients_by_product, "rows": _gradients_by_rows}


def gradient_split(rows, gates, n_in, hidden, n_chunks, dtype):
    """How weight_gradients splits its products over n_chunks > 1 threads: "product" (dx by rows,
    then dW_ih on one thread and dW_hh on another) or "rows" (each product by rows, dW as partial
    sums added after). Default rule: "product" with few rows a thread (fewer than
    tuning.PRODUCT_SPLIT_ROWS: partial sums would cost as much as the product) or on two threads
    when input and hidden size are within tuning.PRODUCT_SPLIT_RATIO; measured (2 cores, float32,
    LSTM T=50, B=16, H=512) 29 ms by product, 43 ms by rows (the partial sums are 2 x 4 MiB per
    thread, written and added). Calibrated per shape class (tuning.decide)."""
    few_rows = rows < tuning.setting("PRODUCT_SPLIT_ROWS") * n_chunks
    measured_rows = min(1 << (rows.bit_length() - 1), tuning.setting("CALIBRATE_ROWS"))
    worth = rows * gates * (2 * n_in + hidden) >= tuning.setting("CALIBRATE_MIN_MACS") and not few_rows
    memo_key = (measured_rows, few_rows, worth, gates, n_in, hidden, n_chunks, np.dtype(dtype).num,
                tuning.setting("PRODUCT_SPLIT_RATIO"), tuning.state())
    split = _splits.get(memo_key)
    if split is None:
        split = _decide_split(measured_rows, few_rows, worth, gates, n_in, hidden, n_chunks, dtype)
        if not calibration.calibrating():   # a decision asked for inside a calibration is not the final one
            _splits[memo_key] = split
    return split


_splits = {}  # a split per shape class and tuning state: a call's split costs a dict look-up


def _decide_split(measured_rows, few_rows, worth, gates, n_in, hidden, n_chunks, dtype):
    balanced = max(n_in, hidden) <= tuning.setting("PRODUCT_SPLIT_RATIO") * min(n_in, hidden)
    first = "product" if few_rows or (n_chunks == 2 and balanced) else "rows"
    candidates = [{"dw_split": first}, {"dw_split": "rows" if first == "product" else "product"}]
    shape_class = dict(gates=gates, n_in=n_in, hidden=hidden, rows=measured_rows, threads=n_chunks,
                       dtype=np.dtype(dtype).name)
    if worth:
        gemm_route(dtype)   # decided first: the splits are measured on the route the products take

    def measure(candidate, timer):
        rng = np.random.default_rng(0)
        di2 = rng.standard_normal((measured_rows, gates)).astype(dtype)
        x2 = rng.standard_normal((measured_rows, n_in)).astype(dtype)
        h2 = rng.standard_normal((measured_rows, hidden)).astype(dtype)
        w_ih = rng.standard_normal((gates, n_in)).astype(dtype)
        outs = (np.empty((measured_rows, n_in), dtype), np.empty((gates, n_in), dtype),
                np.empty((gates, hidden), dtype))
        split = _GRADIENT_SPLITS[candidate["dw_split"]]
        return calibration.timed(lambda: split(di2, di2, x2, h2, w_ih, *outs, n_chunks), timer)

    return tuning.decide("weight_gradients", shape_class, candidates, measure, worth)["dw_split"]


def transposed_gemm_jobs(dtype, widths):
    """(panel_cpu, "panel_gemm", signature) for each signature the weight gradients dW = dG^T V
    (V of each of `widths` columns: the input and hidden sizes) compile on the panels route, where
    dG^T is an F-ordered view read in place; none on numpy's BLAS route, or while this process has
    not decided the route yet (deciding measures: the child would start a second later). A
    backward compiled in a second process (background_compile) compiles these too: no forward
    runs them, and the first backward would compile the first one (0.3-0.6 s) after its loop."""
    dtype = np.dtype(dtype)
    if decided_route(dtype) != "panels":
        return ()
    pw = panel_cpu.panel_width(dtype)
    sigs = []
    for n in widths:
        if n < pw:
            continue
        out = c_array(dtype, 2) if n % pw == 0 else c_array(dtype, 2).copy(layout="A")  # out[:, :whole panels]
        sig = (c_array(dtype, 2).copy(layout="F"), c_array(dtype, 3), out, types.int64, types.int64, c_array(dtype, 2))
        if sig not in sigs:
            sigs.append(sig)
    return tuple((panel_cpu, "panel_gemm", sig) for sig in sigs)


def weight_gradients(d_in, d_hid, x, h_prev, w_ih, n_chunks, need_dx=True):
    """d_in / d_hid [T,B,G*H] input-side / hidden-side pre-activation gradients (may be the same
    array), x [T,B,I], h_prev [T,B,H], w_ih [G*H,I] -> dx [T,B,I], dw_ih [G*H,I], dw_hh [G*H,H]:
    three GEMMs over all T*B rows, split over n_chunks threads as gradient_split says where the
    split pays on this machine (split_cpu "gemm", op "weight_gradients"; by default from
    tuning.SPLIT_MIN_MACS multiply-adds in all). need_dx=False (an input that needs no
    gradient: a first layer's data): dx is not computed and comes back None."""
    seq_len, batch, n_in = x.shape
    rows = seq_len * batch
    gates = d_in.shape[2]
    hidden = h_prev.shape[2]
    d_in2 = d_in.reshape(rows, gates)
    # dx allocated [T,B,I] and written through its [T*B,I] view: the array returned owns its
    # memory, so the engine can take it as a leaf's gradient without a copy (tinygrad_seq.leaf_grads.adoptable)
    dx3 = np.empty((seq_len, batch, n_in), x.dtype) if need_dx else None
    args = (d_in2, d_in2 if d_hid is d_in else d_hid.reshape(rows, gates), x.reshape(rows, n_in),
            h_prev.reshape(rows, hidden), w_ih, None if dx3 is None else dx3.reshape(rows, n_in),
            np.empty((gates, n_in), x.dtype), np.empty((gates, hidden), x.dtype))
    macs = rows * gates * ((2 if need_dx else 1) * n_in + hidden)

    def on_one_thread():
        di2, dh2, x2, h2, w, dx, dw_ih, dw_hh = args
        route = gemm_route(x.dtype)
        if dx is not None:
            gemm_into(di2, w, dx, route)
        gemm_into(di2.T, x2, dw_ih, route)
        gemm_into(dh2.T, h2, dw_hh, route)

    if n_chunks > 1 and rows > 0:
        split = gradient_split(rows, gates, n_in, hidden, n_chunks, x.dtype)

        def over_threads():
            _GRADIENT_SPLITS[split](*args, n_chunks)
        # split where that pays on this machine (split_cpu "gemm"; both write all of the outputs;
        # rule: from tuning.SPLIT_MIN_MACS multiply-adds in all)
        if splits("gemm", "weight_gradients", macs, x.dtype, on_one_thread, over_threads):
            over_threads()
            return dx3, args[6], args[7]
    on_one_thread()
    return dx3, args[6], args[7]


def one_step_gradients(d_gates, x, h0, w_ih, w_hh, n_chunks, weights=True, d_hid=None):
    """A one-step call's products, d_gates [B,G*H], x [B,I], h0 [B,H] -> dx [B,I], dh [B,H] (=
    d_hid @ W_hh, for every row), dw_ih [G*H,I], dw_hh [G*H,H] (= d_hid^T h0); d_hid: the
    hidden-side pre-activation gradients where they differ from d_gates (the GRU's n block), else
    d_gates. Two products on each of two threads,
    each pair one product that reads a weight matrix and one that writes a weight gradient
    (dx with dW_hh, dh with dW_ih: about even halves of the work at any I and H). No split of a
    product: a step's few rows give a thread too little to share a product with another.
    weights=False: dx and dh only (one a thread); dw_ih and dw_hh come back None."""
    batch, n_in = x.shape
    hidden = h0.shape[1]
    dx = np.empty((batch, n_in), x.dtype)
    dh = np.empty((batch, hidden), x.dtype)
    dw_ih = np.empty(w_ih.shape, x.dtype) if weights else None
    dw_hh = np.empty(w_hh.shape, x.dtype) if weights else None

    d_hid = d_gates if d_hid is None else d_hid
    n_pairs = min(n_chunks, 2)

    def pair(c):
        if c == 0:
            gemm_into(d_gates, w_ih, dx)
            if weights:
                gemm_into(d_hid.T, h0, dw_hh)
        if c == n_pairs - 1:
            gemm_into(d_hid, w_hh, dh)
            if weights:
                gemm_into(d_gates.T, x, dw_ih)

    run_chunks(pair, n_pairs)
    return dx, dh, dw_ih, dw_hh
