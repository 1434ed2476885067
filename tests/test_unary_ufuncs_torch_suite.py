"""Cases ported from PyTorch's test/test_unary_ufuncs.py, each compared with torch 2.13 in the
same process: abs / rounding of bool and round(int, decimals=) refused (NotImplementedError),
nan_to_num and frexp with out=, the unary out= rules (partial overlap with the input, bool-only
and same-dtype outs, the resize warning), positive(bool), angle / lgamma / erfinv / sinc /
hardshrink / logit edge values, airy_ai far out, i1e's gradient at subnormals, polygamma and zeta
at their poles and infinities, and torch.special's orthogonal polynomials."""
import re
import warnings

import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")


def _np(t):
    return t.detach().numpy()


def _raises(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return e
    return None


def _same_error(f):
    """f(L) raises on torch; ours must raise an exception of the same type."""
    et = _raises(lambda: f(torch))
    es = _raises(lambda: f(ts))
    assert et is not None
    assert es is not None, f"torch raises {type(et).__name__}: {et}; ours returns"
    assert isinstance(es, type(et)), f"torch {type(et).__name__}: {et}; ours {type(es).__name__}: {es}"
    return et, es


# 1 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["abs", "absolute", "ceil", "floor", "trunc", "fix", "round"])
def test_rounding_and_abs_of_bool_raise_not_implemented(op):
    # torch: NotImplementedError: "abs_cpu" / "ceil_vml_cpu" ... not implemented for 'Bool'
    _same_error(lambda L: getattr(L, op)(L.tensor([True, False])))


# 2 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dn", ["int64", "int32", "uint8"])
@pytest.mark.parametrize("d", [0, 1, -1])
def test_round_decimals_of_integer_raises(dn, d):
    # torch.round(int_tensor) works, but the decimals= overload has no integer kernel
    _same_error(lambda L: L.round(L.tensor([1, 25, 3], dtype=getattr(L, dn)), decimals=d))


def test_special_round_of_integer_raises():
    _same_error(lambda L: L.special.round(L.tensor([1, 2, 3])))


# 3 -------------------------------------------------------------------------------------------
def test_nan_to_num_out():
    x = [float("nan"), float("inf"), -float("inf"), 1.5]
    ot = torch.empty(4)
    rt = torch.nan_to_num(torch.tensor(x), nan=0.5, posinf=2.0, neginf=-3.0, out=ot)
    os_ = ts.empty(4)
    rs = ts.nan_to_num(ts.tensor(x), nan=0.5, posinf=2.0, neginf=-3.0, out=os_)
    assert rs is os_
    np.testing.assert_array_equal(_np(os_), _np(ot))
    assert rt is ot


def test_nan_to_num_out_wrong_dtype_is_runtime_error():
    _same_error(lambda L: L.nan_to_num(L.tensor([1.0, float("nan")]), out=L.empty(2, dtype=L.float64)))


# 4 -------------------------------------------------------------------------------------------
def test_frexp_out_tuple():
    x = [8.0, 0.3, -5.0, 0.0]
    mt, et = torch.empty(4), torch.empty(4, dtype=torch.int32)
    torch.frexp(torch.tensor(x), out=(mt, et))
    ms, es = ts.empty(4), ts.empty(4, dtype=ts.int32)
    r = ts.frexp(ts.tensor(x), out=(ms, es))
    assert r[0] is ms and r[1] is es
    np.testing.assert_array_equal(_np(ms), _np(mt))
    np.testing.assert_array_equal(_np(es), _np(et))


def test_frexp_out_wrong_dtype_is_runtime_error():
    et, es = _same_error(lambda L: L.frexp(L.tensor([1.0]),
                                           out=(L.empty(1, dtype=L.float64), L.empty(1, dtype=L.int32))))
    assert re.search(r"torch\.frexp\(\) expects mantissa to have dtype", str(es))


# 5 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dn", ["float32", "float64"])
def test_angle_of_infinities(dn):
    x = [float("inf"), -float("inf"), -1.0, 2.0]
    rt = torch.angle(torch.tensor(x, dtype=getattr(torch, dn)))   # [0, pi, pi, 0]
    rs = ts.angle(ts.tensor(x, dtype=getattr(ts, dn)))
    np.testing.assert_allclose(_np(rs), _np(rt), rtol=1e-6)


# 6 -------------------------------------------------------------------------------------------
def test_lgamma_of_subnormal_float64():
    x = np.array([1e-310, 5e-324, 1e-308])
    rt = torch.lgamma(torch.tensor(x))          # 713.80, 744.44, 709.20
    rs = ts.lgamma(ts.tensor(x))
    np.testing.assert_allclose(_np(rs), _np(rt), rtol=1e-12)
    np.testing.assert_allclose(_np(ts.special.gammaln(ts.tensor(x))), _np(rt), rtol=1e-12)


# 7 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dn", ["float32", "float64"])
def test_erfinv_keeps_negative_zero(dn):
    rt = torch.erfinv(torch.tensor([-0.0], dtype=getattr(torch, dn)))
    rs = ts.erfinv(ts.tensor([-0.0], dtype=getattr(ts, dn)))
    assert np.signbit(_np(rt)[0])
    assert np.signbit(_np(rs)[0])


# 8 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["exp", "sin", "sqrt", "neg", "abs", "sigmoid", "tanh", "floor"])
def test_out_partially_overlapping_input_raises(op):
    def f(L):
        data = L.tensor([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], dtype=L.float64)
        return getattr(L, op)(data[1:4], out=data[0:3])
    et, es = _same_error(f)
    assert "unsupported operation" in str(es)


# 9 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["exp", "sin", "abs", "neg", "floor", "sigmoid"])
def test_out_resize_of_nonempty_out_warns(op):
    def count(L):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            getattr(L, op)(L.tensor([0.5, 0.25]), out=L.empty(5))
        return sum("resized" in str(x.message) for x in w)
    assert count(torch) == 1
    assert count(ts) == 1


# 10 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["signbit", "isposinf", "isneginf"])
@pytest.mark.parametrize("odn", ["float32", "int64", "uint8"])
def test_bool_result_ops_refuse_non_bool_out(op, odn):
    et, es = _same_error(lambda L: getattr(L, op)(L.tensor([float("inf"), -1.0]),
                                                  out=L.empty(2, dtype=getattr(L, odn))))
    assert "does not support non-boolean outputs" in str(es)


# 11 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("op,dn,odn", [("bitwise_not", "int32", "int64"), ("bitwise_not", "int64", "float32"),
                                       ("bitwise_not", "bool", "int64"), ("absolute", "float32", "float64"),
                                       ("absolute", "int32", "int64")])
