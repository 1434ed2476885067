"""Cases ported from PyTorch's own test/test_linalg.py, each compared with torch 2.13 in the same
process: beta=0 of the BLAS-like products (addmm, addmv, addr, baddbmm, addbmm) keeping the input
in the graph, their deprecated positional overloads, addr's argument checks, outer / ger /
tensordot out=, vdot's dtype, the norms' empty-input and dtype= rules, the SVD family's
LinAlgError on non-finite input, einsum's equation errors and sublist letters, cdist's argument
checks, cond of empty matrices, logdet's gradient at a negative determinant and lstsq's checks."""
import math
import warnings

import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")


def _error(fn):
    """(type, message) of the exception fn raises; None where it raises none."""
    try:
        fn()
    except Exception as e:   # noqa: BLE001  (the type is what is compared)
        return type(e), str(e)
    return None


def _same_error(theirs, ours, kind=RuntimeError, same_message=True):
    """Both raise `kind`; ours with torch's message (its first line, which ours may follow with
    the operands' shapes)."""
    t, o = _error(theirs), _error(ours)
    assert t is not None and issubclass(t[0], kind), t
    assert o is not None and issubclass(o[0], kind), o
    if same_message:
        assert o[1].startswith(t[1].splitlines()[0]), (o[1], t[1])


# ------------------------------------------------------------------ beta=0 keeps the input in the graph
_PRODUCT_SHAPES = {"addmm": ((3, 3), (3, 4), (4, 3)), "addmv": ((3,), (3, 4), (4,)),
                   "addr": ((3, 4), (3,), (4,)), "baddbmm": ((2, 3, 3), (2, 3, 4), (2, 4, 3)),
                   "addbmm": ((3, 3), (2, 3, 4), (2, 4, 3))}


@pytest.mark.parametrize("name", sorted(_PRODUCT_SHAPES))
def test_beta0_keeps_input_in_graph(name):
    # torch: the result has a grad_fn, input.grad is zeros, and a nan / inf in input is ignored
    rs = np.random.RandomState(0)
    arrs = [rs.randn(*s).astype(np.float32) for s in _PRODUCT_SHAPES[name]]
    arrs[0].flat[0], arrs[0].flat[-1] = np.nan, np.inf
    results = []
    for L in (torch, ts):
        m = L.tensor(arrs[0], requires_grad=True)
        r = getattr(L, name)(m, L.tensor(arrs[1]), L.tensor(arrs[2]), beta=0)
        assert r.requires_grad
        r.sum().backward()
        results.append((r.detach().numpy(), m.grad.numpy()))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(results[1][1], results[0][1])


def test_beta0_input_broadcasts_as_torch():
    for L in (torch, ts):
        m = L.tensor(np.array([np.nan, 1.0, 2.0], np.float32), requires_grad=True)
        r = L.addmm(m, L.ones(2, 4), L.ones(4, 3), beta=0)
        assert tuple(r.shape) == (2, 3) and r.detach().numpy().tolist() == [[4.0] * 3] * 2
        r.sum().backward()
        assert m.grad.numpy().tolist() == [0.0, 0.0, 0.0]


# ------------------------------------------------------------------ deprecated positional overloads
def _args(L, arrays):
    return [L.tensor(a) if isinstance(a, np.ndarray) else a for a in arrays]


_RS = np.random.RandomState(0)
_M, _A, _B = (_RS.randn(*s).astype(np.float32) for s in ((4, 3), (4, 5), (5, 3)))
_B1, _B2, _BIN = (_RS.randn(*s).astype(np.float32) for s in ((2, 4, 5), (2, 5, 3), (2, 4, 3)))
_Y, _V, _W = (_RS.randn(n).astype(np.float32) for n in (4, 5, 3))
_DEPRECATED_FREE = [("addmm", (2, _M, 3, _A, _B)), ("addmm", (2, _M, _A, _B)),
                    ("addbmm", (1, _M, 0, _B1, _B2)), ("addbmm", (1, _M, _B1, _B2)),
                    ("baddbmm", (1, _BIN, 2, _B1, _B2)), ("baddbmm", (1.0, _BIN, _B1, _B2)),
                    ("addmv", (2, _Y, 3, _A, _V)), ("addmv", (2, _Y, _A, _V)), ("addr", (2, _M, 3, _Y, _W))]


