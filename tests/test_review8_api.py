"""Review 8 of the API surface against torch 2.13: linalg.cond / solve_triangular / cholesky on
singular and nan inputs, out= on torch.linalg and torch.special, uint8 and 5-D interpolate,
weight_norm of 1-D parameters, the 1-D modules' attributes, Normal's sample dtype, and the older
top-level svd / qr / cholesky / cholesky_solve / cholesky_inverse with linalg.householder_product,
tensorinv and tensorsolve (values and gradients)."""
import warnings

import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")

def _np(t):
    return t.detach().numpy()


# 1. linalg.cond of a singular matrix with p in fro/nuc/+-1/+-inf: torch gives inf, ours raises
@pytest.mark.parametrize("p", ["fro", "nuc", 1, -1, float("inf"), -float("inf")])
def test_cond_singular_matrix_is_inf(p):
    S = np.ones((2, 3, 3)); S[0] = np.eye(3)
    want = _np(torch.linalg.cond(torch.tensor(S), p))
    assert np.isinf(want[1])
    got = _np(ts.linalg.cond(ts.tensor(S), p))     # ours: LinAlgError from inv()
    np.testing.assert_allclose(got, want)


# 2. interpolate on uint8 images: torch 2.13 supports nearest / nearest-exact / bilinear
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear"])
def test_interpolate_uint8(mode):
    x = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5).astype(np.uint8)
    want = torch.nn.functional.interpolate(torch.tensor(x), scale_factor=2, mode=mode)
    got = ts.nn.functional.interpolate(ts.tensor(x), scale_factor=2, mode=mode)   # ours: NotImplementedError
    assert str(got.dtype) == "uint8"
    np.testing.assert_array_equal(_np(got), want.numpy())


def test_interpolate_uint8_1d_nearest():
    x = np.arange(12).reshape(1, 3, 4).astype(np.uint8)
    want = torch.nn.functional.interpolate(torch.tensor(x), scale_factor=2)
    got = ts.nn.functional.interpolate(ts.tensor(x), scale_factor=2)
    np.testing.assert_array_equal(_np(got), want.numpy())


# 3. out= on ts.special / ts.linalg functions (README: "The free functions take out=")
@pytest.mark.parametrize("mod,name", [("special", "erf"), ("special", "expit"), ("special", "ndtr"),
                                      ("linalg", "inv"), ("linalg", "vector_norm")])
def test_special_linalg_out_kwarg(mod, name):
    A = np.eye(3) * 2.0
    want = torch.empty(()) if name == "vector_norm" else torch.empty(3, 3, dtype=torch.float64)
    want = torch.empty((), dtype=torch.float64) if name == "vector_norm" else want
    getattr(getattr(torch, mod), name)(torch.tensor(A), out=want)
    out = ts.zeros((), dtype=ts.float64) if name == "vector_norm" else ts.zeros(3, 3, dtype=ts.float64)
    getattr(getattr(ts, mod), name)(ts.tensor(A), out=out)          # ours: TypeError
    np.testing.assert_allclose(_np(out), want.numpy())


# 4. weight_norm of a 1-D parameter: torch's g has the parameter's shape (norm of each element)
@pytest.mark.parametrize("new", [True, False])
def test_weight_norm_1d_param_g_shape_and_torch_checkpoint(new):
    warnings.simplefilter("ignore")
    def wn(lib, m):
        (lib.nn.utils.parametrizations.weight_norm if new else lib.nn.utils.weight_norm)(m, "bias")
        return m
    tm = wn(torch, torch.nn.Linear(2, 3))
    m = wn(ts, ts.nn.Linear(2, 3))
    want = {k: tuple(v.shape) for k, v in tm.state_dict().items()}
    got = {k: tuple(v.shape) for k, v in m.state_dict().items()}
    assert got == want                                      # ours: g is (1,), torch (3,)
    m.load_state_dict({k: ts.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})


def test_weight_norm_prelu_weight():
    tm = torch.nn.PReLU(3); torch.nn.utils.parametrizations.weight_norm(tm)
    m = ts.nn.PReLU(3); ts.nn.utils.parametrizations.weight_norm(m)
    assert tuple(m.parametrizations.weight.original0.shape) == tuple(tm.parametrizations.weight.original0.shape)


# 5. solve_triangular with a zero on the diagonal: torch returns inf/nan, ours raises
def test_solve_triangular_singular_no_error():
    U = np.triu(np.ones((3, 3))); U[2, 2] = 0.0
    want = torch.linalg.solve_triangular(torch.tensor(U), torch.ones(3, 1, dtype=torch.float64), upper=True)
    got = ts.linalg.solve_triangular(ts.tensor(U), ts.ones(3, 1, dtype=ts.float64), upper=True)
    np.testing.assert_array_equal(np.isfinite(_np(got)), np.isfinite(want.numpy()))


