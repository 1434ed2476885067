"""An audit driven by torch's OpInfo error_inputs / reference_inputs (torch 2.13): values and
argument rules of clamp, sign, floor division, a number as first operand, empty matrix norms;
each compares with torch in the same test."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
import tinygrad_seq as ts  # noqa: E402
import tinygrad_seq.nn.functional as F  # noqa: E402

TF = torch.nn.functional


# 3. clamp with tensor bounds replaces a NaN input by the bound (torch propagates NaN)
@pytest.mark.parametrize("fn", ["clamp_min", "clamp_max", "clamp"])
def test_clamp_tensor_bound_propagates_nan(fn):
    x = np.array([np.nan, 1.0, np.inf], np.float32)
    b = np.zeros(3, np.float32)
    if fn == "clamp":
        t = torch.clamp(torch.tensor(x), min=torch.tensor(b)); s = ts.clamp(ts.tensor(x), min=ts.tensor(b))
    else:
        t = getattr(torch, fn)(torch.tensor(x), torch.tensor(b)); s = getattr(ts, fn)(ts.tensor(x), ts.tensor(b))
    np.testing.assert_array_equal(s.numpy(), t.numpy())


# 4. sign / sgn of NaN: torch gives 0
@pytest.mark.parametrize("fn", ["sign", "sgn"])
def test_sign_nan(fn):
    x = np.array([np.nan, -2.0, 3.0], np.float32)
    np.testing.assert_array_equal(getattr(ts, fn)(ts.tensor(x)).numpy(), getattr(torch, fn)(torch.tensor(x)).numpy())


# 5. float floor division is floor(a / b) instead of the exact floored quotient
@pytest.mark.parametrize("how", ["floor_divide", "op", "div_floor"])
def test_float_floor_divide_exact(how):
    a = np.array([7.0, -0.25, 1.0], np.float64); b = np.array([0.1, -0.001, 0.001], np.float64)
    f = {"floor_divide": lambda m, x, y: m.floor_divide(x, y), "op": lambda m, x, y: x // y,
         "div_floor": lambda m, x, y: m.div(x, y, rounding_mode="floor")}[how]
    t = f(torch, torch.tensor(a), torch.tensor(b)).numpy()   # [69, 249, 999] like Python's 7.0 // 0.1
    s = f(ts, ts.tensor(a), ts.tensor(b)).numpy()
    np.testing.assert_array_equal(s, t)


# 6. a Python float as the first argument of sub/div/true_divide/remainder/xlogy is rounded to float32
@pytest.mark.parametrize("fn", ["sub", "div", "true_divide", "remainder", "xlogy"])
def test_python_scalar_first_arg_keeps_double(fn):
    c = 5.576059452216908
    v = np.array([2.434282590974007, 7.380839390984031])
    t = getattr(torch, fn)(c, torch.tensor(v)).numpy()
    s = getattr(ts, fn)(c, ts.tensor(v)).numpy()
    np.testing.assert_allclose(s, t, rtol=1e-12)


def test_linalg_norm_matrix_ord_empty():
    t = torch.linalg.norm(torch.zeros(5, 0), 2)
    s = ts.linalg.norm(ts.zeros(5, 0), 2)
    assert s.item() == t.item() == 0.0


# 14. calls with no Tensor argument: torch raises TypeError (or returns a tensor for add/mul)
@pytest.mark.parametrize("call", ["eq", "maximum", "atan2_tensor_int"])
def test_scalar_only_calls_raise(call):
    f = {"eq": lambda m: m.eq(2, 3), "maximum": lambda m: m.maximum(m.tensor([1, 2]), 2),
         "atan2_tensor_int": lambda m: m.atan2(m.tensor([1.0, 2.0]), 2)}[call]
    with pytest.raises(TypeError):
        f(torch)
    with pytest.raises(TypeError):
        f(ts)


def test_add_two_python_scalars_returns_tensor():
    assert isinstance(torch.add(2.0, 3.0), torch.Tensor)
    assert isinstance(ts.add(2.0, 3.0), ts.Tensor)




def test_clamp_tensor_bounds_nan_gradients_as_torch():
    n = float("nan")
    data = ([n, 1.0, -1.0, 2.0], [0.0, n, 0.0, 0.0], [0.5, 0.5, n, 1.0])
    out = []
    for lib in (torch, ts):
        x, lo, hi = (lib.tensor(v, requires_grad=True) for v in data)
        res = []
        for kw in (dict(min=lo), dict(max=hi), dict(min=lo, max=hi)):
            y = lib.clamp(x, **kw)
            res.append([np.asarray(y.detach().numpy())] +
                       [np.asarray(g.numpy()) for g in lib.autograd.grad(y.sum(), [x] + list(kw.values()))])
        out.append(res)
    for a, b in zip(out[0], out[1]):
        for u, v in zip(a, b):
            np.testing.assert_array_equal(v, u)


def test_abs_gradient_at_nan_is_zero():
    grads = []
    for lib in (torch, ts):
        x = lib.tensor([float("nan"), -1.0, 2.0], requires_grad=True)
        x.abs().sum().backward()
        grads.append(np.asarray(x.grad.numpy()))
    np.testing.assert_array_equal(grads[1], grads[0])


def test_floor_division_gradient_zero_also_by_zero():
    grads = []
    for lib in (torch, ts):
        a = lib.tensor([7.0, -0.25, 1.0, 0.0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([0.1, -0.001, 0.0, 0.0], dtype=lib.float64, requires_grad=True)
        q = lib.div(a, b, rounding_mode="floor")
        q.sum().backward()
        grads.append((np.asarray(q.detach().numpy()), np.asarray(a.grad.numpy()), np.asarray(b.grad.numpy())))
    for u, v in zip(grads[0], grads[1]):
        np.testing.assert_array_equal(v, u)


def test_two_numbers():
    assert isinstance(ts.mul(2, 3), ts.Tensor) and ts.mul(2, 3).item() == 6
    with pytest.raises(TypeError):
        torch.pow(2, 3)
    with pytest.raises(TypeError):
        ts.pow(2, 3)


@pytest.mark.parametrize("name", ["multinomial_long", "rms_norm_empty_shape", "multi_margin_2d_weight",
                                  "group_norm_1d", "triplet_module_margin"])
def test_argument_checks(name):
    f = {"multinomial_long": lambda m, Fm: m.multinomial(m.tensor([1, 2]), 1),
         "rms_norm_empty_shape": lambda m, Fm: Fm.rms_norm(m.ones(1, 2, 3), []),
         "multi_margin_2d_weight": lambda m, Fm: Fm.multi_margin_loss(m.ones(5, 4), m.tensor([0, 1, 2, 3, 0]),
                                                                      weight=m.ones(5, 4)),
         "group_norm_1d": lambda m, Fm: Fm.group_norm(m.ones(1), 1),
         "triplet_module_margin": lambda m, Fm: m.nn.TripletMarginLoss(margin=-1.0)}[name]
    errors = []
    for lib, Fm in ((torch, TF), (ts, F)):
        with pytest.raises(Exception) as info:
            f(lib, Fm)
        errors.append(info.type)
    builtin = [next(c for c in e.__mro__ if c.__module__ == "builtins") for e in errors]
    assert issubclass(errors[1], builtin[0]), (errors, builtin)


@pytest.mark.parametrize("name", ["cross_size1_vector_dim", "gather_out_dtype", "sub_python_bool", "rsub_python_bool",
                                  "lerp_double_end"])
def test_more_argument_checks(name):
    f = {"cross_size1_vector_dim": lambda m: m.cross(m.ones(5, 3), m.ones(5, 1), dim=1),
         "gather_out_dtype": lambda m: m.gather(m.ones(3, 3), 1, m.zeros(3, 2, dtype=m.long),
                                                out=m.zeros(3, 2, dtype=m.float64)),
         "sub_python_bool": lambda m: m.tensor([1.0, 2.0]) - True,
         "rsub_python_bool": lambda m: True - m.tensor([1.0, 2.0]),
         "lerp_double_end": lambda m: m.ones(3).lerp(m.zeros(3, dtype=m.float64), 0.4)}[name]
    for lib in (torch, ts):
        with pytest.raises(RuntimeError):
            f(lib)


def test_cross_still_broadcasts_batch_dims():
    a, b = np.random.default_rng(0).standard_normal((2, 5, 3)), np.random.default_rng(1).standard_normal((1, 1, 3))
    np.testing.assert_allclose(ts.cross(ts.tensor(a), ts.tensor(b), dim=-1).numpy(),
                               torch.cross(torch.tensor(a), torch.tensor(b), dim=-1).numpy(), rtol=1e-12)
