"""Findings from porting torch's test/distributions/test_distributions.py: each test runs the same
case through torch 2.13 and ts.distributions in one process and asserts they agree.

Covers lazy_property computing under enable_grad (so a first read inside no_grad keeps the graph),
Categorical / OneHotCategorical validating the normalised logits (+inf, or a row all -inf, is an
error), Categorical.expand keeping the subclass, and OneHotCategorical checking probs under the
default setting even with validate_args=False."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
TD = torch.distributions

import tinygrad_seq as ts  # noqa: E402
import tinygrad_seq.distributions as SD  # noqa: E402

INF = float("inf")


@pytest.fixture(autouse=True)
def _validation_on():
    """Validation on in both libraries for each test, the previous defaults restored after."""
    torch_before, ts_before = TD.Distribution._validate_args, SD.Distribution._validate_args
    TD.Distribution.set_default_validate_args(True)
    SD.Distribution.set_default_validate_args(True)
    yield
    TD.Distribution.set_default_validate_args(torch_before)
    SD.Distribution.set_default_validate_args(ts_before)


# 1. lazy_property computes under enable_grad, as torch's

def test_lazy_property_computed_under_no_grad_keeps_graph():
    # torch's test_lazy_property_grad
    x = ts.randn(1, requires_grad=True)

    class Dummy:
        @SD.utils.lazy_property
        def y(self):
            return x + 1

    with ts.no_grad():
        y = Dummy().y
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), np.ones(1))


def test_bernoulli_logits_sample_then_entropy_gradient():
    # REINFORCE with an entropy bonus: sample() first reads .probs under no_grad
    logits = np.array([0.3, -1.2, 2.0], np.float32)
    t = torch.tensor(logits, requires_grad=True)
    d = TD.Bernoulli(logits=t)
    d.sample()
    d.entropy().sum().backward()
    s = ts.tensor(logits, requires_grad=True)
    e = SD.Bernoulli(logits=s)
    e.sample()
    e.entropy().sum().backward()
    np.testing.assert_allclose(s.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_bernoulli_probs_logits_first_read_under_no_grad_then_log_prob_backward():
    probs = np.array([0.3, 0.2, 0.9], np.float32)
    value = [1.0, 0.0, 1.0]
    t = torch.tensor(probs, requires_grad=True)
    d = TD.Bernoulli(probs=t)
    with torch.no_grad():
        d.logits
    d.log_prob(torch.tensor(value)).sum().backward()
    s = ts.tensor(probs, requires_grad=True)
    e = SD.Bernoulli(probs=s)
    with ts.no_grad():
        e.logits
    e.log_prob(ts.tensor(value)).sum().backward()
    np.testing.assert_allclose(s.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-6)


# 2. torch validates the normalised logits (logits - logsumexp), where +inf or an all -inf row is nan

@pytest.mark.parametrize("logits", [[INF, 0.0], [[0.0, 1.0], [-INF, -INF]]])
def test_categorical_logits_inf_or_all_masked_row_raises(logits):
    with pytest.raises(ValueError):
        TD.Categorical(logits=torch.tensor(logits))
    with pytest.raises(ValueError):
        SD.Categorical(logits=ts.tensor(logits))


def test_one_hot_categorical_all_masked_row_raises():
    logits = [[0.0, 1.0], [-INF, -INF]]
    with pytest.raises(ValueError):
        TD.OneHotCategorical(logits=torch.tensor(logits))
    with pytest.raises(ValueError):
        SD.OneHotCategorical(logits=ts.tensor(logits))


# 3. Categorical.expand returns type(self) (torch's _get_checked_instance)

def test_categorical_subclass_expand_keeps_class():
    # torch's test_distribution_subclass_expand
    class TSub(TD.Categorical):
        pass

    class SSub(SD.Categorical):
        pass

    probs = [[0.1, 0.2, 0.3], [0.5, 0.3, 0.2]]
    assert type(TSub(torch.tensor(probs)).expand((2, 2))) is TSub
    assert type(SSub(ts.tensor(probs)).expand((2, 2))) is SSub


def test_categorical_subclass_with_custom_init_expand_raises():
    class TSub(TD.Categorical):
        def __init__(self, p):
            super().__init__(probs=p)

    class SSub(SD.Categorical):
        def __init__(self, p):
            super().__init__(probs=p)

    with pytest.raises(NotImplementedError):
        TSub(torch.tensor([0.2, 0.8])).expand((3,))
    with pytest.raises(NotImplementedError, match="must also define a custom .expand"):
        SSub(ts.tensor([0.2, 0.8])).expand((3,))


def test_categorical_expand_values_and_validation_flag():
    probs = [[0.1, 0.2, 0.7]]
    t = TD.Categorical(probs=torch.tensor(probs), validate_args=False).expand((4, 1))
    s = SD.Categorical(probs=ts.tensor(probs), validate_args=False).expand((4, 1))
    assert tuple(s.batch_shape) == tuple(t.batch_shape) and s._validate_args is t._validate_args is False
    np.testing.assert_allclose(s.probs.numpy(), t.probs.numpy(), rtol=1e-6)
    np.testing.assert_allclose(s.logits.numpy(), t.logits.numpy(), rtol=1e-6)
    np.testing.assert_allclose(s.log_prob(ts.tensor([2, 0, 1, 2])).numpy(),
                               t.log_prob(torch.tensor([2, 0, 1, 2])).numpy(), rtol=1e-6)


# 4. OneHotCategorical builds its Categorical with the default validation, as torch's

@pytest.mark.parametrize("name", ["OneHotCategorical", "OneHotCategoricalStraightThrough"])
def test_one_hot_categorical_validate_false_still_checks_probs(name):
    with pytest.raises(ValueError):
        getattr(TD, name)(probs=torch.tensor([-1.0, 2.0]), validate_args=False)
    with pytest.raises(ValueError):
        getattr(SD, name)(probs=ts.tensor([-1.0, 2.0]), validate_args=False)


@pytest.mark.parametrize("validate_args", [None, True, False])
def test_one_hot_categorical_probs_check_with_default_off(validate_args):
    # default off: only validate_args=True checks probs (torch's own constructor does then)
    TD.Distribution.set_default_validate_args(False)
    SD.Distribution.set_default_validate_args(False)
    try:
        TD.OneHotCategorical(probs=torch.tensor([-1.0, 2.0]), validate_args=validate_args)
        torch_raised = False
    except ValueError:
        torch_raised = True
    try:
        d = SD.OneHotCategorical(probs=ts.tensor([-1.0, 2.0]), validate_args=validate_args)
        ts_raised = False
    except ValueError:
        ts_raised = True
    assert ts_raised == torch_raised == (validate_args is True)
    if not ts_raised:
        assert d._validate_args is False
