"""Cases ported from PyTorch's test/test_binary_ufuncs.py, each compared with torch 2.13 in the
same process: the dunders' NotImplemented for operands of unknown types (and the named forms'
TypeError), logaddexp / logaddexp2 / div(trunc) / floor_divide / nextafter gradients, heaviside of
nan, a negative 0-d int beside uint8 in the float functions, gcd / lcm promotion, the out= resize
warning and out dtype rules, float alphas of integer add / sub, the Tensor-only functions'
TypeError for numbers, the NotImplementedErrors of unsupported dtypes, and bool sub / pow."""
import warnings

import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")

inf = float("inf")


def _np(x):
    return np.asarray(x.detach().numpy())


def _grads(m, fn, a, b, dtype="float32", create_graph=False):
    ta = m.tensor(a, dtype=getattr(m, dtype), requires_grad=True)
    tb = m.tensor(b, dtype=getattr(m, dtype), requires_grad=True)
    return [_np(g) for g in m.autograd.grad(fn(m, ta, tb).sum(), [ta, tb], create_graph=create_graph)]


def _raises(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return e
    return None


def _same_error(f, exc=None):
    """f(L) raises on torch; ours must raise an exception of the same type (and of exc)."""
    et, es = _raises(lambda: f(torch)), _raises(lambda: f(ts))
    assert et is not None
    assert es is not None, f"torch raises {type(et).__name__}: {et}; ours returns"
    assert isinstance(es, type(et)), f"torch {type(et).__name__}: {et}; ours {type(es).__name__}: {es}"
    if exc is not None:
        assert isinstance(et, exc) and isinstance(es, exc)
    return et, es


def _resize_warnings(fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fn()
    return sum("resized" in str(x.message) for x in w)


class _Foo:
    def __radd__(self, o): return "radd"
    def __rmul__(self, o): return "rmul"
    def __rsub__(self, o): return "rsub"
    def __rtruediv__(self, o): return "rtruediv"
    def __rfloordiv__(self, o): return "rfloordiv"
    def __rpow__(self, o): return "rpow"
    def __gt__(self, o): return "gt"   # the reflection of <


# 1 -------------------------------------------------------------------------------------------
def test_binary_dunder_returns_notimplemented_for_unknown_type():
    for m in (torch, ts):
        assert m.ones(2).__add__(object()) is NotImplemented, m.__name__
        assert m.ones(2) + _Foo() == "radd", m.__name__
        assert m.ones(2) * _Foo() == "rmul", m.__name__


@pytest.mark.parametrize("dt", ["float32", "int64", "bool"])
@pytest.mark.parametrize("opn", ["__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
                                 "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__",
                                 "__rpow__", "__lt__", "__ge__"])
def test_each_dunder_returns_notimplemented(opn, dt):
    for m in (torch, ts):
        t = m.tensor([[1, 2], [3, 4]], dtype=getattr(m, dt))
        assert getattr(t, opn)(object()) is NotImplemented, m.__name__


@pytest.mark.parametrize("expr,want", [
    (lambda t: t - _Foo(), "rsub"), (lambda t: t / _Foo(), "rtruediv"), (lambda t: t // _Foo(), "rfloordiv"),
    (lambda t: t ** _Foo(), "rpow"), (lambda t: t < _Foo(), "gt"),
])
def test_reflected_operator_of_unknown_type_runs(expr, want):
    for m in (torch, ts):
        assert expr(m.ones(2)) == want, m.__name__


@pytest.mark.parametrize("call", [
    lambda m: m.add(m.ones(2), _Foo()), lambda m: m.add(_Foo(), m.ones(2)), lambda m: m.ones(2).add(_Foo()),
    lambda m: m.mul(m.ones(2), _Foo()), lambda m: m.mul(_Foo(), m.ones(2)), lambda m: m.ones(2).mul(_Foo()),
    lambda m: m.sub(m.ones(2), _Foo()), lambda m: m.div(m.ones(2), _Foo()), lambda m: m.pow(m.ones(2), _Foo()),
    lambda m: m.pow(_Foo(), m.ones(2)), lambda m: m.add(m.ones(2), object()), lambda m: m.ones(2) + None,
])
def test_function_forms_refuse_unknown_types(call):
    _same_error(call, TypeError)


def test_known_operands_keep_working():
    for m in (torch, ts):
        t = m.tensor([1.0, 2.0])
        np.testing.assert_array_equal(_np(t + np.float32(1.0)), [2.0, 3.0])
        np.testing.assert_array_equal(_np(t * m.tensor(2.0)), [2.0, 4.0])
    for m in (torch, ts):   # a list is no operand (round 28d: ours converted it, and a max(dim) pair broadcast)
        with pytest.raises(TypeError, match="unsupported operand"):
            m.tensor([1.0, 2.0]) + [1.0, 1.0]


# 2 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["logaddexp", "logaddexp2"])
def test_logaddexp_grad_with_inf(op):
    a, b = [inf, -inf, 0.0, inf, 1.0], [1.0, 2.0, -inf, inf, -0.5]
    f = lambda m, x, y: getattr(m, op)(x, y)
    for gt, go in zip(_grads(torch, f, a, b), _grads(ts, f, a, b)):
        np.testing.assert_allclose(go, gt, rtol=1e-6)   # torch: [1, 0, 1, nan, .], [0, 1, 0, nan, .]


@pytest.mark.parametrize("op", ["logaddexp", "logaddexp2"])
def test_logaddexp_second_order_with_inf(op):
    def grad_of_grad(m):
        x = m.tensor([inf, 0.0, 1.0, -2.0], dtype=m.float64, requires_grad=True)
        y = m.tensor([1.0, -inf, 3.0, 0.5], dtype=m.float64, requires_grad=True)
        gx, gy = m.autograd.grad(getattr(m, op)(x, y).sum(), [x, y], create_graph=True)
        return [_np(g) for g in m.autograd.grad((gx * gx).sum() + (gy * gy).sum(), [x, y])]
    for gt, go in zip(grad_of_grad(torch), grad_of_grad(ts)):
        np.testing.assert_allclose(go, gt, rtol=1e-10)


# 3 -------------------------------------------------------------------------------------------
def test_div_trunc_grad_zero_divisor():
    a, b = [1.0, 2.0, 0.0, -3.5], [0.0, 0.0, 0.0, 2.0]
    f = lambda m, x, y: m.div(x, y, rounding_mode="trunc")
    for gt, go in zip(_grads(torch, f, a, b), _grads(ts, f, a, b)):
        np.testing.assert_array_equal(go, gt)  # torch: zeros
    for m in (torch, ts):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        g, = m.autograd.grad(m.div(x, 0.0, rounding_mode="trunc").sum(), [x])
        np.testing.assert_array_equal(_np(g), [0.0, 0.0])


def test_div_trunc_values():
    for a, b in (([7.0, -7.0, 1.0, 0.0], [2.0, 2.0, 0.0, 0.0]), ([7, -7, 9], [2, 2, -4])):
        res = [_np(m.div(m.tensor(a), m.tensor(b), rounding_mode="trunc")) for m in (torch, ts)]
        np.testing.assert_array_equal(res[1], res[0])


# 4 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda m, a: a // 2.0, lambda m, a: m.floor_divide(a, 2.0), lambda m, a: a.floor_divide(m.tensor(2.0)),
    lambda m, a: 2.0 // a,
])
def test_floor_divide_backward_raises(call):
    for m in (torch, ts):
        a = m.tensor([3.0, -7.0], requires_grad=True)
        out = call(m, a)
        assert out.requires_grad
        with pytest.raises(RuntimeError, match="derivative for aten::floor_divide is not implemented"):
            out.sum().backward()


def test_div_floor_mode_has_zero_gradient():
    a, b = [3.0, -7.0, 1.0], [2.0, 2.0, 0.0]
    f = lambda m, x, y: m.div(x, y, rounding_mode="floor")
    for gt, go in zip(_grads(torch, f, a, b), _grads(ts, f, a, b)):
        np.testing.assert_array_equal(go, gt)


# 5 -------------------------------------------------------------------------------------------
def test_nextafter_grad_equal_inputs():
    a, b = [0.0, 2.0, 1.0, float("nan"), -0.0], [0.0, 2.0, 3.0, 1.0, 0.0]
    f = lambda m, x, y: m.nextafter(x, y)
    gt, go = _grads(torch, f, a, b, "float64"), _grads(ts, f, a, b, "float64")
    np.testing.assert_array_equal(go[0], gt[0])   # torch [0, 0, 1, 1, 0]
    np.testing.assert_array_equal(go[1], gt[1])


# 6 -------------------------------------------------------------------------------------------
def test_heaviside_nan_input():
    for m in (torch, ts):
        r = m.heaviside(m.tensor([float("nan"), 0.0, -1.0, 2.0]), m.tensor([2.0, 0.5, 2.0, 0.5]))
        np.testing.assert_array_equal(_np(r), [0.0, 0.5, 0.0, 1.0], err_msg=m.__name__)


def test_heaviside_integers_and_broadcast():
    res = [_np(m.heaviside(m.tensor([[-2], [0], [3]]), m.tensor([7, 8]))) for m in (torch, ts)]
    np.testing.assert_array_equal(res[1], res[0])


# 7 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["atan2", "copysign", "ldexp", "xlogy"])
def test_uint8_with_negative_0d_int(op):
    res = []
    for m in (torch, ts):
        res.append(_np(getattr(m, op)(m.tensor([1, 2, 5], dtype=m.uint8), m.tensor(-3))))
    np.testing.assert_allclose(res[1], res[0])


@pytest.mark.parametrize("fn", ["div", "true_divide", "divide"])
def test_div_negative_int_first_uint8(fn):
    res = [getattr(m, fn)(-3, m.tensor([1, 2], dtype=m.uint8)) for m in (torch, ts)]
    np.testing.assert_allclose(_np(res[1]), _np(res[0]))   # torch [-3, -1.5]
    assert str(res[1].dtype).split(".")[-1] == str(res[0].dtype).split(".")[-1]


# 8 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["gcd", "lcm"])
@pytest.mark.parametrize("dts", [("int32", None), ("uint8", "int8"), ("int16", "int64")])
def test_gcd_lcm_promotion(op, dts):
    res = []
    for m in (torch, ts):
        a = m.tensor([4, 6, -12], dtype=getattr(m, dts[0]))
        b = m.tensor(2) if dts[1] is None else m.tensor([6, 4, 8], dtype=getattr(m, dts[1]))
        res.append(getattr(m, op)(a.abs() if dts[0] == "uint8" else a, b))
    assert str(res[1].dtype).split(".")[-1] == str(res[0].dtype).split(".")[-1]
    np.testing.assert_array_equal(_np(res[1]), _np(res[0]))


# 9 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda m: m.add(m.ones(3), m.ones(3), out=m.empty(2)),
    lambda m: m.mul(m.ones(2, 3), 2.0, out=m.empty(3)),
    lambda m: m.atan2(m.ones(3), m.ones(3), out=m.empty(1)),
    lambda m: m.cat([m.ones(2)], out=m.empty(3)),
])
def test_out_resize_warns_once(call):
    assert _resize_warnings(lambda: call(torch)) == 1
    assert _resize_warnings(lambda: call(ts)) == 1