def test_out_of_other_dtype_refused(op, dn, odn):
    # torch: RuntimeError: Found dtype Long but expected Int
    _same_error(lambda L: getattr(L, op)(L.tensor([1, 0], dtype=getattr(L, dn)), out=L.empty(2, dtype=getattr(L, odn))))


# 12 ------------------------------------------------------------------------------------------
def test_positive_of_bool_is_runtime_error():
    _same_error(lambda L: L.positive(L.tensor([True, False])))


# 13 ------------------------------------------------------------------------------------------
def test_tensor_hardshrink_zero_sign_and_infinite_lambda():
    vals = [0.0, 0.05, -0.05, 0.1, -0.1, 1.0, -1.0, float("inf"), -float("inf")]
    for lambd in [0.1, float("inf")]:
        rt = _np(torch.tensor(vals).hardshrink(lambd))
        rs = _np(ts.tensor(vals).hardshrink(lambd))
        np.testing.assert_array_equal(rs, rt)           # nan where torch has 0
        np.testing.assert_array_equal(np.signbit(rs), np.signbit(rt))  # -0.0 where torch has 0.0


# 14 ------------------------------------------------------------------------------------------
def test_airy_ai_of_large_argument():
    for dn in ["float32", "float64"]:
        x = [4988429.2, 2147483647.0, 1e20]
        rt = torch.special.airy_ai(torch.tensor(x, dtype=getattr(torch, dn)))   # 0, 0, 0
        rs = ts.special.airy_ai(ts.tensor(x, dtype=getattr(ts, dn)))
        np.testing.assert_array_equal(_np(rs), _np(rt))