@pytest.mark.parametrize("name,args", _DEPRECATED_FREE, ids=lambda x: x if isinstance(x, str) else str(len(x)))
def test_deprecated_free_overloads(name, args):
    # torch.addmm(beta, input, [alpha,] mat1, mat2): still run by torch 2.13, with a UserWarning
    got = []
    for L in (torch, ts):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            r = getattr(L, name)(*_args(L, args))
        if L is ts:
            assert any(f"This overload of {name} is deprecated" in str(w.message) for w in caught)
        got.append(r.numpy())
    np.testing.assert_allclose(got[1], got[0], rtol=1e-5, atol=1e-5)


_DEPRECATED_METHOD = [("addmm", _M, (2, 3, _A, _B)), ("addmm", _M, (2, _A, _B)),
                      ("addbmm", _M, (1, _B1, _B2)), ("addbmm", _M, (1.0, 0.5, _B1, _B2)),
                      ("baddbmm", _BIN, (1.0, 0.5, _B1, _B2)), ("baddbmm", _BIN, (1.0, _B1, _B2)),
                      ("addmv", _Y, (2, 3, _A, _V)), ("addmv", _Y, (2, _A, _V)), ("addr", _M, (2, 3, _Y, _W))]


@pytest.mark.parametrize("inplace", [False, True])
@pytest.mark.parametrize("name,self_,args", _DEPRECATED_METHOD, ids=lambda x: x if isinstance(x, str) else "")
def test_deprecated_method_overloads(name, self_, args, inplace):
    # t.addmm(beta, [alpha,] mat1, mat2) and t.addbmm_(1, b1, b2), t.baddbmm_(1., .5, b1, b2), ...
    got = []
    for L in (torch, ts):
        t = L.tensor(self_.copy())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = getattr(t, name + "_" * inplace)(*_args(L, args))
        got.append((t if inplace else r).numpy())
    np.testing.assert_allclose(got[1], got[0], rtol=1e-5, atol=1e-5)


def test_deprecated_overload_refuses_beta_keyword():
    args = (2, _M, 3, _A, _B)
    assert _error(lambda: torch.addmm(*_args(torch, args), beta=1))[0] is TypeError
    assert issubclass(_error(lambda: ts.addmm(*_args(ts, args), beta=1))[0], TypeError)


# ------------------------------------------------------------------ addr, outer / ger, vdot
@pytest.mark.parametrize("kw", [dict(beta=True, alpha=1), dict(beta=2, alpha=True), dict(beta=True, alpha=True)])
@pytest.mark.parametrize("dt", ["float32", "int64"])
def test_addr_bool_scalars_refused(kw, dt):
    t = (torch.ones(3, 3, dtype=getattr(torch, dt)), torch.ones(3, dtype=getattr(torch, dt)))
    o = (ts.ones(3, 3, dtype=getattr(ts, dt)), ts.ones(3, dtype=getattr(ts, dt)))
    _same_error(lambda: torch.addr(t[0], t[1], t[1], **kw), lambda: ts.addr(o[0], o[1], o[1], **kw))


def test_addr_bool_scalars_for_bool_result():
    for L in (torch, ts):
        m, v = L.zeros(2, 2, dtype=L.bool), L.ones(2, dtype=L.bool)
        assert L.addr(m, v, v, beta=False, alpha=True).numpy().tolist() == [[True, True], [True, True]]


@pytest.mark.parametrize("shapes", [((5,), ()), ((), (6,)), ((), ()), ((5, 1), (6,))])
def test_addr_needs_1d_vectors(shapes):
    a, b = (np.ones(s, np.float32) for s in shapes)
    _same_error(lambda: torch.addr(torch.ones(5, 6), torch.tensor(a), torch.tensor(b)),
                lambda: ts.addr(ts.ones(5, 6), ts.tensor(a), ts.tensor(b)))