@pytest.mark.parametrize("call", [
    lambda m: m.add(m.ones(3), m.ones(3), out=m.empty(0)),
    lambda m: m.add(m.ones(3), m.ones(3), out=m.empty(3)),
    lambda m: m.zeros(3, out=m.empty(2)),
    lambda m: m.linspace(0, 1, 5, out=m.empty(2)),
])
def test_out_resize_silent(call):
    assert _resize_warnings(lambda: call(torch)) == 0
    assert _resize_warnings(lambda: call(ts)) == 0


# 10 ------------------------------------------------------------------------------------------
def test_float_power_out_dtype():
    for m in (torch, ts):
        with pytest.raises(RuntimeError, match="the output given to float_power has dtype Float but the operation's "
                                               "result requires dtype Double"):
            m.float_power(m.tensor([1.0, 2.0]), 2, out=m.empty(2))
    res = [_np(m.float_power(m.tensor([1.0, 2.0]), 2, out=m.empty(2, dtype=m.float64))) for m in (torch, ts)]
    np.testing.assert_array_equal(res[1], res[0])


# 11 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", ["add", "sub"])
@pytest.mark.parametrize("alpha", [1.0, 2.0, 1.5])
def test_integral_alpha_float(op, alpha):
    for m in (torch, ts):
        with pytest.raises(RuntimeError, match="alpha must not be a floating point"):
            getattr(m, op)(m.tensor([1, 2]), m.tensor([3, 4]), alpha=alpha)


