"""Differences found by porting PyTorch's test/test_autograd.py, in torch.autograd.functional
(vjp, jvp, vhp, hvp, jacobian, hessian), gradcheck / gradgradcheck and cdist, checked against
torch 2.13 directly."""
import warnings

import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")


def _np(t):
    return None if t is None else t.detach().numpy()


# ------------------------------------------------------------------ autograd.functional
@pytest.mark.parametrize("name", ["vjp", "jvp", "vhp", "hvp"])
def test_create_graph_gradient_reaches_v(name):
    res = {}
    for lib in (torch, ts):
        x = lib.tensor([1., 2.], dtype=lib.float64, requires_grad=True)
        v = lib.tensor([5., 6.], dtype=lib.float64, requires_grad=True)
        f = (lambda a: (a ** 3).sum()) if name in ("vhp", "hvp") else (lambda a: a * a)
        _, g = getattr(lib.autograd.functional, name)(f, x, v, create_graph=True)
        g.sum().backward()
        res[lib.__name__] = (_np(x.grad), _np(v.grad))
    assert res["tinygrad_seq"][1] is not None
    np.testing.assert_allclose(res["tinygrad_seq"][1], res["torch"][1])
    np.testing.assert_allclose(res["tinygrad_seq"][0], res["torch"][0])


@pytest.mark.parametrize("name", ["hessian", "vhp", "hvp"])
def test_nonstrict_output_without_grad_gives_zeros(name):
    for lib in (torch, ts):
        inp = lib.tensor([1., 2., 3.], dtype=lib.float64)
        args = (inp,) if name == "hessian" else (inp, inp)
        res = getattr(lib.autograd.functional, name)(lambda a: a.detach().sum(), *args)
        h = res if name == "hessian" else res[1]
        np.testing.assert_array_equal(_np(h), np.zeros((3, 3) if name == "hessian" else (3,)))


@pytest.mark.parametrize("name", ["vjp", "jvp", "jacobian"])
def test_strict_create_graph_jacobian_independent_of_input_raises(name):
    for lib in (torch, ts):
        inp = lib.tensor([1., 2., 3., 4.], dtype=lib.float64, requires_grad=True)
        v = lib.ones(4, dtype=lib.float64)
        args = (inp, v) if name != "jacobian" else (inp,)
        with pytest.raises(RuntimeError, match="The jacobian of the user-provided function is independent of input 0. "
                                               "This is not allowed in strict mode when create_graph=True."):
            getattr(lib.autograd.functional, name)(lambda a: a.clone(), *args, create_graph=True, strict=True)


@pytest.mark.parametrize("name", ["vhp", "hvp"])
def test_vhp_hvp_keep_the_output_shape(name):
    x = np.arange(1., 5.)
    want = getattr(torch.autograd.functional, name)(lambda a: a.exp().sum().view(1, 1, 1), torch.tensor(x),
                                                    torch.tensor(x))
    got = getattr(ts.autograd.functional, name)(lambda a: a.exp().sum().view(1, 1, 1), ts.tensor(x), ts.tensor(x))
    assert tuple(got[0].shape) == tuple(want[0].shape) == (1, 1, 1)
    np.testing.assert_allclose(got[1].numpy(), want[1].numpy())


@pytest.mark.parametrize("name", ["vjp", "jacobian", "hessian", "vhp", "hvp"])
def test_non_tensor_output_is_a_type_error(name):
    for lib in (torch, ts):
        inp = lib.tensor([1., 2., 3., 4.], dtype=lib.float64)
        bar = lambda a: (3 * a.narrow(0, 0, 3), "bar")  # noqa: E731
        args = ((inp, lib.ones(3, dtype=lib.float64)) if name == "vjp"
                else (inp, inp) if name in ("vhp", "hvp") else (inp,))
        with pytest.raises(TypeError, match="The outputs of the user-provided function given to "
                                            f"{name} must be either a Tensor or a tuple of Tensors but the "
                                            "value at index 1 has type <class 'str'>."):
            getattr(lib.autograd.functional, name)(bar, *args)


@pytest.mark.parametrize("name", ["vhp", "hvp"])
def test_non_tensor_in_v_is_a_type_error(name):
    for lib in (torch, ts):
        inp = lib.tensor([1., 2., 3., 4.], dtype=lib.float64)
        foo = lambda a: 3 * a.narrow(0, 0, 3).exp().sum()  # noqa: E731
        with pytest.raises(TypeError, match=f"The v given to {name} must be either a Tensor or a tuple of Tensors "
                                            "but the value at index 1 has type <class 'int'>."):
            getattr(lib.autograd.functional, name)(foo, inp, (inp, 2))


def test_invalid_v_and_inputs_messages_as_torch():
    for lib in (torch, ts):
        AF = lib.autograd.functional
        inp = lib.ones(4, dtype=lib.float64)
        with pytest.raises(RuntimeError, match=r"v has invalid size: should be torch.Size\(\[4\]\) but got "
                                               r"torch.Size\(\[3\]\)."):
            AF.jvp(lambda a: a * 2, inp, lib.ones(3, dtype=lib.float64))
        with pytest.raises(RuntimeError, match="v is a tuple of invalid length: should be 2 but got 1."):
            AF.vjp(lambda a: (a * 2, a * 3), inp, (inp,))
        with pytest.raises(TypeError, match="The inputs given to jacobian must be either a Tensor or a tuple of "
                                            "Tensors but the given inputs has type <class 'list'>."):
            AF.jacobian(lambda a: a * 2, [inp])