@pytest.mark.parametrize("name", ["outer", "ger"])
def test_outer_out(name):
    a, b = np.arange(3, dtype=np.float32), np.arange(4, dtype=np.float32)
    o = ts.empty(3, 4)
    r = getattr(ts, name)(ts.tensor(a), ts.tensor(b), out=o)
    ref = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
    assert r is o
    np.testing.assert_array_equal(o.numpy(), ref.numpy())


def test_outer_out_resizes_and_refuses_a_narrower_dtype():
    o = ts.empty(0, dtype=ts.float64)
    ts.outer(ts.ones(2), ts.ones(3), out=o)
    assert tuple(o.shape) == (2, 3) and o.dtype == ts.float64
    _same_error(lambda: torch.outer(torch.ones(3), torch.ones(4), out=torch.empty(3, 4, dtype=torch.int64)),
                lambda: ts.outer(ts.ones(3), ts.ones(4), out=ts.empty(3, 4, dtype=ts.int64)), same_message=False)


@pytest.mark.parametrize("dt", ["int32", "int8", "uint8", "int16", "float16", "float64"])
def test_vdot_keeps_dtype(dt):
    a = np.arange(4).astype(dt)
    ref = torch.vdot(torch.tensor(a), torch.tensor(a))
    got = ts.vdot(ts.tensor(a), ts.tensor(a))
    assert str(got.dtype).replace("torch.", "") == str(ref.dtype).replace("torch.", "")
    assert got.item() == ref.item()


def test_vdot_grad_fn_name():
    x = ts.ones(3, requires_grad=True)
    assert ts.vdot(x, x).grad_fn.name() == torch.vdot(*[torch.ones(3, requires_grad=True)] * 2).grad_fn.name()


# ------------------------------------------------------------------ norms
@pytest.mark.parametrize("ord_", [-1, -0.5, -2, -math.inf, math.inf])
@pytest.mark.parametrize("shape,dim", [((0,), None), ((0, 3), 0), ((3, 0), -1), ((3, 0), (0, 1)), ((3, 0), ())])
def test_vector_norm_no_identity_on_empty(ord_, shape, dim):
    _same_error(lambda: torch.linalg.vector_norm(torch.zeros(*shape), ord_, dim=dim),
                lambda: ts.linalg.vector_norm(ts.zeros(*shape), ord_, dim=dim))


@pytest.mark.parametrize("ord_", [-1, -math.inf, 0.5, 0, 1, 2])
def test_vector_norm_empty_kept_dims(ord_):
    # only the reduced dims need a size: (0, 3) over dim 1 is an empty result
    ref = torch.linalg.vector_norm(torch.zeros(0, 3), ord_, dim=1)
    got = ts.linalg.vector_norm(ts.zeros(0, 3), ord_, dim=1)
    assert tuple(got.shape) == tuple(ref.shape) == (0,)


@pytest.mark.parametrize("fn,ord_,shape", [("norm", 2, (3,)), ("norm", None, (3,)), ("norm", "fro", (3, 3)),
                                           ("norm", 1, (3, 3)), ("vector_norm", 2, (3,)),
                                           ("matrix_norm", "nuc", (3, 3)), ("matrix_norm", math.inf, (3, 3))])
@pytest.mark.parametrize("dtypes", [("float64", "float32"), ("float32", "float16"), ("float32", "int64")])
def test_norm_dtype_narrowing_refused(fn, ord_, shape, dtypes):
    x = np.random.RandomState(0).randn(*shape).astype(dtypes[0])
    _same_error(lambda: getattr(torch.linalg, fn)(torch.tensor(x), ord_, dtype=getattr(torch, dtypes[1])),
                lambda: getattr(ts.linalg, fn)(ts.tensor(x), ord_, dtype=getattr(ts, dtypes[1])))


@pytest.mark.parametrize("fn,ord_", [("vector_norm", 2), ("matrix_norm", "fro"), ("matrix_norm", 1)])
def test_norm_dtype_widening_allowed(fn, ord_):
    x = np.random.RandomState(0).randn(3, 3).astype(np.float32)
    ref = getattr(torch.linalg, fn)(torch.tensor(x), ord_, dtype=torch.float64)
    got = getattr(ts.linalg, fn)(ts.tensor(x), ord_, dtype=ts.float64)
    assert got.dtype == ts.float64
    np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-12)