@pytest.mark.parametrize("op", ["add", "sub"])
def test_float_alpha_with_float_result_is_taken(op):
    for other in (lambda m: m.tensor([3.0, 4.0]), lambda m: 2.5):
        res = [_np(getattr(m, op)(m.tensor([1, 2]), other(m), alpha=1.5)) for m in (torch, ts)]
        np.testing.assert_allclose(res[1], res[0])
    res = [_np(getattr(m, op)(m.tensor([1, 2]), m.tensor([3, 4]), alpha=2)) for m in (torch, ts)]
    np.testing.assert_array_equal(res[1], res[0])


# 12 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda m: m.logical_and(m.tensor([1.0, 0.0]), 1),
    lambda m: m.logical_or(m.tensor([1.0, 0.0]), 0),
    lambda m: m.logical_xor(m.tensor([1, 0]), 1),
    lambda m: m.logical_xor(1, m.tensor([1, 0])),
    lambda m: m.tensor([1.0, 0.0]).logical_and_(1),
    lambda m: m.logaddexp2(2.0, m.tensor([1.0])),
    lambda m: m.tensor([1.0]).logaddexp2(2.0),
    lambda m: m.nextafter(m.tensor([1.0]), 2.0),
    lambda m: m.ldexp(m.tensor([1.0]), 2),
    lambda m: m.tensor([4.0, 6.0]).ldexp_(2),
    lambda m: m.heaviside(m.tensor([1.0, 0.0]), 0.5),
    lambda m: m.tensor([4.0, 6.0]).heaviside_(2.0),
    lambda m: m.copysign(2.0, m.tensor([-1.0])),
    lambda m: m.tensor([4, 6]).gcd_(2),
    lambda m: m.tensor([4, 6]).lcm_(2),
    lambda m: m.gcd(m.tensor([4, 6]), 2),
])
def test_tensor_only_functions_refuse_numbers(call):
    _same_error(call, TypeError)


