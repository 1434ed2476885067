"""Found by running 9 more tutorial-style programs on both (stop 35): quantile's rank in the
input's dtype (nearest / lower / higher pick torch's element), Categorical's distribution
members, bincount's and kthvalue's errors; each compared with torch 2.13."""
import numpy as np
import pytest
import torch
import tinygrad_seq as ts


def test_quantile_float32_tensor_q_nearest_uses_input_dtype_position():
    # anomaly-threshold program: torch.quantile(err, torch.tensor([..., 0.9]), interpolation="nearest")
    e = np.arange(1, 17, dtype=np.float32) / 10
    q = [0.25, 0.5, 0.9]
    want = torch.quantile(torch.tensor(e), torch.tensor(q), interpolation="nearest").numpy()
    got = ts.quantile(ts.tensor(e), ts.tensor(q), interpolation="nearest").numpy()
    np.testing.assert_allclose(got, want)   # torch [0.5, 0.9, 1.5]; ours [0.5, 0.9, 1.4]


@pytest.mark.parametrize("q,interp", [(0.28, "higher"), (0.56, "higher"), (0.6, "higher")])
def test_quantile_float32_scalar_q_index_rounding(q, interp):
    e = np.arange(26, dtype=np.float32)
    want = torch.quantile(torch.tensor(e), q, interpolation=interp).item()
    got = ts.quantile(ts.tensor(e), q, interpolation=interp).item()
    assert got == want   # e.g. q=0.28: torch 7.0, ours 8.0


def test_bincount_negative_raises_runtime_error():
    with pytest.raises(RuntimeError):
        torch.bincount(torch.tensor([0, -1]))
    with pytest.raises(RuntimeError):   # ours: ValueError
        ts.bincount(ts.tensor([0, -1]))


@pytest.mark.parametrize("expr", ["d.perplexity()", "d.stddev", "d.has_rsample", "d.expand((2,)).batch_shape", "d.support"])
def test_categorical_distribution_base_members(expr):
    dt = torch.distributions.Categorical(probs=torch.tensor([0.2, 0.5, 0.3]))
    ds = ts.distributions.Categorical(probs=ts.tensor([0.2, 0.5, 0.3]))
    eval(expr, {"d": dt})
    eval(expr, {"d": ds})   # ours: AttributeError: 'Categorical' object has no attribute ...


def test_quantile_float64_q_on_float32_input_raises():
    with pytest.raises(RuntimeError):
        torch.quantile(torch.arange(5.), torch.tensor([0.5], dtype=torch.float64))
    with pytest.raises(RuntimeError):   # ours: returns a value
        ts.quantile(ts.arange(5.), ts.tensor([0.5], dtype=ts.float64))


@pytest.mark.parametrize("make,etype", [(lambda t: t.tensor([[1, 2]]), RuntimeError),
                                        (lambda t: t.tensor([1., 2.]), NotImplementedError)])
def test_bincount_bad_input_error_types(make, etype):
    with pytest.raises(etype):
        torch.bincount(make(torch))
    with pytest.raises(etype):   # ours: ValueError
        ts.bincount(make(ts))
