"""ts.linalg, ts.special and the top-level numeric functions (tensordot, isin, frexp, polygamma,
trapezoid, det, ...) against torch: float64 values and gradients, float32 dtypes, shapes, errors;
and ts.gradcheck on the linalg Functions."""
import numpy as np
import pytest

import tinygrad_seq as ts
import tinygrad_seq.linalg as L
import tinygrad_seq.special as S

torch = pytest.importorskip("torch")

rng = np.random.default_rng(0)
A4 = rng.standard_normal((2, 4, 4))
B43 = rng.standard_normal((2, 4, 3))
TALL = rng.standard_normal((2, 5, 3))
WIDE = rng.standard_normal((3, 5))
SPD = A4 @ A4.transpose(0, 2, 1) + 4 * np.eye(4)


def _outputs(o):
    return tuple(o) if isinstance(o, tuple) else (o,)


def check(fts, ftorch, *arrays, grad=True, tol=1e-10):
    """Values (and, with grad, the gradients of a random weighting of every float output) of
    fts on ts tensors against ftorch on torch tensors, in float64."""
    ta = [ts.tensor(a, requires_grad=grad) for a in arrays]
    tt = [torch.tensor(a, requires_grad=grad) for a in arrays]
    mine, theirs = _outputs(fts(*ta)), _outputs(ftorch(*tt))
    assert len(mine) == len(theirs)
    for m, t in zip(mine, theirs):
        assert tuple(m.shape) == tuple(t.shape)
        np.testing.assert_allclose(m.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol)
    if not grad:
        return
    w = np.random.default_rng(1)
    loss_ts = loss_torch = 0
    for m, t in zip(mine, theirs):
        if t.requires_grad:
            weight = w.standard_normal(tuple(t.shape))
            loss_ts = loss_ts + (m * ts.tensor(weight)).sum()
            loss_torch = loss_torch + (t * torch.tensor(weight)).sum()
    loss_ts.backward()
    loss_torch.backward()
    for a, t in zip(ta, tt):
        assert (a.grad is None) == (t.grad is None)
        if a.grad is not None:
            np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-8, atol=1e-9)


# ---------------------------------------------------------------- factorisations and inverses
@pytest.mark.parametrize("name, args", [
    ("inv", (A4,)), ("det", (A4,)), ("slogdet", (A4,)), ("solve", (A4, B43)), ("solve", (A4, B43[:, :, 0])),
    ("solve", (A4, B43[0, :, 0])), ("cholesky", (SPD,)), ("qr", (TALL,)), ("qr", (WIDE,)), ("svdvals", (TALL,)),
    ("eigvalsh", (SPD,)), ("pinv", (TALL,)), ("pinv", (WIDE,)), ("multi_dot", None), ("cond", (A4,)),
])
def test_linalg_values_and_gradients(name, args):
    if name == "multi_dot":
        check(lambda a, b, c: L.multi_dot([a, b, c]), lambda a, b, c: torch.linalg.multi_dot([a, b, c]),
              A4[0, 0], A4[1], B43[0, :, 0])
        return
    check(getattr(L, name), getattr(torch.linalg, name), *args)


@pytest.mark.parametrize("kw", [dict(left=False), dict()])
def test_solve_left_right(kw):
    rhs = B43.transpose(0, 2, 1) if kw else B43
    check(lambda a, b: L.solve(a, b, **kw), lambda a, b: torch.linalg.solve(a, b, **kw), A4, rhs)


def test_cholesky_upper_qr_modes_eigh_and_svd_gradients():
    check(lambda a: L.cholesky(a, upper=True), lambda a: torch.linalg.cholesky(a, upper=True), SPD)
    check(lambda a: L.qr(a, "complete"), lambda a: torch.linalg.qr(a, "complete"), A4)
    check(lambda a: L.qr(a, "r").R, lambda a: torch.linalg.qr(a, "r").R, TALL, grad=False)
    # eigenvectors and singular vectors are fixed up to sign: differentiate sign-free functions
    check(lambda a: (lambda w, v: (w, v * v))(*L.eigh(a)), lambda a: (lambda w, v: (w, v * v))(*torch.linalg.eigh(a)),
          SPD)
    check(lambda a: L.eigvalsh(a, "U"), lambda a: torch.linalg.eigvalsh(a, "U"), A4)
    for x in (TALL, WIDE, A4):
        for full in (False, True):
            check(lambda a: (lambda u, s, v: (u[..., :3] @ ts.diag_embed(s[..., :3]) @ v[..., :3, :], u * u, v * v))(
                      *L.svd(a, full)) if not full else L.svd(a, full).S,
                  lambda a: (lambda u, s, v: (u[..., :3] @ torch.diag_embed(s[..., :3]) @ v[..., :3, :], u * u, v * v))(
                      *torch.linalg.svd(a, full)) if not full else torch.linalg.svd(a, full).S, x)


