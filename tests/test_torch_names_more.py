"""Top-level names added after test_torch_namespace_gaps.py: bitwise_not / shifts, absolute, the
in-place inverse-trig aliases, addmv_, conj_physical and rms_norm, against torch 2.13."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
import tinygrad_seq as ts  # noqa: E402

INTS = np.array([[1, -2, 3], [4, 5, -6]], np.int64)


@pytest.mark.parametrize("name,args", [("bitwise_not", ()), ("bitwise_left_shift", (2,)),
                                       ("bitwise_right_shift", (1,)), ("absolute", ())])
def test_integer_functions_match_torch(name, args):
    expected = getattr(torch, name)(torch.tensor(INTS), *args)
    got = getattr(ts, name)(ts.tensor(INTS), *args)
    assert got.tolist() == expected.tolist()
    assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]


def test_bitwise_shift_by_tensor_and_out():
    a, s = [1, 2, 7], [1, 2, 0]
    assert ts.bitwise_left_shift(ts.tensor(a), ts.tensor(s)).tolist() == \
        torch.bitwise_left_shift(torch.tensor(a), torch.tensor(s)).tolist()
    out = ts.empty(3, dtype=ts.int64)
    ts.bitwise_not(ts.tensor(a), out=out)
    assert out.tolist() == torch.bitwise_not(torch.tensor(a)).tolist()


@pytest.mark.parametrize("name", ["acosh_", "asinh_", "atanh_", "arccos_", "arccosh_", "arcsin_",
                                  "arcsinh_", "arctan_", "arctanh_"])
def test_inplace_inverse_trig_aliases(name):
    values = np.random.default_rng(1).uniform(0.1, 0.8, (2, 3)) + (1.5 if "cosh" in name else 0.0)
    ours, theirs = ts.tensor(values), torch.tensor(values)
    assert getattr(ts, name)(ours) is ours
    getattr(torch, name)(theirs)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_addmv_inplace_and_conj_physical():
    rng = np.random.default_rng(2)
    m, v, y = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal(3)
    ours, theirs = ts.tensor(y), torch.tensor(y)
    ts.addmv_(ours, ts.tensor(m), ts.tensor(v), beta=0.5, alpha=2.0)
    torch.addmv_(theirs, torch.tensor(m), torch.tensor(v), beta=0.5, alpha=2.0)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    assert ts.conj_physical(ts.tensor(y)).tolist() == torch.conj_physical(torch.tensor(y)).tolist()


def test_rms_norm_top_level_with_gradients():
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 4, 3)), rng.uniform(0.5, 1.5, 3)
    xs, ws = ts.tensor(x, requires_grad=True), ts.tensor(w, requires_grad=True)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    ys, yt = ts.rms_norm(xs, [3], ws, 1e-6), torch.rms_norm(xt, [3], wt, 1e-6)
    np.testing.assert_allclose(ys.detach().numpy(), yt.detach().numpy(), rtol=1e-10)
    (ys * ys).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ws.grad.numpy(), wt.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(ts.rms_norm(ts.tensor(x), (3,)).numpy(),
                               torch.rms_norm(torch.tensor(x), (3,)).numpy(), rtol=1e-10)