# 6. cholesky of a NaN matrix: torch raises LinAlgError, ours returns NaNs
def test_cholesky_nan_raises():
    A = np.full((3, 3), np.nan)
    with pytest.raises(RuntimeError):
        torch.linalg.cholesky(torch.tensor(A))
    with pytest.raises(RuntimeError):
        ts.linalg.cholesky(ts.tensor(A))


# 7. vector_norm(inf) of an empty tensor: torch raises RuntimeError, ours IndexError
def test_vector_norm_inf_empty_error_type():
    with pytest.raises(RuntimeError):
        torch.linalg.vector_norm(torch.ones(0, 3), float("inf"))
    with pytest.raises(RuntimeError):
        ts.linalg.vector_norm(ts.ones(0, 3), float("inf"))


# 8. logit's gradient outside [0, 1] is NaN, as torch's (ops_host.py)
@pytest.mark.parametrize("fn", ["special", "top"])
def test_logit_grad_out_of_range_nan(fn):
    def g(lib):
        x = lib.tensor([-0.1, 0.5, 1.1], requires_grad=True)
        (lib.special.logit(x) if fn == "special" else lib.logit(x)).sum().backward()
        return _np(x.grad)
    np.testing.assert_allclose(g(ts), g(torch), equal_nan=True)


# 9. 1-D module attributes: AvgPool1d stores tuples; Conv1d has output_padding / transposed
def test_avgpool1d_attributes_are_tuples():
    t, o = torch.nn.AvgPool1d(3, stride=1), ts.nn.AvgPool1d(3, stride=1)
    assert (o.kernel_size, o.stride, o.padding) == (t.kernel_size, t.stride, t.padding)


def test_conv1d_has_output_padding_and_transposed():
    t, o = torch.nn.Conv1d(3, 4, 3), ts.nn.Conv1d(3, 4, 3)
    assert (getattr(o, "output_padding", None), getattr(o, "transposed", None)) == (t.output_padding, t.transposed)


# 10. Normal with float32 loc and float64 scale: torch's sample() has loc's dtype
def test_normal_mixed_dtype_sample_dtype():
    t = torch.distributions.Normal(torch.zeros(3), torch.ones(3, dtype=torch.float64)).sample()
    o = ts.distributions.Normal(ts.zeros(3), ts.ones(3, dtype=ts.float64)).sample()
    assert str(o.dtype) == str(t.dtype).replace("torch.", "")


# ------------------------------------------------------------------ beyond the audit's cases
def _rand(*shape, seed=0):
    return np.random.default_rng(seed).random(shape)


def test_out_rules_match_torch():
    A = np.eye(3) * 2.0
    with pytest.raises(RuntimeError, match="dtype double, but got float"):
        ts.linalg.inv(ts.tensor(A), out=ts.zeros(3, 3))
    out = ts.zeros(3, 3)   # torch.special casts into a float32 out
    ts.special.erf(ts.tensor(A), out=out)
    np.testing.assert_allclose(out.numpy(), torch.special.erf(torch.tensor(A)).float().numpy(), rtol=1e-6)
    out = ts.zeros(0, dtype=ts.float64)   # resized to the result's shape
    ts.linalg.inv(ts.tensor(A), out=out)
    assert tuple(out.shape) == (3, 3)
    with pytest.raises(RuntimeError, match="automatic differentiation"):
        ts.linalg.inv(ts.tensor(A, requires_grad=True), out=ts.zeros(3, 3, dtype=ts.float64))
    q, r = ts.zeros(3, 3, dtype=ts.float64), ts.zeros(3, 3, dtype=ts.float64)
    got = ts.linalg.qr(ts.tensor(A), out=(q, r))
    assert got.Q is q and got.R is r
    np.testing.assert_allclose(r.numpy(), torch.linalg.qr(torch.tensor(A)).R.numpy())
    rank = ts.zeros(())   # matrix_rank / cond cast, as torch's
    ts.linalg.matrix_rank(ts.tensor(A), out=rank)
    assert rank.item() == 3.0