def test_pinv_tolerances_matrix_power_and_rank():
    check(lambda a: L.pinv(a, hermitian=True), lambda a: torch.linalg.pinv(a, hermitian=True), SPD)
    low_rank = TALL[0] @ np.diag([1.0, 1.0, 1e-3]) @ WIDE[:, :3]
    check(lambda a: L.pinv(a, rtol=1e-2), lambda a: torch.linalg.pinv(a, rtol=1e-2), low_rank)
    check(lambda a: L.pinv(a, atol=0.5), lambda a: torch.linalg.pinv(a, atol=0.5), low_rank)
    for n in (-3, 0, 1, 5):
        check(lambda a: L.matrix_power(a, n), lambda a: torch.linalg.matrix_power(a, n), A4)
    for x, kw in ((TALL, {}), (np.ones((3, 3)), {}), (low_rank, dict(rtol=1e-2)), (low_rank, dict(atol=0.5)),
                  (SPD, dict(hermitian=True))):
        mine, theirs = L.matrix_rank(ts.tensor(x), **kw), torch.linalg.matrix_rank(torch.tensor(x), **kw)
        assert mine.dtype == np.int64 and mine.tolist() == theirs.tolist()


def test_lstsq_fields_follow_the_driver():
    rhs = TALL[:, :, :2] * 2 + 1
    check(lambda a, b: L.lstsq(a, b).solution, lambda a, b: torch.linalg.lstsq(a, b).solution, TALL, rhs)
    check(lambda a, b: L.lstsq(a, b).solution, lambda a, b: torch.linalg.lstsq(a, b).solution, TALL, rhs[..., 0])
    for driver in ("gelsy", "gelsd", "gelss", "gels"):
        mine = L.lstsq(ts.tensor(TALL), ts.tensor(rhs), driver=driver)
        theirs = torch.linalg.lstsq(torch.tensor(TALL), torch.tensor(rhs), driver=driver)
        for m, t in zip(mine, theirs):
            assert tuple(m.shape) == tuple(t.shape)
            np.testing.assert_allclose(m.numpy(), t.numpy(), rtol=1e-10, atol=1e-10)


def test_small_helpers():
    check(L.vecdot, torch.linalg.vecdot, TALL, TALL[0])
    check(L.cross, torch.linalg.cross, B43[:, :3], B43[:1, 1:])
    check(lambda a: L.diagonal(a, offset=1), lambda a: torch.linalg.diagonal(a, offset=1), TALL)
    check(lambda a: L.vander(a, N=4), lambda a: torch.linalg.vander(a, N=4), B43[0])
    check(lambda a, b: L.solve_triangular(a, b, upper=True), lambda a, b: torch.linalg.solve_triangular(a, b, upper=True),
          A4 + 3 * np.eye(4), B43)
    check(lambda a, b: L.solve_triangular(a, b, upper=False, left=False, unitriangular=True),
          lambda a, b: torch.linalg.solve_triangular(a, b, upper=False, left=False, unitriangular=True),
          A4, B43.transpose(0, 2, 1))
    check(lambda a: L.cond(a, "fro"), lambda a: torch.linalg.cond(a, "fro"), A4, grad=False)


# ---------------------------------------------------------------- norms
@pytest.mark.parametrize("ord", [2, 1, 0, np.inf, -np.inf, 3, 0.5, -1.5])
def test_vector_norm(ord):
    check(lambda a: L.vector_norm(a, ord, dim=(0, 2)), lambda a: torch.linalg.vector_norm(a, ord, dim=(0, 2)), TALL)
    check(lambda a: L.vector_norm(a, ord, -1, True), lambda a: torch.linalg.vector_norm(a, ord, -1, True),
          np.array([[1.0, -3.0, 3.0], [0.0, 0.0, 0.0]]) if ord not in (0.5, -1.5) else TALL)