# 15 ------------------------------------------------------------------------------------------
def test_i1e_gradient_at_subnormal():
    xt = torch.tensor([1e-310, 1e-320], dtype=torch.float64, requires_grad=True)
    torch.special.i1e(xt).sum().backward()                 # 0.5, 0.5
    xs = ts.tensor(np.array([1e-310, 1e-320]), requires_grad=True)
    ts.special.i1e(xs).sum().backward()
    np.testing.assert_allclose(_np(xs.grad), _np(xt.grad), rtol=1e-12)


# 16 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dn", ["float32", "float64"])
def test_polygamma_at_inf_and_poles(dn):
    x = [float("inf"), -1.0, -2.0, -10.0]
    for n in [1, 2, 3]:
        rt = _np(torch.polygamma(n, torch.tensor(x, dtype=getattr(torch, dn))))
        rs = _np(ts.polygamma(n, ts.tensor(x, dtype=getattr(ts, dn))))
        np.testing.assert_allclose(rs, rt, rtol=1e-4, equal_nan=True)


# 17 ------------------------------------------------------------------------------------------
def test_logit_eps_above_half():
    # torch's kernel: x < eps ? eps : (x > 1 - eps ? 1 - eps : x); eps = 0.6 maps 0 to 0.6
    x = [0.0, 0.3, 1.0]
    rt = torch.logit(torch.tensor(x), eps=0.6)
    rs = ts.logit(ts.tensor(x), eps=0.6)
    np.testing.assert_allclose(_np(rs), _np(rt), rtol=1e-6)


def test_logit_eps_gradient_at_nan():
    xt = torch.tensor([float("nan"), 0.5], requires_grad=True)
    torch.logit(xt, 1e-6).sum().backward()                  # [nan, 4]
    xs = ts.tensor([float("nan"), 0.5], requires_grad=True)
    ts.logit(xs, 1e-6).sum().backward()
    np.testing.assert_allclose(_np(xs.grad), _np(xt.grad), rtol=1e-6, equal_nan=True)


# 18 ------------------------------------------------------------------------------------------
def test_zeta_of_infinite_q():
    rt = torch.special.zeta(torch.tensor([2.0, 3.0]), torch.tensor([float("inf"), float("inf")]))   # nan, nan
    rs = ts.special.zeta(ts.tensor([2.0, 3.0]), ts.tensor([float("inf"), float("inf")]))
    np.testing.assert_array_equal(_np(rs), _np(rt))


# 19 ------------------------------------------------------------------------------------------
def test_float16_sinc_computed_in_float32():
    x = [2.0, 100.0, 1e4, 0.5]
    rt = _np(torch.sinc(torch.tensor(x, dtype=torch.float16)))   # 0, 0, 6e-08, 0.6367
    rs = _np(ts.sinc(ts.tensor(x, dtype=ts.float16)))
    np.testing.assert_allclose(rs.astype(np.float64), rt.astype(np.float64), rtol=1e-3, atol=1e-5)


# 20 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "hermite_polynomial_h",
                                  "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p",
                                  "shifted_chebyshev_polynomial_t"])
def test_special_polynomials_exist(name):
    x = [0.3, -0.7, 1.5]
    rt = getattr(torch.special, name)(torch.tensor(x), torch.tensor(3))
    assert hasattr(ts.special, name)
    rs = getattr(ts.special, name)(ts.tensor(x), ts.tensor(3))
    np.testing.assert_allclose(_np(rs), _np(rt), rtol=1e-5)


# ------------------------------------------------------------------ beyond the audit's cases
def test_messages_match_torch():
    cases = [
        lambda L: L.abs(L.tensor([True])),
        lambda L: L.ceil(L.tensor([True])),
        lambda L: L.round(L.tensor([True])),
        lambda L: L.round(L.tensor([1, 2]), decimals=0),
        lambda L: L.round(L.tensor([1, 2], dtype=L.uint8), decimals=2),
        lambda L: L.nan_to_num(L.tensor([1]), out=L.empty(1, dtype=L.float64)),
        lambda L: L.frexp(L.tensor([1.0]), out=(L.empty(1), L.empty(1, dtype=L.int64))),
        lambda L: L.frexp(L.tensor([1.0], dtype=L.float16), out=(L.empty(1), L.empty(1, dtype=L.int32))),
        lambda L: L.signbit(L.tensor([1.0]), out=L.empty(1)),
        lambda L: L.bitwise_not(L.tensor([True]), out=L.empty(1, dtype=L.int64)),
        lambda L: L.absolute(L.tensor([1.0]), out=L.empty(1, dtype=L.float16)),
        lambda L: L.positive(L.tensor([True])),
        lambda L: L.tensor([1, 2]).hardshrink(),
        lambda L: L.special.chebyshev_polynomial_t(L.tensor([0.5], dtype=L.float16), 3),
    ]
    for f in cases:
        et, es = _same_error(f)
        assert str(es) == str(et)