def test_cond_singular_in_float32_batch_and_lone_matrix():
    S = np.ones((3, 3), np.float32)
    assert np.isinf(ts.linalg.cond(ts.tensor(S), "fro").item())
    assert str(ts.linalg.cond(ts.tensor(S), 1).dtype) == "float32"


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_solve_triangular_singular_gradients_like_torch():
    U = np.triu(_rand(4, 4) + 1); U[1, 1] = 0.0
    B = _rand(4, 2, seed=1); B[3, 0] = 0.0
    for upper in (True, False):
        for left in (True, False):
            A, BB = (U if upper else U.T), (B if left else B.T)
            res = []
            for lib in (torch, ts):
                a, b = lib.tensor(A, requires_grad=True), lib.tensor(BB, requires_grad=True)
                x = lib.linalg.solve_triangular(a, b, upper=upper, left=left)
                x.sum().backward()
                res.append([_np(x), _np(a.grad), _np(b.grad)])
            for want, got in zip(*res):
                np.testing.assert_allclose(got, want, equal_nan=True, rtol=1e-7)


@pytest.mark.parametrize("size", [dict(scale_factor=1.5), dict(scale_factor=0.5), dict(size=(9, 4))])
@pytest.mark.parametrize("align_corners", [False, True])
def test_interpolate_uint8_bilinear_bit_exact(size, align_corners):
    x = (np.random.default_rng(2).random((2, 3, 7, 10)) * 255).astype(np.uint8)
    want = torch.nn.functional.interpolate(torch.tensor(x), mode="bilinear", align_corners=align_corners, **size)
    got = ts.nn.functional.interpolate(ts.tensor(x), mode="bilinear", align_corners=align_corners, **size)
    np.testing.assert_array_equal(_np(got), want.numpy())


@pytest.mark.parametrize("mode", ["linear", "area"])
def test_interpolate_uint8_refused_as_torch(mode):
    x = ts.zeros(1, 1, 4, dtype=ts.uint8)
    with pytest.raises(NotImplementedError, match="Byte"):
        ts.nn.functional.interpolate(x, scale_factor=2, mode=mode)
    with pytest.raises(NotImplementedError, match="Byte"):
        torch.nn.functional.interpolate(torch.zeros(1, 1, 4, dtype=torch.uint8), scale_factor=2, mode=mode)


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
@pytest.mark.parametrize("size", [dict(scale_factor=1.7), dict(size=(3, 5, 7))])
def test_interpolate_5d_nearest(mode, size):
    x = np.random.default_rng(3).random((1, 2, 4, 6, 5))
    want = torch.nn.functional.interpolate(torch.tensor(x), mode=mode, **size)
    got = ts.nn.functional.interpolate(ts.tensor(x), mode=mode, **size)
    np.testing.assert_array_equal(_np(got), want.numpy())