@pytest.mark.parametrize("ord", ["fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf])
def test_matrix_norm(ord):
    check(lambda a: L.matrix_norm(a, ord, keepdim=True), lambda a: torch.linalg.matrix_norm(a, ord, keepdim=True), TALL)
    check(lambda a: L.matrix_norm(a, ord, dim=(2, 0)), lambda a: torch.linalg.matrix_norm(a, ord, dim=(2, 0)), TALL)


def test_norm_dispatch_and_dtypes():
    for args, kw in (((), {}), ((2,), {}), (("nuc",), {}), ((1,), dict(dim=(0, 2))), ((3,), dict(dim=1, keepdim=True))):
        x = WIDE if args and args[0] in (2, "nuc") and not kw else TALL
        check(lambda a: L.norm(a, *args, **kw), lambda a: torch.linalg.norm(a, *args, **kw), x)
    f = ts.tensor(TALL, dtype=ts.float32)
    assert L.inv(f[:, :3]).dtype == np.float32 and L.svd(f).U.dtype == np.float32
    assert L.vector_norm(f).dtype == np.float32 and L.matrix_norm(f, "nuc").dtype == np.float32
    assert L.vector_norm(f, dtype=ts.float64).dtype == np.float64 and L.det(f[:, :3]).dtype == np.float32


# ---------------------------------------------------------------- errors
def _same_error(fts, ftorch, exc=RuntimeError):
    with pytest.raises(exc) as theirs:
        ftorch(torch)
    with pytest.raises(exc) as mine:
        fts(ts)
    return str(mine.value), str(theirs.value)


@pytest.mark.parametrize("call", [
    lambda t: t.linalg.inv(t.tensor([[1.0, 2, 3], [2, 4, 6], [1, 1, 1]])),
    lambda t: t.linalg.inv(t.stack([t.eye(3), t.tensor([[1.0, 2, 3], [2, 4, 6], [1, 1, 1]])])),
    lambda t: t.linalg.solve(t.zeros(2, 2), t.ones(2)),
    lambda t: t.linalg.cholesky(t.stack([t.eye(3), t.diag(t.tensor([1.0, 1, -1]))])),
])
def test_linalg_error_type_and_message(call):
    mine, theirs = _same_error(call, call, exc=RuntimeError)
    assert mine == theirs
    with pytest.raises(L.LinAlgError):
        call(ts)
    assert issubclass(ts.linalg.LinAlgError, RuntimeError)


@pytest.mark.parametrize("call", [
    lambda t: t.linalg.inv(t.ones(2, 3)), lambda t: t.linalg.det(t.ones(3)),
    lambda t: t.linalg.inv(t.ones(3, 3, dtype=t.long)), lambda t: t.linalg.solve(t.eye(3), t.ones(4)),
    lambda t: t.linalg.vector_norm(t.ones(3, dtype=t.long)), lambda t: t.linalg.matrix_norm(t.ones(3)),
    lambda t: t.linalg.matrix_norm(t.ones(3, 3), ord=3), lambda t: t.linalg.eigh(t.ones(2, 3)),
    lambda t: t.linalg.qr(t.eye(3), mode="x"), lambda t: t.linalg.norm(t.ones(3, 3, 3), ord=2),
    lambda t: t.tensordot(t.ones(2, 3), t.ones(4, 2), dims=([1], [0])),
    lambda t: t.frexp(t.tensor([1, 2])),
])
def test_argument_errors_match_torch(call):
    mine, theirs = _same_error(call, call)
    assert mine == theirs


def test_backward_limits_match_torch():
    for fn in (lambda t, a: t.linalg.qr(a, "r").R, lambda t, a: t.linalg.qr(a, "complete").Q):
        for t in (torch, ts):
            a = t.tensor(TALL, requires_grad=True)
            with pytest.raises(RuntimeError, match="linalg.qr|QR decomposition"):
                fn(t, a).sum().backward()
    for t in (torch, ts):
        x = t.tensor([1.5, 2.5], requires_grad=True)
        with pytest.raises(NotImplementedError, match="derivative for 'zeta'"):
            t.special.zeta(x, t.tensor([1.0, 2.0])).sum().backward()


def test_missing_names_say_so():
    with pytest.raises(AttributeError, match="does not have torch.linalg.eig yet"):
        ts.linalg.eig
    with pytest.raises(AttributeError, match="does not have torch.special.no_such_function yet"):
        ts.special.no_such_function   # (every torch.special function exists now)


# ---------------------------------------------------------------- gradcheck (float64, finite differences)
@pytest.mark.parametrize("fn, x", [
    (L.inv, A4[0]), (L.det, A4), (lambda a: L.slogdet(a).logabsdet, A4[0]),
    (lambda a: L.cholesky(a @ a.mT + 4 * ts.eye(4, dtype=ts.float64)), A4[0]),
    (lambda a: L.qr(a), TALL[0]), (lambda a: L.svd(a, False).S, TALL[0]), (L.pinv, WIDE),
    (lambda a: (lambda w, v: (w, v * v))(*L.eigh(a + a.mT)), A4[0]), (lambda a: L.matrix_norm(a, "nuc"), TALL),
    (lambda a: L.solve(a, a[..., :2] * 2 + 1), A4),
])
def test_gradcheck(fn, x):
    assert ts.gradcheck(fn, (ts.tensor(x, requires_grad=True),))


def test_det_of_singular_matrix_has_the_cofactor_gradient():
    # torch 2.13 returns zeros here; the cofactor is the true derivative (finite differences agree)
    a = ts.tensor([[1.0, 0, 0], [0, 2, 0], [0, 0, 0]], dtype=ts.float64, requires_grad=True)
    L.det(a).backward()
    np.testing.assert_allclose(a.grad.numpy(), np.diag([0.0, 0.0, 2.0]), atol=1e-12)


# ---------------------------------------------------------------- torch.special
X = np.array([[-2.5, -0.7, 0.0, 0.3], [1.0, 2.2, 7.5, 30.0]])
POS = np.array([[0.05, 0.3, 0.7, 0.99], [1.5, 2.5, 4.0, 9.0]])
UNIT = np.array([0.01, 0.2, 0.5, 0.93])


@pytest.mark.parametrize("name, x", [
    ("expit", X), ("erf", X), ("erfc", X), ("erfcx", X), ("erfinv", UNIT * 2 - 1), ("exp2", X), ("expm1", X),
    ("log1p", POS), ("gammaln", POS), ("digamma", POS), ("psi", POS), ("i0", X), ("i0e", X), ("i1", X), ("i1e", X),
    ("ndtr", X), ("ndtri", UNIT), ("log_ndtr", X), ("sinc", X), ("entr", POS), ("logit", UNIT),
])
def test_special_unary(name, x):
    check(getattr(S, name), getattr(torch.special, name), x, tol=1e-12)
    assert getattr(S, name)(ts.tensor(x, dtype=ts.float32)).dtype == np.float32


@pytest.mark.parametrize("name", ["bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
                                  "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
                                  "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0",
                                  "airy_ai"])
def test_special_without_gradient(name):
    mine = getattr(S, name)(ts.tensor(POS, requires_grad=True))
    theirs = getattr(torch.special, name)(torch.tensor(POS, requires_grad=True))
    assert not mine.requires_grad and not theirs.requires_grad
    # scipy's Cephes values; torch's own approximations of J and Y are good to about 1e-8 relative
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-7, atol=1e-12)


def test_special_with_arguments():
    check(lambda a: S.logit(a, eps=0.1), lambda a: torch.special.logit(a, eps=0.1), np.array([0.0, 0.05, 0.5, 0.97]))
    for n in (0, 1, 3):
        check(lambda a: S.polygamma(n, a), lambda a: torch.special.polygamma(n, a), POS, tol=1e-9)
        check(lambda a: ts.polygamma(n, a), lambda a: torch.polygamma(n, a), POS, tol=1e-9)
    check(lambda a: S.multigammaln(a, 3), lambda a: torch.special.multigammaln(a, 3), POS + 2)
    check(lambda a: ts.mvlgamma(a, 2), lambda a: torch.mvlgamma(a, 2), POS + 1)
    check(lambda a, b: S.xlog1py(a, b), lambda a, b: torch.special.xlog1py(a, b), POS, X[::-1] * 0.3)
    check(lambda a, b: S.xlogy(a, b), lambda a, b: torch.special.xlogy(a, b), X, POS)
    check(lambda a, b: S.xlogy(a, b), lambda a, b: torch.special.xlogy(a, b), np.array([0.0, 0, 2, 1]),
          np.array([0.0, -1, 0, 0.5]))
    check(lambda b: S.zeta(2.5, b), lambda b: torch.special.zeta(2.5, b), POS + 0.5)
    for name in ("gammainc", "gammaincc"):
        check(lambda b: getattr(S, name)(ts.tensor(POS[::-1].copy()), b),
              lambda b: getattr(torch.special, name)(torch.tensor(POS[::-1].copy()), b), POS)
    check(lambda a: S.round(a, decimals=1), lambda a: torch.special.round(a, decimals=1), X)
    check(lambda a: S.logsumexp(a, 1), lambda a: torch.special.logsumexp(a, 1), X)
    check(lambda a: S.softmax(a, 0), lambda a: torch.special.softmax(a, 0), X)
    check(lambda a: S.log_softmax(a, 1), lambda a: torch.special.log_softmax(a, 1), X)
    assert S.i0(ts.tensor([1, 2])).dtype == np.float32
    assert S.xlogy(2, ts.tensor([3.0])).tolist() == pytest.approx(torch.special.xlogy(2, torch.tensor([3.0])).tolist())


# ---------------------------------------------------------------- top-level functions
def test_tensordot():
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 3, 2))
    for dims in (([1, 2], [1, 0]), 0, 1, ([2], [0])):
        check(lambda x, y: ts.tensordot(x, y, dims=dims), lambda x, y: torch.tensordot(x, y, dims=dims), a, b)
    check(lambda x, y: ts.tensordot(x, y), lambda x, y: torch.tensordot(x, y), a, b.transpose(1, 0, 2).copy())