def test_round_keeps_integers_and_names_the_decimals_node():
    for dn in ["int64", "uint8"]:
        x = ts.tensor([1, 25], dtype=getattr(ts, dn))
        np.testing.assert_array_equal(_np(ts.round(x)), [1, 25])
    xt = torch.tensor([1.25, 2.5], requires_grad=True)
    xs = ts.tensor([1.25, 2.5], requires_grad=True)
    for kw in [{}, {"decimals": 0}, {"decimals": 1}]:
        rt, rs = torch.round(xt, **kw), ts.round(xs, **kw)
        np.testing.assert_array_equal(_np(rs), _np(rt))
        assert rs.grad_fn.name() == rt.grad_fn.name()


def test_bool_tensors_keep_their_other_unary_ops():
    b = [True, False]
    for op in ["sign", "isinf", "isnan", "isfinite", "logical_not", "bitwise_not"]:
        np.testing.assert_array_equal(_np(getattr(ts, op)(ts.tensor(b))), getattr(torch, op)(torch.tensor(b)).numpy())


def test_nan_to_num_out_resize_and_integer_input():
    ot, os_ = torch.empty(0, dtype=torch.int64), ts.empty(0, dtype=ts.int64)
    torch.nan_to_num(torch.tensor([1, 2]), out=ot)
    ts.nan_to_num(ts.tensor([1, 2]), out=os_)
    np.testing.assert_array_equal(_np(os_), ot.numpy())


def test_frexp_out_resized_and_list_accepted():
    x = [8.0, 0.3, -5.0]
    mt, et = torch.empty(0), torch.empty(0, dtype=torch.int32)
    torch.frexp(torch.tensor(x), out=[mt, et])
    ms, es = ts.empty(0), ts.empty(0, dtype=ts.int32)
    r = ts.frexp(ts.tensor(x), out=[ms, es])
    np.testing.assert_array_equal(_np(ms), mt.numpy())
    np.testing.assert_array_equal(_np(es), et.numpy())
    assert type(r).__name__ == "FrexpResult" or hasattr(r, "mantissa")
    for bad in [lambda L: L.empty(1), lambda L: (L.empty(1),), lambda L: (L.empty(1), 3)]:
        _same_error(lambda L: L.frexp(L.tensor([1.0]), out=bad(L)))
    _same_error(lambda L: L.frexp(L.tensor([1.0], requires_grad=True), out=(L.empty(1), L.empty(1, dtype=L.int32))))


@pytest.mark.parametrize("op", ["exp", "abs", "neg", "sigmoid"])
def test_out_full_overlap_and_disjoint_views_allowed(op):
    def run(L):
        data = L.tensor([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], dtype=L.float64)
        getattr(L, op)(data[0:3], out=data[0:3])        # the input itself: the in-place form
        getattr(L, op)(data[0:3], out=data[3:6])        # no shared element
        getattr(L, op)(data[0::2], out=data[1::2])      # interleaved: torch does not look (strided)
        return data
    np.testing.assert_allclose(_np(run(ts)), _np(run(torch)), rtol=1e-12)


def test_out_partial_overlap_of_transposed_view_raises():
    def f(L):
        m = L.tensor([[0.1, 0.2], [0.3, 0.4]], dtype=L.float64)
        return L.exp(m, out=m.t())   # the same memory, other strides: partial
    _same_error(f)


@pytest.mark.parametrize("op", ["signbit", "isposinf", "isneginf"])
def test_bool_result_ops_write_bool_out(op):
    x = [float("inf"), -1.0, -float("inf"), 0.0]
    ot, os_ = torch.empty(4, dtype=torch.bool), ts.empty(4, dtype=ts.bool)
    getattr(torch, op)(torch.tensor(x), out=ot)
    getattr(ts, op)(ts.tensor(x), out=os_)
    np.testing.assert_array_equal(_np(os_), ot.numpy())