@pytest.mark.parametrize("shape", [(0, 10), (10, 0), (0, 0), (2, 0, 3)])
@pytest.mark.parametrize("ord_", [-1, -math.inf, 1, math.inf, 2, -2, "nuc", "fro"])
def test_matrix_norm_of_empty_matrices(shape, ord_):
    # torch: 0 where its min / max has something to reduce, else amin's IndexError (its dim)
    theirs = lambda: torch.linalg.matrix_norm(torch.zeros(*shape), ord_)   # noqa: E731
    ours = lambda: ts.linalg.matrix_norm(ts.zeros(*shape), ord_)   # noqa: E731
    if _error(theirs) is not None:
        _same_error(theirs, ours, IndexError)
        return
    ref, got = theirs(), ours()
    assert tuple(got.shape) == tuple(ref.shape)
    np.testing.assert_array_equal(got.numpy(), ref.numpy())


# ------------------------------------------------------------------ SVD of non-finite input
@pytest.mark.parametrize("fn", ["svd", "svdvals", "pinv", "matrix_rank", "cond", "nuc", "2", "-2"])
def test_svd_nonfinite_raises_linalg_error(fn):
    x = [[math.inf, math.nan], [1.0, 2.0]]

    def call(L):
        if fn in ("nuc", "2", "-2"):
            return L.linalg.matrix_norm(L.tensor(x), fn if fn == "nuc" else int(fn))
        return getattr(L.linalg, fn)(L.tensor(x))
    _same_error(lambda: call(torch), lambda: call(ts))
    with pytest.raises(ts.linalg.LinAlgError):
        call(ts)


def test_svd_nonfinite_names_the_batch_element():
    x = np.stack([np.eye(2), [[np.nan, 0], [0, 1]]])
    _same_error(lambda: torch.linalg.svdvals(torch.tensor(x)), lambda: ts.linalg.svdvals(ts.tensor(x)))


@pytest.mark.parametrize("fn", ["pinv", "matrix_rank"])
def test_hermitian_forms_take_nonfinite_input(fn):
    x = [[math.inf, math.nan], [1.0, 2.0]]
    ref = getattr(torch.linalg, fn)(torch.tensor(x), hermitian=True)
    got = getattr(ts.linalg, fn)(ts.tensor(x), hermitian=True)
    np.testing.assert_array_equal(got.numpy(), ref.numpy())


# ------------------------------------------------------------------ einsum
@pytest.mark.parametrize("eq,n", [("i", 2), ("i,j", 1), ("i1", 1), ("i->j", 1), ("i->ii", 1), ("...i...", 1),
                                  ("...i->......", 1), ("i-->i", 1), ("i->i->i", 1), ("i.j", 1), ("..i", 1),
                                  ("i->i.", 1), ("ij", 1), ("i,->i", 1)])
def test_einsum_equation_errors(eq, n):
    _same_error(lambda: torch.einsum(eq, *[torch.randn(2)] * n), lambda: ts.einsum(eq, *[ts.randn(2)] * n))


@pytest.mark.parametrize("eq", ["i->...", "i j->j i", "...->..."])
def test_einsum_equations_torch_runs(eq):
    x = np.arange(2.0 if "j" not in eq else 1.0)
    ref = torch.einsum(eq.replace("i j->j i", "i->i"), torch.tensor(x))
    got = ts.einsum(eq.replace("i j->j i", "i->i"), ts.tensor(x))
    np.testing.assert_array_equal(got.numpy(), ref.numpy())


def test_einsum_broadcast_error_message():
    _same_error(lambda: torch.einsum("ij,jk", torch.randn(2, 3), torch.randn(4, 5)),
                lambda: ts.einsum("ij,jk", ts.randn(2, 3), ts.randn(4, 5)))


