"""Programs round 20 (45 PyTorch programs beside torch 2.13): a module's dtype change replaces its
buffers (a shared or kept buffer keeps its dtype), state-dict values answer the tensor calls
checkpoint code makes (and refuse in-place writes that would not reach the model), and reading
.grad of a non-leaf tensor warns as torch's."""
import warnings

import numpy as np
import pytest
import torch

import tinygrad_seq as ts


@pytest.mark.parametrize("lib", [torch, ts], ids=["torch", "ours"])
def test_a_dtype_change_replaces_buffers_and_keeps_parameters(lib):
    m = lib.nn.BatchNorm1d(3)
    shared = lib.zeros(2)
    m.register_buffer("shared", shared)
    old_mean, old_weight = m.running_mean, m.weight
    m.double()
    assert m.running_mean is not old_mean and old_mean.dtype == lib.float32
    assert m.running_mean.dtype == lib.float64 and m.shared.dtype == lib.float64
    assert shared.dtype == lib.float32                       # the tensor registered elsewhere
    assert m.weight is old_weight and old_weight.dtype == lib.float64   # parameters: in place


@pytest.mark.parametrize("lib", [torch, ts], ids=["torch", "ours"])
def test_a_buffer_shared_by_two_modules_keeps_the_other_modules_dtype(lib):
    bias = lib.full((4,), 0.5)
    a, b = lib.nn.Linear(4, 4), lib.nn.Linear(4, 4)
    a.register_buffer("b", bias)
    b.register_buffer("b", bias)
    a.double()
    assert b.b.dtype == lib.float32 and a.b.dtype == lib.float64
    m = lib.nn.Linear(2, 2)
    m.register_buffer("steps", lib.zeros(1))
    before = m.steps
    m.float()                                               # nothing to convert: the same buffer
    assert m.steps is before and m.steps.dtype == lib.float32


def _value(lib):
    lib.manual_seed(0)
    return lib.nn.GRU(2, 3).state_dict()["weight_hh_l0"]


@pytest.mark.parametrize("call,expected", [
    (lambda v, lib: v.half().dtype, np.float16),
    (lambda v, lib: v.long().dtype, np.int64),
    (lambda v, lib: v.int().dtype, np.int32),
    (lambda v, lib: v.bool().dtype, np.bool_),
    (lambda v, lib: tuple(v.view(-1).shape), (27,)),
    (lambda v, lib: tuple(v.view(3, 9).shape), (3, 9)),
    (lambda v, lib: tuple(v.t().shape), (3, 9)),
    (lambda v, lib: tuple(v.unsqueeze(0).shape), (1, 9, 3)),
    (lambda v, lib: v.is_floating_point(), True),
    (lambda v, lib: lib.is_tensor(v), True),
    (lambda v, lib: tuple(lib.stack([v, v]).mean(0).shape), (9, 3)),
    (lambda v, lib: tuple(lib.cat([v, v]).shape), (18, 3)),
    (lambda v, lib: tuple(lib.zeros_like(v).shape), (9, 3)),
], ids=["half", "long", "int", "bool", "view(-1)", "view(3,9)", "t", "unsqueeze", "is_floating_point",
        "is_tensor", "stack", "cat", "zeros_like"])
def test_state_dict_values_answer_tensor_calls(call, expected):
    ours = call(_value(ts), ts)
    theirs = call(_value(torch), torch)
    if isinstance(theirs, torch.dtype):
        theirs = {torch.float16: np.float16, torch.int64: np.int64, torch.int32: np.int32,
                  torch.bool: np.bool_}[theirs]
    assert theirs == expected and (ours == expected or np.dtype(ours) == np.dtype(expected))