def test_isin():
    for el, te, kw in (([1, 2, 3], [2, 5], {}), ([1.0, 2.0], [2.5, 1.0], dict(invert=True)),
                       ([[4, 1], [1, 7]], [1, 7], dict(assume_unique=False))):
        mine = ts.isin(ts.tensor(el), ts.tensor(te), **kw)
        theirs = torch.isin(torch.tensor(el), torch.tensor(te), **kw)
        assert mine.dtype == np.bool_ and mine.tolist() == theirs.tolist()
    assert ts.isin(2, ts.tensor([1, 2])).tolist() is True
    assert ts.isin(ts.tensor([1.0, 2.0]), 2).tolist() == [False, True]


def test_frexp():
    values = np.array([0.0, 1.0, -3.5, 1e-310, 6e4, np.inf, np.nan])
    mine, theirs = ts.frexp(ts.tensor(values)), torch.frexp(torch.tensor(values))
    np.testing.assert_array_equal(mine.mantissa.numpy(), theirs.mantissa.numpy())
    assert mine.exponent.dtype == np.int32 and mine.exponent.tolist() == theirs.exponent.tolist()
    check(lambda a: ts.frexp(a).mantissa, lambda a: torch.frexp(a).mantissa, X)


def test_trapezoid_family():
    y = rng.standard_normal((3, 5))
    x1, x2 = np.sort(rng.standard_normal(5)), np.sort(rng.standard_normal((3, 5)), axis=1)
    for fname in ("trapezoid", "trapz", "cumulative_trapezoid"):
        mine, theirs = getattr(ts, fname), getattr(torch, fname)
        check(lambda a: mine(a), lambda a: theirs(a), y)
        check(lambda a: mine(a, dx=0.5, dim=0), lambda a: theirs(a, dx=0.5, dim=0), y)
        check(lambda a, b: mine(a, b), lambda a, b: theirs(a, b), y, x1)
        check(lambda a, b: mine(a, b), lambda a, b: theirs(a, b), y, x2)
    assert ts.trapezoid(ts.ones(0)).item() == 0.0 and tuple(ts.cumulative_trapezoid(ts.ones(0)).shape) == (0,)
    assert ts.trapz(ts.tensor([1, 2, 4])).dtype == np.float32