def test_weight_norm_1d_forward_and_grad():
    warnings.simplefilter("ignore")
    tm, m = torch.nn.Linear(2, 3), ts.nn.Linear(2, 3)
    m.load_state_dict({k: ts.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    torch.nn.utils.parametrizations.weight_norm(tm, "bias")
    ts.nn.utils.parametrizations.weight_norm(m, "bias")
    x = np.random.default_rng(4).random((5, 2)).astype(np.float32)
    tm(torch.tensor(x)).sum().backward()
    m(ts.tensor(x)).sum().backward()
    np.testing.assert_allclose(_np(m.parametrizations.bias.original0.grad),
                               tm.parametrizations.bias.original0.grad.numpy(), rtol=1e-5)


def test_pool1d_attributes_as_torch():
    for kw in (dict(kernel_size=3), dict(kernel_size=(3,), stride=(2,)), dict(kernel_size=2, stride=1, padding=1)):
        for name in ("MaxPool1d", "AvgPool1d"):
            t, o = getattr(torch.nn, name)(**kw), getattr(ts.nn, name)(**kw)
            assert (o.kernel_size, o.stride, o.padding) == (t.kernel_size, t.stride, t.padding)
            assert repr(o) == repr(t)
    for name in ("AdaptiveAvgPool1d", "AdaptiveMaxPool1d"):
        for size in (3, (3,)):
            assert getattr(ts.nn, name)(size).output_size == getattr(torch.nn, name)(size).output_size
    x = np.arange(12.0).reshape(1, 2, 6)
    np.testing.assert_allclose(_np(ts.nn.AvgPool1d(3, stride=1)(ts.tensor(x))),
                               torch.nn.AvgPool1d(3, stride=1)(torch.tensor(x)).numpy())


def _compare(torch_fn, ts_fn, *arrays, seed=5):
    """Values of the first output and the gradients of a weighted sum of all, against torch."""
    res = []
    for lib, fn in ((torch, torch_fn), (ts, ts_fn)):
        inputs = [lib.tensor(a, requires_grad=True) for a in arrays]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = fn(*inputs)
        outs = [out] if isinstance(out, lib.Tensor) else list(out)
        total = sum((o * lib.tensor(np.random.default_rng(seed + i).random(tuple(o.shape)))).sum()
                    for i, o in enumerate(outs) if o.requires_grad)
        total.backward()
        res.append([_np(o) for o in outs] + [_np(i.grad) for i in inputs])
    for want, got in zip(*res):
        np.testing.assert_allclose(got, want, rtol=1e-7, atol=1e-10)


def _spd(n=3, batch=(2,)):
    m = _rand(*batch, n, n, seed=6)
    return m @ np.swapaxes(m, -1, -2) + np.eye(n)


@pytest.mark.parametrize("case", ["svd", "svd_full", "svd_no_uv", "qr", "qr_complete", "cholesky", "cholesky_upper"])
def test_older_top_level_factorisations(case):
    A = _rand(2, 5, 3, seed=7)
    fns = {"svd": (lambda lib, a: lib.svd(a), A), "svd_full": (lambda lib, a: lib.svd(a, some=False)[1:], A),
           "svd_no_uv": (lambda lib, a: lib.svd(a, compute_uv=False), A),
           "qr": (lambda lib, a: lib.qr(a), A), "qr_complete": (lambda lib, a: lib.qr(a, some=False), A.swapaxes(1, 2)),
           "cholesky": (lambda lib, a: lib.cholesky(a), _spd()),
           "cholesky_upper": (lambda lib, a: lib.cholesky(a, upper=True), _spd())}
    fn, arr = fns[case]
    _compare(lambda a: fn(torch, a), lambda a: fn(ts, a), arr)


def test_svd_named_tuple_and_v_not_transposed():
    A = _rand(4, 3, seed=8)
    U, S, V = ts.svd(ts.tensor(A))
    assert type(ts.svd(ts.tensor(A))).__name__ == "svd"
    np.testing.assert_allclose((U * S) @ V.mT, A, atol=1e-12)
    with pytest.warns(UserWarning, match="torch.linalg.qr"):
        ts.qr(ts.tensor(A))


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_solve_and_inverse(upper):
    L = np.linalg.cholesky(_spd())
    F = np.swapaxes(L, -1, -2) if upper else L
    junk = np.tril(_rand(3, 3, seed=9), -1) if upper else np.triu(_rand(3, 3, seed=9), 1)   # not read; has a gradient
    B = _rand(4, 2, 3, 2, seed=10)
    _compare(lambda b, f: torch.cholesky_solve(b, f, upper=upper), lambda b, f: ts.cholesky_solve(b, f, upper=upper),
             B, F + junk)
    _compare(lambda f: torch.cholesky_inverse(f, upper=upper), lambda f: ts.cholesky_inverse(f, upper=upper), F + junk)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        ts.cholesky_solve(ts.ones(3, dtype=ts.float64), ts.tensor(L))
    with pytest.raises(RuntimeError, match="Incompatible matrix sizes"):
        ts.cholesky_solve(ts.ones(2, 1, dtype=ts.float64), ts.tensor(L))


def test_householder_product_tensorinv_tensorsolve():
    _compare(torch.linalg.householder_product, ts.linalg.householder_product, _rand(2, 5, 3, seed=11),
             _rand(2, 2, seed=12))
    _compare(lambda a: torch.linalg.tensorinv(a, ind=2), lambda a: ts.linalg.tensorinv(a, ind=2),
             _rand(4, 6, 8, 3, seed=13))
    _compare(lambda a, b: torch.linalg.tensorsolve(a, b, dims=(0,)),
             lambda a, b: ts.linalg.tensorsolve(a, b, dims=(0,)), _rand(6, 2, 3, seed=14), _rand(2, 3, seed=15))
    with pytest.raises(RuntimeError, match="prod"):
        ts.linalg.tensorinv(ts.ones(2, 3, dtype=ts.float64), ind=1)
    with pytest.raises(RuntimeError, match="greater than or equal"):
        ts.linalg.householder_product(ts.ones(2, 3, dtype=ts.float64), ts.ones(1, dtype=ts.float64))


def test_gradcheck_new_functions():
    L = ts.tensor(np.linalg.cholesky(_spd(batch=())), requires_grad=True)
    B = ts.tensor(_rand(3, 2, seed=16), requires_grad=True)
    # torch's formula is the derivative of the full-matrix expression; the triangle read is tril(L)
    assert ts.gradcheck(lambda b, f: ts.cholesky_solve(b, f.tril()), (B, L))
    assert ts.gradcheck(lambda f: ts.cholesky_inverse(f.tril()), (L,))
    A = ts.tensor(_rand(4, 3, seed=17), requires_grad=True)
    tau = ts.tensor(_rand(2, seed=18), requires_grad=True)
    assert ts.gradcheck(ts.linalg.householder_product, (A, tau))