def test_angle_values_and_zero_gradient():
    x = [float("nan"), float("inf"), -float("inf"), -1.0, 0.0, -0.0, 3.0]
    xt, xs = torch.tensor(x, requires_grad=True), ts.tensor(x, requires_grad=True)
    yt, ys = torch.angle(xt), ts.angle(xs)
    np.testing.assert_allclose(_np(ys), _np(yt), rtol=1e-6, equal_nan=True)
    yt.backward(torch.ones_like(yt))   # (not sum(): inf + -inf is a numpy warning)
    ys.backward(ts.ones_like(ys))
    np.testing.assert_array_equal(_np(xs.grad), xt.grad.numpy())


def test_lgamma_near_zero_and_negative_subnormals():
    x = np.array([-1e-310, 1e-300, -5e-324, 0.0, -0.0, 1e-200, 2.5, -2.5])
    np.testing.assert_allclose(_np(ts.lgamma(ts.tensor(x))), torch.lgamma(torch.tensor(x)).numpy(), rtol=1e-12)


def test_erfinv_values_unchanged_elsewhere():
    x = [0.0, 0.5, -0.5, 0.999, -1.0, 1.0, 1.5, float("nan")]
    for dn in ["float32", "float64"]:
        rt = torch.erfinv(torch.tensor(x, dtype=getattr(torch, dn))).numpy()
        rs = _np(ts.erfinv(ts.tensor(x, dtype=getattr(ts, dn))))
        np.testing.assert_allclose(rs, rt, rtol=1e-5, equal_nan=True)
        real = ~np.isnan(rt)
        np.testing.assert_array_equal(np.signbit(rs[real]), np.signbit(rt[real]))


@pytest.mark.parametrize("lambd", [0.5, 0.0, -1.0, float("inf"), float("nan")])
def test_tensor_hardshrink_gradient(lambd):
    vals = [0.0, 0.3, -0.3, 0.5, -0.5, 1.0, float("inf"), -float("inf"), float("nan")]
    xt, xs = torch.tensor(vals, requires_grad=True), ts.tensor(vals, requires_grad=True)
    yt, ys = xt.hardshrink(lambd), xs.hardshrink(lambd)
    np.testing.assert_array_equal(_np(ys), _np(yt))
    assert ys.grad_fn.name() == yt.grad_fn.name()
    yt.backward(torch.ones_like(yt))   # (not sum(): inf + -inf is a numpy warning)
    ys.backward(ts.ones_like(ys))
    np.testing.assert_array_equal(_np(xs.grad), xt.grad.numpy())


def test_airy_ai_infinities_and_threshold():
    x = [float("inf"), -float("inf"), float("nan"), 103.8, 103.9, 0.0, 1.0, -2.0]
    rt = torch.special.airy_ai(torch.tensor(x, dtype=torch.float64)).numpy()
    rs = _np(ts.special.airy_ai(ts.tensor(x, dtype=ts.float64)))
    np.testing.assert_allclose(rs, rt, rtol=1e-10, atol=1e-300, equal_nan=True)


@pytest.mark.parametrize("name", ["i1", "i1e"])
def test_i1_gradients_near_zero(name):
    for dn, x in [("float64", [1e-310, -1e-320, 0.0, 1e-17, 2e-16, 1e-3, -2.0]),
                  ("float32", [1e-40, 0.0, 1e-8, 2e-7, 1e-3, -2.0])]:
        xt = torch.tensor(x, dtype=getattr(torch, dn), requires_grad=True)
        getattr(torch.special, name)(xt).sum().backward()
        xs = ts.tensor(np.array(x, dtype=dn), requires_grad=True)
        getattr(ts.special, name)(xs).sum().backward()
        np.testing.assert_allclose(_np(xs.grad), xt.grad.numpy(), rtol=1e-5)


