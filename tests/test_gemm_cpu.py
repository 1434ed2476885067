"""kernels/gemm_cpu.py: the engine's CPU products (np.matmul semantics, kept off numpy's BLAS
threads) against numpy in float64, over every route: plain np.matmul, numpy pinned to one
thread, and rows split over Numba's threads."""
import numba
import numpy as np
import pytest

from tinygrad_seq.kernels import blas_cpu, gemm_cpu, tuning

from threads_helpers import ChunkSpy, rerun_with_two_threads


def _layouts(x):
    """x as C-ordered, as a transposed view (F-ordered in its last two axes) and as a strided view."""
    t = np.swapaxes(np.ascontiguousarray(np.swapaxes(x, -1, -2)), -1, -2)
    strided = np.repeat(x, 2, axis=-1)[..., ::2]
    return {"C": x, "T": t, "strided": strided}


SHAPES = [
    ((40, 30), (30, 20)),               # small: np.matmul
    ((32, 300), (300, 200)),            # few rows: numpy pinned to one thread
    ((600, 90), (90, 80)),              # many rows: split over Numba's threads
    ((3, 200, 90), (90, 80)),           # batch dims merged into rows
    ((4, 1, 70, 90), (3, 90, 80)),      # broadcast batch dims
    ((5, 64, 128), (5, 128, 64)),       # batched
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shapes", SHAPES, ids=lambda s: f"{s[0]}@{s[1]}")
def test_matches_numpy_matmul(shapes, dtype, monkeypatch, request):
    # one thread and two (forced: a fresh process when this one has one Numba thread)
    if rerun_with_two_threads(request):
        return
    monkeypatch.setattr(tuning, "SPLIT_MIN_MACS", 1)
    monkeypatch.setattr(tuning, "ROWS_PER_THREAD", 8)
    spy = ChunkSpy(monkeypatch, gemm_cpu)
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shapes[0]).astype(dtype)
    b = rng.standard_normal(shapes[1]).astype(dtype)
    ref = np.matmul(a.astype(np.float64), b.astype(np.float64))
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-4)
    before = numba.get_num_threads()
    try:
        for threads in (1, 2):
            numba.set_num_threads(threads)
            for an, aa in _layouts(a).items():
                for bn, bb in _layouts(b).items():
                    got = gemm_cpu.matmul(aa, bb)
                    assert got.dtype == dtype and got.shape == ref.shape, (an, bn)
                    np.testing.assert_allclose(got, ref, err_msg=f"{an} @ {bn}, {threads} threads", **tol)
    finally:
        numba.set_num_threads(before)
    if shapes == ((600, 90), (90, 80)):
        assert spy.most == 2  # the rows split ran on two threads