def test_number_forms_that_torch_takes():
    for call in (lambda m: m.copysign(m.tensor([-1.0, 2.0]), 2.0), lambda m: m.tensor([True, False]) & True,
                 lambda m: m.logical_and(m.tensor([1.0, 0.0]), m.tensor(True))):
        res = [_np(call(m)) for m in (torch, ts)]
        np.testing.assert_array_equal(res[1], res[0])


# 13 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call,exc", [
    (lambda m: m.nextafter(m.tensor([1, 2]), m.tensor([3, 4])), NotImplementedError),
    (lambda m: m.nextafter(m.tensor([True]), m.tensor([True])), NotImplementedError),
    (lambda m: m.gcd(m.tensor([1.0]), m.tensor([2.0])), NotImplementedError),
    (lambda m: m.gcd(m.tensor([1]), m.tensor([2.0])), NotImplementedError),
    (lambda m: m.lcm(m.tensor([True]), m.tensor([True])), NotImplementedError),
    (lambda m: m.gcd(m.tensor([1.0]), m.tensor([2.0]), out=m.empty(1, dtype=m.int64)), RuntimeError),
    (lambda m: m.ldexp(m.tensor([1.0]), m.tensor([True])), NotImplementedError),
    (lambda m: m.heaviside(m.tensor([1.0]), m.tensor([1.0]), out=m.empty(1, dtype=m.float64)), RuntimeError),
    (lambda m: m.heaviside(m.tensor([1.0]), m.tensor([1.0], dtype=m.float64)), RuntimeError),
])
def test_unsupported_dtype_errors(call, exc):
    et, es = _same_error(call, exc)
    if type(et) is RuntimeError:   # not a NotImplementedError (a RuntimeError too) in its place
        assert not isinstance(es, NotImplementedError), es


def test_nextafter_and_gcd_messages_name_the_dtype():
    for call in (lambda m: m.nextafter(m.tensor([1, 2]), m.tensor([3, 4])),
                 lambda m: m.gcd(m.tensor([1.0]), m.tensor([2.0]))):
        et, es = _same_error(call, NotImplementedError)
        assert str(es) == str(et)


@pytest.mark.parametrize("call", [
    lambda m: m.ldexp(m.tensor([True]), m.tensor([True])),
    lambda m: m.ldexp(m.tensor([1]), m.tensor([True])),
    lambda m: m.nextafter(m.tensor([1]), m.tensor([2.0])),
    lambda m: m.gcd(m.tensor([12]), m.tensor([8]), out=m.empty(1, dtype=m.float32)),
])
def test_supported_mixed_dtypes(call):
    res = [call(m) for m in (torch, ts)]
    assert str(res[1].dtype).split(".")[-1] == str(res[0].dtype).split(".")[-1]
    np.testing.assert_array_equal(_np(res[1]), _np(res[0]))


# 14 ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda m: m.sub(True, m.tensor([1.0, 2.0])),
    lambda m: m.sub(m.tensor([1.0, 2.0]), True),
    lambda m: m.sub(True, 5),
    lambda m: m.pow(m.tensor([True, False]), -2),
    lambda m: m.tensor([True, False]) ** -1,
])
def test_bool_operand_errors(call):
    et, es = _same_error(call, RuntimeError)
    assert str(es) == str(et)


def test_bool_pow_positive_int():
    res = [m.pow(m.tensor([True, False]), 2) for m in (torch, ts)]
    assert str(res[1].dtype).split(".")[-1] == str(res[0].dtype).split(".")[-1]
    np.testing.assert_array_equal(_np(res[1]), _np(res[0]))