def test_einsum_sublist_letters_and_implicit_order():
    # ints 0-25 are 'A'-'Z', 26-51 'a'-'z'; the implicit output sorts the letters (uppercase first)
    a = np.random.RandomState(0).randn(2, 3, 4).astype(np.float32)
    b = np.ones((4, 5), np.float32)
    ref = torch.einsum(torch.tensor(a), [51, 0, 1], torch.tensor(b), [1, 2])
    got = ts.einsum(ts.tensor(a), [51, 0, 1], ts.tensor(b), [1, 2])
    assert tuple(got.shape) == tuple(ref.shape) == (3, 5, 2)
    np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-5)
    _same_error(lambda: torch.einsum(torch.randn(2), [0], [1]), lambda: ts.einsum(ts.randn(2), [0], [1]))


# ------------------------------------------------------------------ tensordot
def test_tensordot_out():
    a, b = np.ones((3, 4, 5), np.float32), np.ones((4, 5, 6), np.float32)
    o = ts.empty(0)
    r = ts.tensordot(ts.tensor(a), ts.tensor(b), dims=2, out=o)
    assert r is o
    np.testing.assert_allclose(o.numpy(), torch.tensordot(torch.tensor(a), torch.tensor(b), dims=2).numpy())
    _same_error(lambda: torch.tensordot(torch.ones(3, 4), torch.ones(4, 5), 1, out=torch.empty(0, dtype=torch.int64)),
                lambda: ts.tensordot(ts.ones(3, 4), ts.ones(4, 5), 1, out=ts.empty(0, dtype=ts.int64)))


@pytest.mark.parametrize("dt", ["float32", "int64"])
def test_tensordot_empty_contraction(dt):
    ref = torch.tensordot(torch.zeros(2, 0, dtype=getattr(torch, dt)), torch.zeros(0, 3, dtype=getattr(torch, dt)), 1)
    got = ts.tensordot(ts.zeros(2, 0, dtype=getattr(ts, dt)), ts.zeros(0, 3, dtype=getattr(ts, dt)), 1)
    assert tuple(got.shape) == tuple(ref.shape) == (2, 3)
    assert str(got.dtype).replace("torch.", "") == str(ref.dtype).replace("torch.", "")
    np.testing.assert_array_equal(got.numpy(), ref.numpy())


# ------------------------------------------------------------------ cdist
@pytest.mark.parametrize("s1,s2,kw", [((4, 5), (6, 5), dict(p=-1)), ((5,), (5,), {}), ((4, 5), (5,), {}),
                                      ((5,), (6, 5), dict(p=-1)), ((4, 5), (6, 4), dict(p=-1)),
                                      ((4, 5), (6, 5), dict(p=math.nan))])
def test_cdist_argument_checks(s1, s2, kw):
    _same_error(lambda: torch.cdist(torch.randn(*s1), torch.randn(*s2), **kw),
                lambda: ts.cdist(ts.randn(*s1), ts.randn(*s2), **kw))


@pytest.mark.parametrize("mode", ["foo", None])
def test_cdist_bad_compute_mode(mode):
    _same_error(lambda: torch.cdist(torch.randn(4, 5), torch.randn(6, 5), compute_mode=mode),
                lambda: ts.cdist(ts.randn(4, 5), ts.randn(6, 5), compute_mode=mode), ValueError)


