"""ts.distributions.Categorical against torch.distributions.Categorical: normalised probs and
logits, log_prob (with broadcasting) and entropy with their gradients, sample shapes and the
draws' frequencies, validation errors; and the legacy tensor types (ts.FloatTensor) and
state-dict values in torch's comparisons, which the same audit found missing."""
import copy

import numpy as np
import pytest
import torch

import tinygrad_seq as ts
from tinygrad_seq.distributions import Categorical


def _pair(kind, values):
    ours = ts.tensor(values, requires_grad=True)
    theirs = torch.tensor(values, requires_grad=True)
    return ours, theirs, Categorical(**{kind: ours}), torch.distributions.Categorical(**{kind: theirs})


@pytest.mark.parametrize("kind", ["probs", "logits"])
def test_log_prob_and_entropy_match_torch_with_gradients(kind):
    rng = np.random.default_rng(0)
    values = rng.random((3, 4, 5)) + (0.1 if kind == "probs" else -0.5)
    ours, theirs, d, dt = _pair(kind, values)
    np.testing.assert_allclose(d.probs.numpy(), dt.probs.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(d.logits.numpy(), dt.logits.detach().numpy(), rtol=1e-12)
    assert d.batch_shape == tuple(dt.batch_shape) == (3, 4) and d.event_shape == () and d.param_shape == (3, 4, 5)
    index = rng.integers(0, 5, (2, 3, 4))    # broadcast against batch_shape, as torch's
    lp, lpt = d.log_prob(ts.tensor(index)), dt.log_prob(torch.tensor(index))
    np.testing.assert_allclose(lp.numpy(), lpt.detach().numpy(), rtol=1e-12)
    weights = rng.standard_normal(lp.shape)
    loss = (lp * ts.tensor(weights)).sum() + d.entropy().sum()
    loss_t = (lpt * torch.tensor(weights)).sum() + dt.entropy().sum()
    np.testing.assert_allclose(loss.item(), loss_t.item(), rtol=1e-12)
    loss.backward()
    loss_t.backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_samples_have_torch_shapes_and_the_distributions_frequencies():
    probs = np.array([[0.1, 0.0, 0.6, 0.3], [0.25, 0.25, 0.25, 0.25]])
    d = Categorical(probs=ts.tensor(probs))
    assert d.sample().shape == (2,) and d.sample().dtype == np.int64
    draws = d.sample((20000,))
    assert draws.shape == (20000, 2) and not draws.requires_grad
    counts = np.stack([np.bincount(draws.numpy()[:, r], minlength=4) / 20000 for r in range(2)])
    np.testing.assert_allclose(counts, probs, atol=0.015)
    assert counts[0, 1] == 0   # a zero-probability category is never drawn
    ts.manual_seed(3)
    first = Categorical(logits=ts.zeros(7)).sample((5,)).numpy()
    ts.manual_seed(3)
    assert (Categorical(logits=ts.zeros(7)).sample((5,)).numpy() == first).all()


def test_bad_arguments_raise_as_torch():
    with pytest.raises(ValueError, match="exactly one"):
        Categorical()
    with pytest.raises(ValueError, match="exactly one"):
        Categorical(probs=ts.ones(3), logits=ts.ones(3))
    with pytest.raises(ValueError, match="non-negative"):
        Categorical(probs=ts.tensor([0.5, -0.1, 0.6]))
    with pytest.raises(ValueError, match="nan"):
        Categorical(logits=ts.tensor([0.0, float("nan")]))
    with pytest.raises(ValueError, match=r"integers in 0\.\.2"):
        Categorical(logits=ts.zeros(3)).log_prob(ts.tensor([3]))
    with pytest.raises(AttributeError, match="has no attribute 'NoSuchDistribution'"):
        ts.distributions.NoSuchDistribution


def test_legacy_tensor_types_convert_and_check_instances():
    t = ts.tensor([1, 2])
    assert t.type(ts.FloatTensor).dtype == np.float32 and t.type(ts.DoubleTensor).dtype == np.float64
    assert isinstance(ts.zeros(2), ts.FloatTensor) and not isinstance(ts.zeros(2), ts.LongTensor)
    assert isinstance(ts.zeros(2).long(), ts.LongTensor)
    assert ts.FloatTensor([1, 2]).dtype == np.float32 and ts.FloatTensor(2, 3).shape == (2, 3)
    assert ts.LongTensor([1.0]).dtype == np.int64


def test_state_dict_values_take_torchs_comparisons():
    m = ts.nn.Linear(2, 2)
    saved, now = copy.deepcopy(m.state_dict()), m.state_dict()
    assert ts.equal(saved["weight"], now["weight"]) and ts.allclose(saved["weight"], now["weight"])
    assert saved["weight"].equal(now["weight"]) and saved["weight"].allclose(m.weight)
    assert float((saved["weight"] - now["weight"]).abs().sum()) == 0.0
    with ts.no_grad():
        m.weight += 1.0
    assert not ts.equal(m.weight, saved["weight"]) and not ts.equal(saved["weight"], m.state_dict()["weight"])
    assert not ts.equal(ts.zeros(2), ts.zeros(3))