def test_top_level_linalg_names():
    check(ts.det, torch.det, A4)
    check(ts.inverse, torch.inverse, A4)
    check(ts.slogdet, torch.slogdet, A4)
    check(ts.logdet, torch.logdet, SPD)
    check(ts.pinverse, torch.pinverse, TALL)
    assert np.isnan(ts.logdet(ts.tensor([[-1.0, 0], [0, 1]])).item())
    assert repr(ts.slogdet(ts.eye(2))).startswith("torch.return_types.slogdet(")


def test_tensor_methods_and_xlogy_gradient_at_zero_match_torch():
    import torch as T
    a = np.array([[2.0, 1.0], [1.0, 3.0]])
    out = []
    for lib in (ts, T):
        m = lib.tensor(a, requires_grad=True)
        (m.det() + m.logdet() + m.inverse().sum() + m.pinverse().sum() + m.slogdet()[1]).backward()
        x = lib.tensor([0.0, 0.0, 1.0], dtype=lib.float64, requires_grad=True)
        y = lib.tensor([2.0, -1.0, 3.0], dtype=lib.float64, requires_grad=True)
        x.xlogy(y).sum().backward()
        out.append([m.grad.numpy(), x.grad.numpy(), y.grad.numpy(),
                    lib.tensor([0.5, 2.0], dtype=lib.float64).polygamma(1).numpy(),
                    lib.tensor([0.5, 2.0], dtype=lib.float64).mvlgamma(1).numpy(),
                    lib.tensor([3.0, 5.0]).frexp()[0].numpy(), m.detach().matrix_power(-2).numpy()])
    for p, q in zip(*out):   # torch's polygamma is accurate to ~1e-9 (ours: scipy's, to rounding)
        np.testing.assert_allclose(p, q, rtol=1e-8)