@pytest.mark.parametrize("dn", ["float32", "float64"])
def test_polygamma_grid(dn):
    x = [float("inf"), -float("inf"), float("nan"), 0.0, -0.0, -1.0, -2.0, -1.5, 0.3, 1.0, 7.5, 1e30, -0.5]
    for n in range(6):
        rt = torch.polygamma(n, torch.tensor(x, dtype=getattr(torch, dn))).numpy()
        rs = _np(ts.polygamma(n, ts.tensor(x, dtype=getattr(ts, dn))))
        np.testing.assert_allclose(rs, rt, rtol=1e-4, equal_nan=True, err_msg=f"n={n}")
        np.testing.assert_allclose(_np(ts.special.polygamma(n, ts.tensor(x, dtype=getattr(ts, dn)))), rt,
                                   rtol=1e-4, equal_nan=True)


def test_polygamma_and_digamma_gradients():
    x = [-float("inf"), float("inf"), -1.0, 0.0, 0.5, 3.0]
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    xs = ts.tensor(np.array(x), requires_grad=True)
    torch.digamma(xt).sum().backward()
    ts.digamma(xs).sum().backward()
    np.testing.assert_allclose(_np(xs.grad), xt.grad.numpy(), rtol=1e-10, equal_nan=True)
    for n in [1, 2]:
        xt.grad, xs.grad = None, None
        torch.polygamma(n, xt).sum().backward()
        ts.polygamma(n, xs).sum().backward()
        np.testing.assert_allclose(_np(xs.grad), xt.grad.numpy(), rtol=1e-10, equal_nan=True)


@pytest.mark.parametrize("eps", [0.6, 1e-6, 0.5, 0.0, 1.0, 2.0, 0.25])
def test_logit_eps_values_and_gradients(eps):
    x = [0.0, 0.3, 0.5, 0.7, 1.0, float("nan"), -1.0, 2.0]
    xt, xs = torch.tensor(x, requires_grad=True), ts.tensor(x, requires_grad=True)
    yt, ys = torch.logit(xt, eps), ts.logit(xs, eps)
    np.testing.assert_allclose(_np(ys), _np(yt), rtol=1e-6, equal_nan=True)
    yt.backward(torch.ones_like(yt))   # (not sum(): inf + -inf is a numpy warning)
    ys.backward(ts.ones_like(ys))
    np.testing.assert_allclose(_np(xs.grad), xt.grad.numpy(), rtol=1e-6, equal_nan=True)
    np.testing.assert_allclose(_np(ts.special.logit(ts.tensor(x), eps)), _np(yt), rtol=1e-6, equal_nan=True)


def test_logit_eps_float16_and_integer_input():
    rt = torch.logit(torch.tensor([0.0, 1.0, 0.3], dtype=torch.float16), 1e-6).numpy()
    rs = _np(ts.logit(ts.tensor([0.0, 1.0, 0.3], dtype=ts.float16), 1e-6))
    np.testing.assert_allclose(rs.astype(np.float64), rt.astype(np.float64), rtol=1e-3)
    np.testing.assert_allclose(_np(ts.logit(ts.tensor([0, 1]), 0.25)), torch.logit(torch.tensor([0, 1]), 0.25).numpy(),
                               rtol=1e-6)


def test_zeta_grid():
    q = [float("inf"), -float("inf"), float("nan"), 0.0, -1.0, -1.5, 2.0, 0.5, 1e300]
    for s in [0.5, 1.0, 2.0, 3.0, 2.5, float("inf"), float("nan")]:
        rt = torch.special.zeta(torch.tensor([s] * len(q), dtype=torch.float64), torch.tensor(q, dtype=torch.float64))
        rs = ts.special.zeta(ts.tensor([s] * len(q), dtype=ts.float64), ts.tensor(q, dtype=ts.float64))
        np.testing.assert_allclose(_np(rs), rt.numpy(), rtol=1e-10, atol=1e-290, equal_nan=True, err_msg=f"s={s}")


def test_float16_sinc_grid():
    x = np.array([0.0, 0.25, 1.0, 3.0, 7.5, 33.0, 1000.5, -2.0, float("inf")], dtype=np.float16)
    rt = torch.sinc(torch.tensor(x)).numpy().astype(np.float64)
    rs = _np(ts.sinc(ts.tensor(x))).astype(np.float64)
    np.testing.assert_allclose(rs, rt, rtol=1e-3, atol=1e-6, equal_nan=True)


