"""Layouts and float16 of the engine kernels' ops against torch 2.13 (stop 45 audit): exp / sigmoid /
tanh of an expanded input come back C-contiguous, softmax / log_softmax outputs are C-contiguous
whatever the input's layout, float16 softmaxes compute in float32 and round once."""
import numpy as np
import pytest
import tinygrad_seq as ts

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("op", ["exp", "sigmoid", "tanh"])
def test_unary_on_expanded_input_is_contiguous(op):
    # an input with a stride-0 dim: torch's result is C-contiguous (as relu / neg / log here)
    x = np.random.default_rng(0).standard_normal((40, 64)).astype(np.float32)
    ref = getattr(torch.tensor(x)[3].unsqueeze(0).expand(50, -1), op)()
    out = getattr(ts.tensor(x)[3].unsqueeze(0).expand(50, -1), op)()
    assert ref.stride() == (64, 1)
    assert out.stride() == ref.stride()
    assert out.is_contiguous()
    np.testing.assert_allclose(out.view(-1).numpy(), ref.view(-1).numpy(), rtol=1e-6)  # view fails in ts


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_of_transposed_input_is_contiguous(fn):
    # torch's softmax / log_softmax allocate a contiguous output (.view(-1) of it works)
    x = np.random.default_rng(1).standard_normal((60, 70)).astype(np.float32)
    ref = getattr(torch.nn.functional, fn)(torch.tensor(x).t(), dim=1)
    out = getattr(ts.nn.functional, fn)(ts.tensor(x).t(), dim=1)
    assert ref.is_contiguous()
    assert out.stride() == ref.stride()
    np.testing.assert_allclose(out.view(-1).numpy(), ref.view(-1).numpy(), rtol=1e-5, atol=1e-6)


def test_log_softmax_float16_matches_torch_float_accumulation():
    # torch computes a half log_softmax in float and rounds once
    x = (np.random.default_rng(1).standard_normal((600, 700)).astype(np.float32) * 3)[:50, :60]
    ref = torch.nn.functional.log_softmax(torch.tensor(x).half(), 0).float().numpy()
    out = ts.nn.functional.log_softmax(ts.tensor(x).half(), 0).float().numpy()
    exact = torch.nn.functional.log_softmax(torch.tensor(x).double(), 0).numpy()
    # torch is within half rounding of the exact value; ts must be too
    assert np.abs(ref - exact).max() <= np.abs(exact).max() * 2**-10
    np.testing.assert_allclose(out, ref, rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_float16_softmax_gradients_match_torch(fn):
    x = np.random.default_rng(3).standard_normal((40, 50)).astype(np.float32) * 3
    g = np.random.default_rng(4).standard_normal((40, 50)).astype(np.float32)
    t = torch.tensor(x).half().requires_grad_()
    s = ts.tensor(x).half().requires_grad_()
    getattr(torch.nn.functional, fn)(t, 1).backward(torch.tensor(g).half())
    getattr(ts.nn.functional, fn)(s, 1).backward(ts.tensor(g).half())
    assert s.grad.dtype == ts.float16
    np.testing.assert_allclose(s.grad.float().numpy(), t.grad.float().numpy(), rtol=2e-3, atol=2e-3)