def test_strict_output_without_grad_and_unused_input():
    for lib in (torch, ts):
        AF = lib.autograd.functional
        inp = lib.ones(3, dtype=lib.float64)
        with pytest.raises(RuntimeError, match="Output 0 of the user-provided function does not require gradients"):
            AF.vjp(lambda a: a.detach() * 2, inp, inp, strict=True)
        with pytest.raises(RuntimeError, match="The output of the user-provided function is independent of input 1"):
            AF.vjp(lambda a, b: a * 2, (inp, inp), inp, strict=True)
        _, (ga, gb) = AF.vjp(lambda a, b: a * 2, (inp, inp), inp)
        np.testing.assert_array_equal(_np(gb), np.zeros(3))


# ------------------------------------------------------------------ gradcheck / gradgradcheck
def test_gradcheck_output_not_requiring_grad():
    for lib in (torch, ts):
        x = lib.ones(3, 3, dtype=lib.float64, requires_grad=True)
        assert lib.autograd.gradcheck(lambda i: lib.zeros(3, dtype=lib.float64), x) is True
        assert lib.autograd.gradcheck(lambda i: lib.zeros(3, dtype=lib.float64) + 0 * i.detach(), (x,))
        # a non-zero numerical gradient: a GradcheckError (a RuntimeError) naming it; False when asked
        with pytest.raises(RuntimeError, match="Numerical gradient for function expected to be zero"):
            lib.autograd.gradcheck(lambda i: i.detach(), x)
        assert lib.autograd.gradcheck(lambda i: i.detach(), x, raise_exception=False) is False


def test_gradgradcheck_linear_with_given_grad_outputs():
    for lib in (torch, ts):
        x = lib.ones(3, dtype=lib.float64, requires_grad=True)
        cond = lib.tensor([True, False, True])
        y = lib.zeros(3, dtype=lib.float64, requires_grad=True)
        assert lib.autograd.gradgradcheck(lib.where, (cond, x, y), (lib.ones(3, dtype=lib.float64),))


def test_gradcheck_float32_input_runs_with_warning():
    for lib in (torch, ts):
        x = lib.tensor(np.linspace(0.1, 1, 5).astype(np.float32), requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ok = lib.autograd.gradcheck(lambda i: i * 2, x, eps=1e-3, atol=1e-3)
        assert ok is True
        assert any("Input #0 requires gradient and is not a double precision floating point or complex"
                   in str(m.message) for m in caught)


def test_gradcheck_without_input_requiring_grad_is_a_value_error():
    for lib in (torch, ts):
        with pytest.raises(ValueError, match="gradcheck expects at least one input tensor to require gradient"):
            lib.autograd.gradcheck(lambda i: i * 2, lib.ones(3, dtype=lib.float64))


def _nondeterministic(lib):
    class ND(lib.autograd.Function):
        """Identity whose backward multiplies by 1 + jitter * uniform noise (and is itself ND)."""
        @staticmethod
        def forward(ctx, x, jitter=0.0):
            ctx._jitter = jitter
            return x

        @staticmethod
        def backward(ctx, g):
            return ND.apply(g, ctx._jitter) * (1 + lib.rand_like(g) * ctx._jitter), None
    return ND


def test_gradcheck_and_gradgradcheck_detect_nonreentrant_backward():
    for lib in (torch, ts):
        ND = _nondeterministic(lib)
        inp = lib.tensor(np.random.RandomState(0).randn(5, 5), requires_grad=True)
        assert lib.autograd.gradcheck(lambda x: ND.apply(x, 0.0), inp)
        with pytest.raises(RuntimeError, match="Backward is not reentrant, i.e., running backward with same input "
                                               "and grad_output multiple times gives different values"):
            lib.autograd.gradcheck(lambda x: ND.apply(x, 1e-6), inp)
        assert lib.autograd.gradcheck(lambda x: ND.apply(x, 1e-6), inp, raise_exception=False) is False
        with pytest.raises(RuntimeError, match="Backward is not reentrant"):
            lib.autograd.gradgradcheck(lambda x: ND.apply(x, 1e-12), inp)
        assert lib.autograd.gradcheck(lambda x: ND.apply(x, 1e-6), inp, nondet_tol=1e-5)
        assert lib.autograd.gradgradcheck(lambda x: ND.apply(x, 1e-12), inp, nondet_tol=1e-9)


# ------------------------------------------------------------------ cdist
def test_cdist_p0_backward_gives_zero_gradients():
    for lib in (torch, ts):
        x = lib.tensor([[0., 1.], [2., float("inf")]], dtype=lib.float64, requires_grad=True)
        y = lib.tensor([[1., 1.], [2., 5.]], dtype=lib.float64, requires_grad=True)
        out = lib.cdist(x, y, 0)
        np.testing.assert_array_equal(_np(out), [[1., 2.], [2., 1.]])
        out.sum().backward()
        assert x.grad is not None and y.grad is not None
        assert np.all(x.grad.numpy() == 0) and np.all(y.grad.numpy() == 0)