def test_state_dict_values_give_torchs_numbers():
    ours, theirs = _value(ts), _value(torch)
    np.testing.assert_array_equal(np.asarray(ours), theirs.numpy())   # the same seeded init
    assert float(ours.norm()) == pytest.approx(float(theirs.norm()), rel=1e-6)
    assert float(ours.std()) == pytest.approx(float(theirs.std()), rel=1e-6)      # unbiased, as torch's
    assert float(np.std(ours)) == pytest.approx(float(theirs.std(unbiased=False)), rel=1e-6)   # numpy's own
    values, indices = ours.max(0)
    t_values, t_indices = theirs.max(0)
    np.testing.assert_array_equal(values, t_values.numpy())
    np.testing.assert_array_equal(indices, t_indices.numpy())
    np.testing.assert_allclose(ours.sum(dim=1, keepdim=True), theirs.sum(dim=1, keepdim=True).numpy(), rtol=1e-6)
    np.testing.assert_array_equal(ours.transpose(0, 1), theirs.transpose(0, 1).numpy())
    np.testing.assert_array_equal(np.transpose(ours), theirs.numpy().T)              # numpy's call form
    assert ours.view(np.int32).dtype == np.int32                                      # numpy's view(dtype)


def test_in_place_on_a_state_dict_value_refuses_and_on_its_clone_works():
    lin = ts.nn.Linear(3, 2)
    w = lin.state_dict()["weight"]
    for value in (w, w[0], w.T):
        with pytest.raises(AttributeError, match="a state_dict\\(\\) value is a copy"):
            value.mul_(0.5)
    avg = w.clone()
    assert avg.mul_(0.5) is avg
    np.testing.assert_allclose(avg, 0.5 * w)
    (w * 2).add_(1)                                       # arithmetic's results are new arrays
    np.testing.assert_array_equal(lin.weight.detach().numpy(), w)   # the model never changed


def test_a_numpy_array_to_a_like_function_is_torchs_type_error():
    for lib in (torch, ts):
        with pytest.raises(TypeError, match="zeros_like\\(\\): argument 'input' \\(position 1\\) must be Tensor, "
                                            "not numpy.ndarray"):
            lib.zeros_like(np.ones(3))


@pytest.mark.parametrize("lib", [torch, ts], ids=["torch", "ours"])
def test_reading_grad_of_a_non_leaf_warns(lib):
    lstm = lib.nn.LSTM(2, 3)
    x = lib.randn(4, 1, 2, requires_grad=True)
    out, (h, c) = lstm(x)
    kept = out * 1
    kept.retain_grad()
    (h.sum() + kept.sum()).backward()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert h.grad is None
    assert [w.category for w in caught] == [UserWarning]
    assert "not a leaf Tensor" in str(caught[0].message) and "retain_grad()" in str(caught[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is not None and kept.grad is not None   # leaves and retained tensors: silent
        assert lib.ones(2).grad is None                      # nor a tensor outside autograd


def test_torchs_positional_forms_and_numpys_functions_on_state_dict_values():
    ours, theirs = _value(ts), _value(torch)
    plain = np.asarray(ours).view(np.ndarray)
    for call in (lambda v: v.std(0), lambda v: v.var(1), lambda v: v.std(0, True), lambda v: v.sum(0, True),
                 lambda v: v.mean(1, True), lambda v: v.max(0, True)[0], lambda v: v.repeat(2, 1),
                 lambda v: v.argmax(dim=1), lambda v: v.cumsum(dim=0), lambda v: v.flatten(0),
                 lambda v: v.squeeze(0), lambda v: v.sort()[0], lambda v: v.sort(dim=0, descending=True)[1]):
        got, want = np.asarray(call(ours)), call(theirs).numpy()
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5)
    # numpy's own functions keep numpy's meaning (they pass axis=, ddof=, kind=)
    for f in (lambda v: np.std(v), lambda v: np.max(v, 0), lambda v: np.sort(v), lambda v: np.repeat(v, 2),
              lambda v: np.sum(v, axis=1, keepdims=True), lambda v: np.argmax(v, 1), lambda v: np.median(v, 0)):
        np.testing.assert_array_equal(np.asarray(f(ours)), f(plain))
    assert type(ts.Tensor(ours).numpy()) is np.ndarray           # a tensor made from one holds a plain array


def test_views_a_tensor_method_returns_refuse_in_place_too():
    w = ts.nn.Linear(3, 2).state_dict()["weight"]
    for view in (w.t(), w.narrow(0, 0, 1), w.view(-1), w.unsqueeze(0)):
        with pytest.raises(AttributeError, match="a state_dict\\(\\) value is a copy"):
            view.mul_(2)
    assert w.t().clone().mul_(2).shape == (3, 2)