# ------------------------------------------------------------------ torch.special's polynomials
_POLYNOMIALS = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v",
                "chebyshev_polynomial_w", "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
                "shifted_chebyshev_polynomial_v", "shifted_chebyshev_polynomial_w", "hermite_polynomial_h",
                "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p"]
_X = [float("inf"), -float("inf"), 0.0, -0.0, 1.0, -1.0, 0.3, -0.7, 1.5, 0.5, 0.25, 0.75, 2.0, -3.0, 0.999, 1e-3]
_N = [-3, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 20, 2.7, -0.5, float("nan"), float("inf"), -float("inf"),
      129, 513, 200, 1e20]


@pytest.mark.parametrize("name", _POLYNOMIALS)
@pytest.mark.parametrize("dn", ["float32", "float64"])
def test_special_polynomial_grid(name, dn):
    # every special case and both the recurrence and the closed forms; x = nan with n >= 2 is left
    # out (torch returns an uninitialised value there, ours nan)
    x, n = np.array(_X, dtype=dn)[:, None], np.array(_N, dtype=dn)[None, :]
    rt = getattr(torch.special, name)(torch.tensor(x), torch.tensor(n)).numpy()
    rs = _np(getattr(ts.special, name)(ts.tensor(x), ts.tensor(n)))
    assert rs.dtype == rt.dtype and rs.shape == rt.shape
    tol = 1e-4 if dn == "float32" else 1e-10
    np.testing.assert_allclose(rs, rt, rtol=tol, atol=tol, equal_nan=True)
    for deg in [0, 1, 4, 11]:   # a number n, and a number x
        np.testing.assert_allclose(_np(getattr(ts.special, name)(ts.tensor(x[:, 0]), deg)),
                                   getattr(torch.special, name)(torch.tensor(x[:, 0]), deg).numpy(),
                                   rtol=tol, atol=tol, equal_nan=True)
    np.testing.assert_allclose(_np(getattr(ts.special, name)(0.3, ts.tensor([2, 5, 9]))),
                               getattr(torch.special, name)(0.3, torch.tensor([2, 5, 9])).numpy(), rtol=1e-5)


@pytest.mark.parametrize("name", ["chebyshev_polynomial_t", "hermite_polynomial_h", "legendre_polynomial_p"])
def test_special_polynomial_dtypes_grad_and_out(name):
    cases = [(np.array([1, 2]), 3), (np.array([1, 2]), np.array(3)), (np.array([0.5, 2.0], np.float32), np.array(3.0)),
             (np.array([0.5, 2.0], np.float32), np.array([3.0])), (np.array([True, False]), 3),
             (np.array([0.5, 2.0]), np.array([[1], [2], [3]]))]
    for x, n in cases:
        nt = torch.tensor(n) if isinstance(n, np.ndarray) else n
        ns = ts.tensor(n) if isinstance(n, np.ndarray) else n
        rt = getattr(torch.special, name)(torch.tensor(x), nt)
        rs = getattr(ts.special, name)(ts.tensor(x), ns)
        assert str(rs.dtype).replace("torch.", "") == str(rt.dtype).replace("torch.", "")
        np.testing.assert_allclose(_np(rs), rt.numpy(), rtol=1e-6)
    _same_error(lambda L: getattr(L.special, name)(0.5, 3))
    _same_error(lambda L: getattr(L.special, name)(L.tensor([0.5], dtype=L.float16), 3))
    # no derivative in torch: the result does not require grad
    rs = getattr(ts.special, name)(ts.tensor([0.5, 2.0], requires_grad=True), 3)
    rt = getattr(torch.special, name)(torch.tensor([0.5, 2.0], requires_grad=True), 3)
    assert rs.requires_grad == rt.requires_grad is False
    _same_error(lambda L: getattr(L.special, name)(L.tensor([0.5], requires_grad=True), 3).sum().backward())
    ot, os_ = torch.empty(1, dtype=torch.float64), ts.empty(1, dtype=ts.float64)
    getattr(torch.special, name)(torch.tensor([0.5]), 3, out=ot)
    assert getattr(ts.special, name)(ts.tensor([0.5]), 3, out=os_) is os_
    np.testing.assert_allclose(_np(os_), ot.numpy(), rtol=1e-6)
    _same_error(lambda L: getattr(L.special, name)(L.tensor([0.5]), 3, out=L.empty(1, dtype=L.int64)))
