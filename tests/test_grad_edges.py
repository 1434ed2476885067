"""Gradients and dtypes at the edges where the plain composition gives 0 * inf or numpy's rule:
each against torch (float64; warnings are errors, as torch gives none)."""
import warnings

import numpy as np
import pytest

import tinygrad_seq as ts
import tinygrad_seq.functional as F

torch = pytest.importorskip("torch")
TF = torch.nn.functional

CASES = {
    "pow_0": (lambda x: x ** 0, lambda x: x ** 0, [0.0, -2.0, 3.0]),
    "norm_zero_row": (lambda x: x.norm(dim=1), lambda x: x.norm(dim=1), [[0.0, 0.0], [3.0, 4.0]]),
    "norm_p3_zero_row": (lambda x: x.norm(p=3, dim=1), lambda x: x.norm(p=3, dim=1), [[0.0, 0.0], [3.0, 4.0]]),
    "norm_all_zero": (lambda x: x.norm(), lambda x: x.norm(), [[0.0, 0.0], [0.0, 0.0]]),
    "normalize_after_relu": (lambda x: F.normalize(F.relu(x), dim=1), lambda x: TF.normalize(TF.relu(x), dim=1),
                             [[-1.0, -2.0], [3.0, 4.0]]),
    "std_constant_row": (lambda x: x.std(1), lambda x: x.std(1), [[2.0, 2.0], [1.0, 3.0]]),
    "standardise_constant_row": (lambda x: (x - x.mean(1, keepdim=True)) / (x.std(1, keepdim=True) + 1e-6),
                                 lambda x: (x - x.mean(1, keepdim=True)) / (x.std(1, keepdim=True) + 1e-6),
                                 [[2.0, 2.0], [1.0, 3.0]]),
    "hardtanh_bounds": (F.hardtanh, TF.hardtanh, [-2.0, -1.0, 0.0, 1.0, 2.0]),
    "leaky_relu_0": (F.leaky_relu, TF.leaky_relu, [-2.0, 0.0, 2.0]),
    "elu_0_and_large": (F.elu, TF.elu, [-2.0, 0.0, 2.0, 800.0]),
    "cross_entropy_all_ignored": (lambda x: F.cross_entropy(x, ts.tensor([-100, -100, -100])),
                                  lambda x: TF.cross_entropy(x, torch.tensor([-100, -100, -100])),
                                  np.ones((3, 4)).tolist()),
    "nll_loss_all_ignored": (lambda x: F.nll_loss(x, ts.tensor([-100, -100])),
                             lambda x: TF.nll_loss(x, torch.tensor([-100, -100])), np.ones((2, 3)).tolist()),
}


@pytest.mark.parametrize("name", list(CASES))
def test_values_and_gradients_match_torch(name):
    ours_fn, torch_fn, data = CASES[name]
    xt = torch.tensor(data, dtype=torch.float64, requires_grad=True)
    torch_out = torch_fn(xt)
    torch_out.sum().backward()
    xs = ts.tensor(np.array(data, np.float64), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ours_fn(xs)
        out.sum().backward()
    np.testing.assert_allclose(out.numpy(), torch_out.detach().numpy(), equal_nan=True)
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy())


@pytest.mark.parametrize("dims, dtypes", [
    ((2,), ("float32", "float64")), ((2,), ("float64", "float32")), ((2,), ("int32", "int64")),
    ((2,), ("int32", "float64")), ((2,), ("bool", "int64")), ((2,), ("float32", "int64")),
    ((), ("float32", "float64")),
])
def test_a_0d_tensor_promotes_as_in_torch(dims, dtypes):
    # the first operand has shape `dims`, the second is 0-d
    a_np = np.ones(dims, dtypes[0])
    b_np = np.array(2, dtypes[1])
    a, b = ts.tensor(a_np, dtype=a_np.dtype), ts.tensor(b_np, dtype=b_np.dtype)
    assert (a.dtype, b.dtype) == (a_np.dtype, b_np.dtype)
    for fwd in (True, False):
        got = (a + b) if fwd else (b + a)
        want = (torch.tensor(a_np) + torch.tensor(b_np)) if fwd else (torch.tensor(b_np) + torch.tensor(a_np))
        assert str(got.dtype) == str(want.dtype).removeprefix("torch."), (dtypes, fwd)


def test_linear_with_a_1d_weight_drops_the_out_axis_as_torch():
    x, w = np.ones((2, 3)), np.arange(3.0)
    got = F.linear(ts.tensor(x), ts.tensor(w))
    want = TF.linear(torch.tensor(x), torch.tensor(w))
    assert got.shape == tuple(want.shape) == (2,)
    np.testing.assert_allclose(got.numpy(), want.numpy())
    with pytest.raises(RuntimeError, match=r"^mat1 and mat2 shapes cannot be multiplied \(2x3 and 5x4\)$"):   # torch's text
        F.linear(ts.tensor(x), ts.ones(4, 5))


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_pointwise_losses_warn_and_broadcast_as_torch(name):
    x, y = np.arange(12.0).reshape(3, 4), np.arange(3.0).reshape(3, 1)
    with pytest.warns(UserWarning, match="target size"):
        theirs = getattr(TF, name)(torch.tensor(x), torch.tensor(y))
    with pytest.warns(UserWarning, match=r"target size \(torch.Size\(\[3, 1\]\)\)"):
        ours = getattr(F, name)(ts.tensor(x), ts.tensor(y))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())
    with pytest.raises(RuntimeError, match=r"\(3, 4\).*\(2, 1\)"), pytest.warns(UserWarning, match="target size"):
        getattr(F, name)(ts.tensor(x), ts.ones(2, 1, dtype=ts.float64))


def test_numpy_of_a_reduction_is_a_0d_array_as_torch():
    out = ts.ones(2, 3).sum().numpy()
    assert type(out) is np.ndarray and out.shape == () and out == 6


@pytest.mark.parametrize("data", [[1.0, 2.0], [[1.0], [2.0]], (1.5,), [1, 2.5], "arrays", "np_float64",
                                  "np_float32", "torch_float64"])
def test_constructor_dtypes_follow_torch_tensor(data):
    made = {"arrays": lambda: [np.ones(2), np.zeros(2)], "np_float64": lambda: [np.float64(1.0)],
            "np_float32": lambda: [np.float32(1.0)],
            "torch_float64": lambda: torch.ones(2, dtype=torch.float64)}.get(
                data if isinstance(data, str) else None, lambda: data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch's "a list of ndarrays is slow"
        want = torch.tensor(made()).dtype if data != "torch_float64" else torch.float64
    assert str(ts.tensor(made()).dtype) == str(want).removeprefix("torch.")


def test_an_integer_beyond_int64_raises_instead_of_wrapping():
    assert ts.tensor([2 ** 63 - 1]).numpy()[0] == 2 ** 63 - 1
    with pytest.raises(OverflowError, match="9223372036854775808"):
        ts.tensor([2 ** 63])
    with pytest.raises(ValueError):   # torch's error class; ours is both
        torch.tensor([2 ** 63])
    with pytest.raises(ValueError):
        ts.tensor([2 ** 63])