@pytest.mark.parametrize("mode", ["use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                                  "donot_use_mm_for_euclid_dist"])
def test_cdist_compute_modes(mode):
    a, b = np.random.RandomState(0).randn(4, 5), np.random.RandomState(1).randn(6, 5)
    ref = torch.cdist(torch.tensor(a), torch.tensor(b), compute_mode=mode)
    np.testing.assert_allclose(ts.cdist(ts.tensor(a), ts.tensor(b), compute_mode=mode).numpy(), ref.numpy(),
                               rtol=1e-10)


@pytest.mark.parametrize("p", [0, 1, 2, 3, math.inf])
def test_cdist_empty_features(p):
    x = ts.zeros(2, 4, 0, requires_grad=True)
    ref = torch.cdist(torch.zeros(2, 4, 0), torch.zeros(6, 0), p=p)
    got = ts.cdist(x, ts.zeros(6, 0), p=p)
    np.testing.assert_array_equal(got.detach().numpy(), ref.numpy())
    got.sum().backward()
    assert tuple(x.grad.shape) == (2, 4, 0)


# ------------------------------------------------------------------ cond, logdet, lstsq
@pytest.mark.parametrize("shape", [(0, 0), (2, 5, 0, 0), (3, 0, 2), (3, 2, 0)])
@pytest.mark.parametrize("p", [None, 2, -2, 1, math.inf, "fro", "nuc"])
def test_cond_empty(shape, p):
    theirs = lambda: torch.linalg.cond(torch.zeros(*shape, dtype=torch.float64), p)   # noqa: E731
    ours = lambda: ts.linalg.cond(ts.zeros(*shape, dtype=ts.float64), p)   # noqa: E731
    if _error(theirs) is not None:   # 'fro' / 'nuc' of non-square: torch's square check first
        _same_error(theirs, ours)
        return
    ref, got = theirs(), ours()
    assert tuple(got.shape) == tuple(ref.shape) and got.dtype == ts.float64
    np.testing.assert_array_equal(got.numpy(), ref.numpy())


def test_cond_non_square_names_the_ord():
    _same_error(lambda: torch.linalg.cond(torch.zeros(3, 2, 3), 1), lambda: ts.linalg.cond(ts.zeros(3, 2, 3), 1))


def test_logdet_negative_det():
    # torch: nan, with a zero gradient (a where over log|det|); a positive one keeps its gradient
    M = np.stack([np.diag([-1.0, 2.0, 3.0]) + 0.1, np.eye(3) + 0.1])
    t, s = torch.tensor(M, requires_grad=True), ts.tensor(M, requires_grad=True)
    rt, rs = torch.logdet(t), ts.logdet(s)
    np.testing.assert_allclose(rs.detach().numpy(), rt.detach().numpy(), rtol=1e-12)
    assert rs.grad_fn.name() == rt.grad_fn.name()
    rt.sum().backward()
    rs.sum().backward()
    np.testing.assert_allclose(np.abs(s.grad.numpy()), np.abs(t.grad.numpy()), rtol=1e-12, atol=1e-15)


def test_lstsq_0d_other():
    _same_error(lambda: torch.linalg.lstsq(torch.randn(2, 3), torch.tensor(1.0)),
                lambda: ts.linalg.lstsq(ts.randn(2, 3), ts.tensor(1.0)))


@pytest.mark.parametrize("a_shape,b_shape", [((1, 3, 1, 3, 4, 4), (3, 1, 3, 1, 4)), ((1, 3, 1, 3, 4, 4), (4, 2)),
                                             ((4, 3), (5,)), ((2, 4, 3), (4,)), ((2, 4, 3), (3, 4)),
                                             ((2, 4, 3), (2, 5)), ((2, 4, 3), (1, 4)), ((2, 4, 3), (4, 1)),
                                             ((3, 2, 4, 3), (2, 4, 5))])
def test_lstsq_rhs_shape_errors(a_shape, b_shape):
    # b is a vector only when its shape is a's without the last dim (or b is 1-D)
    a = np.random.RandomState(0).randn(*a_shape)
    b = np.random.RandomState(1).randn(*b_shape)
    _same_error(lambda: torch.linalg.lstsq(torch.tensor(a), torch.tensor(b)),
                lambda: ts.linalg.lstsq(ts.tensor(a), ts.tensor(b)))


@pytest.mark.parametrize("a_shape,b_shape", [((1, 3, 1, 3, 4, 4), (1, 3, 1, 3, 4)), ((4, 3), (4,)),
                                             ((2, 4, 3), (2, 4)), ((2, 4, 3), (1, 4, 2)), ((1, 4, 3), (4, 2)),
                                             ((4, 4, 3), (4, 2))])
def test_lstsq_rhs_shapes_torch_takes(a_shape, b_shape):
    a = np.random.RandomState(0).randn(*a_shape) + np.eye(*a_shape[-2:])
    b = np.random.RandomState(1).randn(*b_shape)
    ref = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b)).solution
    got = ts.linalg.lstsq(ts.tensor(a), ts.tensor(b)).solution
    assert tuple(got.shape) == tuple(ref.shape)
    np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-8, atol=1e-10)