# x^T @ g (a weight gradient): 203 rows, an odd count, split the reduction into partial products
# over chunks of x's rows, added; g^T @ x with k = 24 rows (a one-step weight gradient) has too few
# to split the reduction, so the output's 301 rows split over the threads (uneven chunks)
@pytest.mark.parametrize("rows,left,right,rows_per_thread", [(203, 37, 29, 8), (24, 301, 70, 16)],
                         ids=["reduction", "output_rows"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_transposed_left_operand_splits_over_two_threads(dtype, rows, left, right, rows_per_thread, monkeypatch,
                                                         request):
    if rerun_with_two_threads(request):
        return
    monkeypatch.setattr(tuning, "SPLIT_MIN_MACS", 1)
    monkeypatch.setattr(tuning, "ROWS_PER_THREAD", rows_per_thread)
    monkeypatch.setattr(tuning, "PARALLEL_MIN_MACS", 0)
    rng = np.random.default_rng(rows)
    a = rng.standard_normal((rows, left)).astype(dtype)
    b = rng.standard_normal((rows, right)).astype(dtype)
    _check_split_on_two_threads(monkeypatch, a, b, dtype)


# a decoder step's projection: few rows (20, under ROWS_PER_THREAD per thread) times a large
# weight's transpose splits by output columns (uneven chunks of 301); 3-D input rows merged
@pytest.mark.parametrize("lead", [(20,), (4, 5)], ids=["2d", "3d"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_few_rows_times_a_large_weight_splits_by_columns(dtype, lead, monkeypatch, request):
    if rerun_with_two_threads(request):
        return
    monkeypatch.setattr(tuning, "SPLIT_MIN_MACS", 1)
    monkeypatch.setattr(tuning, "PARALLEL_MIN_MACS", 0)
    monkeypatch.setattr(tuning, "COLUMNS_SPLIT_MIN_WEIGHT", 1000)
    monkeypatch.setattr(tuning, "COLUMNS_SPLIT_MIN_ROWS", 4)
    rng = np.random.default_rng(3)
    x = rng.standard_normal(lead + (70,)).astype(dtype)
    w = rng.standard_normal((301, 70)).astype(dtype)   # weight [out, in]: x @ w.T
    assert gemm_cpu._split_kind(x, w.T, int(np.prod(lead)), 70) == "cols"
    assert gemm_cpu._split_kind(x[..., :3, :] if len(lead) == 1 else x[:1, :3], w.T, 3, 70) is None   # too few rows
    spy = ChunkSpy(monkeypatch, gemm_cpu)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(2)
        got = gemm_cpu.matmul(x, w.T)
    finally:
        numba.set_num_threads(before)
    assert spy.most == 2 and got.dtype == dtype and got.shape == lead + (301,) and got.flags.c_contiguous
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got, x.astype(np.float64) @ w.T.astype(np.float64), **tol)


def _check_split_on_two_threads(monkeypatch, x, g, dtype):
    """gemm_cpu.matmul(x^T, g) on two Numba threads: split over both, C-ordered, numpy's value."""
    spy = ChunkSpy(monkeypatch, gemm_cpu)
    ref = x.astype(np.float64).T @ g.astype(np.float64)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(2)
        got = gemm_cpu.matmul(x.T, g)
    finally:
        numba.set_num_threads(before)
    assert spy.most == 2 and got.dtype == dtype and got.flags.c_contiguous
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got, ref, **tol)


def test_other_operands_go_to_numpy():
    a = np.arange(12).reshape(3, 4)
    b = np.arange(8).reshape(4, 2)
    np.testing.assert_array_equal(gemm_cpu.matmul(a, b), a @ b)                  # integers
    x = np.ones((3, 4), np.float32)
    assert gemm_cpu.matmul(x, np.ones((4, 2))).dtype == np.float64                 # mixed dtypes
    assert gemm_cpu.matmul(np.ones((0, 4)), np.ones((4, 2))).shape == (0, 2)       # empty
    with pytest.raises(ValueError):
        gemm_cpu.matmul(np.ones((3, 4)), np.ones((5, 2)))                           # numpy's error


@pytest.mark.parametrize("shapes", [((3, 400, 64), (64, 80)), ((32, 300), (300, 200)), ((4, 40, 90), (4, 90, 80))],
                         ids=str)
def test_engine_matmul_goes_through_gemm_cpu(shapes, monkeypatch):
    """Tensor @ Tensor on "cpu" above numpy's one-thread size: forward and both gradients through
    backend_cpu.matmul and kernels/gemm_cpu (the route counted), against numpy."""
    import tinygrad_seq as ts
    from tinygrad_seq import backend_cpu

    calls = []
    real = gemm_cpu.matmul

    def counted(a, b):
        calls.append((a.shape, b.shape))
        return real(a, b)

    monkeypatch.setattr(backend_cpu, "_gemm_cpu", gemm_cpu)
    monkeypatch.setattr(gemm_cpu, "matmul", counted)
    rng = np.random.default_rng(1)
    a = rng.standard_normal(shapes[0])
    b = rng.standard_normal(shapes[1])
    ta, tb = ts.Tensor(a, requires_grad=True), ts.Tensor(b, requires_grad=True)
    out = ta @ tb
    g = rng.standard_normal(out.shape)
    (out * ts.Tensor(g)).sum().backward()
    np.testing.assert_allclose(out.numpy(), a @ b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ta.grad.numpy(), g @ np.swapaxes(b, -1, -2), rtol=1e-12, atol=1e-12)
    gb = np.swapaxes(a, -1, -2) @ g
    np.testing.assert_allclose(tb.grad.numpy(), gb.sum(0) if b.ndim < gb.ndim else gb, rtol=1e-12, atol=1e-12)
    assert len(calls) >= 2


class _NumpySpy:
    """gemm_cpu's `np`, recording the operand shapes of each np.matmul."""
    def __init__(self):
        self.products = []

    def __getattr__(self, name):
        return getattr(np, name)

    def matmul(self, a, b, *args, **kwargs):
        self.products.append((a.shape, b.shape))
        return np.matmul(a, b, *args, **kwargs)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("lead", [(32,), (2, 16), (64,), (65,)], ids=str)
def test_few_rows_times_transposed_weight_runs_swapped(lead, dtype, monkeypatch):
    # x @ W^T (W C-ordered [N, K]) with at most tuning.SWAP_MAX_ROWS rows runs as (W @ x^T)^T,
    # which OpenBLAS runs faster; the result is C-ordered and equal to numpy's product
    spy = _NumpySpy()
    monkeypatch.setattr(gemm_cpu, "np", spy)
    monkeypatch.setattr(blas_cpu, "np", spy)   # where gemm_into runs the swapped product
    rng = np.random.default_rng(2)
    x = rng.standard_normal(lead + (300,)).astype(dtype)
    w = rng.standard_normal((400, 300)).astype(dtype)
    got = gemm_cpu.matmul(x, w.T)
    ref = x.astype(np.float64) @ w.T.astype(np.float64)
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == np.float64 else dict(rtol=1e-4, atol=1e-4)
    assert got.dtype == dtype and got.shape == ref.shape and got.flags.c_contiguous
    np.testing.assert_allclose(got, ref, **tol)
    rows = int(np.prod(lead))
    swapped = [(400, 300), (300, rows)] in [list(p) for p in spy.products]
    assert swapped == (rows <= tuning.SWAP_MAX_ROWS), spy.products
    monkeypatch.setattr(tuning, "SWAP_MAX_ROWS", 0)        # forced off: numpy's own order
    spy.products.clear()
    np.testing.assert_allclose(gemm_cpu.matmul(x, w.T), ref, **tol)
    assert all(p[0] != (400, 300) for p in spy.products)
