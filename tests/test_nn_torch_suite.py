"""Differences found by porting PyTorch's own test/nn/test_module_hooks.py,
test_load_state_dict.py, test_embedding.py and test_init.py: each test runs the same code on
torch 2.13 and on tinygrad_seq and compares the results, or the errors and warnings."""
import copy
import gc
import warnings
import weakref

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import tinygrad_seq as ts  # noqa: E402
import tinygrad_seq.nn as tsnn  # noqa: E402
import tinygrad_seq.nn.functional as tsF  # noqa: E402

LIBS = [(torch, torch.nn, torch.nn.functional), (ts, tsnn, tsF)]


def error_of(f):
    """The exception f() raises, or None."""
    try:
        f()
    except Exception as e:  # noqa: BLE001
        return e
    return None


def warnings_of(f):
    """The messages of the warnings f() gives."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f()
    return [str(w.message) for w in caught]


# ------------------------------------------------------------------ load_state_dict
def custom_state_module(T, nn):
    """torch's test_load_state_dict_custom: a module saving and loading its own format."""
    class CustomState(nn.Module):
        def __init__(self):
            super().__init__()
            self.param = nn.Parameter(T.ones(1))
            self.sub = nn.Linear(5, 5)

        def _save_to_state_dict(self, destination, prefix, keep_vars):
            destination[prefix + "serialized"] = self.param.data + 1

        def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                                  unexpected_keys, error_msgs):
            self.param.data.copy_(state_dict[prefix + "serialized"] - 1)
    return CustomState


def test_custom_load_from_state_dict_override_is_used():
    loaded = []
    for T, nn, F in LIBS:
        custom = custom_state_module(T, nn)
        m = nn.Sequential(custom())
        with T.no_grad():
            m[0].param[0] = 10
        sd = m.state_dict()
        assert list(sd) == ["0.serialized", "0.sub.weight", "0.sub.bias"]
        fresh = nn.Sequential(custom())
        fresh.load_state_dict(sd)
        loaded.append(fresh[0].param[0].item())
    assert loaded[0] == 10.0 and loaded[1] == loaded[0]


def test_child_load_pre_hook_sees_only_its_own_keys():
    seen = []
    for T, nn, F in LIBS:
        model = nn.Sequential(nn.Sequential(nn.Linear(1, 1), nn.Linear(1, 1)), nn.Linear(1, 1))
        got = []
        model[0][0].register_load_state_dict_pre_hook(lambda module, sd, prefix, *rest: got.append(sorted(sd)))
        model.load_state_dict(model.state_dict())
        seen.append(got)
    assert seen[0] == [["0.0.bias", "0.0.weight"]]
    assert seen[1] == seen[0]


def test_load_state_dict_assign_takes_checkpoint_tensor():
    res = []
    for T, nn, F in LIBS:
        m = nn.Linear(2, 2)
        old = m.weight
        w = T.ones(2, 2, dtype=T.float64)
        m.load_state_dict({"weight": w, "bias": T.zeros(2, dtype=T.float64)}, assign=True)
        with T.no_grad():
            w.add_(1)   # the parameter is the checkpoint's memory
        res.append((m.weight is old, m.weight.dtype == T.float64, float(m.weight[0, 0].item()),
                    type(m.weight).__name__, m.weight.requires_grad))
    assert res[0] == (False, True, 2.0, "Parameter", True)
    assert res[1] == res[0]


def test_load_state_dict_assign_keeps_requires_grad_and_assigns_buffers():
    res = []
    for T, nn, F in LIBS:
        m = nn.BatchNorm1d(2)
        m.weight.requires_grad_(False)
        mean = T.full((2,), 3.0)
        sd = {"weight": nn.Parameter(T.ones(2)), "bias": T.zeros(2), "running_mean": mean,
              "running_var": T.ones(2), "num_batches_tracked": T.tensor(4)}
        m.load_state_dict(sd, assign=True)
        res.append((m.weight.requires_grad, m.bias.requires_grad, m.running_mean is mean,
                    type(m.running_mean).__name__, int(m.num_batches_tracked.item()),
                    [k for k, _ in m.named_parameters()], [k for k, _ in m.named_buffers()]))
    assert res[1] == res[0]


def test_load_one_element_1d_into_0d_buffer():
    # torch's _load_from_state_dict: a [1] entry loads into a 0-d tensor (BatchNorm's counter)
    res = []
    for T, nn, F in LIBS:
        bn = nn.BatchNorm1d(2)
        sd = bn.state_dict()
        sd["num_batches_tracked"] = T.tensor([3])
        bn.load_state_dict(sd)
        res.append((tuple(bn.num_batches_tracked.shape), bn.num_batches_tracked.item()))
    assert res[0] == ((), 3)
    assert res[1] == res[0]


def test_load_keys_and_messages_match_torchs():
    res = []
    for T, nn, F in LIBS:
        m = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.Linear(1, 1)))
        sd = dict(m.state_dict())
        sd.update({"0.foo.bar": T.zeros(1), "foo": T.zeros(1), "1.0.x": T.zeros(1), "2.w": T.zeros(1)})
        del sd["1.0.bias"]
        r = m.load_state_dict(sd, strict=False)
        sd["0.weight"] = T.zeros(2, 2)
        err = error_of(lambda: m.load_state_dict(sd))
        res.append((list(r.missing_keys), list(r.unexpected_keys), isinstance(err, RuntimeError),
                    str(err).split("\n\t")[:3]))
    assert res[1][:3] == res[0][:3]
    assert res[1][3][:2] == res[0][3][:2]
    assert res[1][3][2].startswith(res[0][3][2].rstrip("."))   # ours adds the shapes as tuples


def test_load_post_hook_returning_a_value_is_torchs_assertion():
    for T, nn, F in LIBS:
        m = nn.Linear(2, 2)
        m.register_load_state_dict_post_hook(lambda module, incompatible: 1)
        err = error_of(lambda: m.load_state_dict(m.state_dict()))
        assert isinstance(err, AssertionError) and "not expected to return new values" in str(err)


def test_failed_load_undoes_the_modules_written_before_it():
    # API.md: a failed load changes nothing (torch leaves the modules before the error written)
    m = tsnn.Sequential(tsnn.Linear(2, 2), tsnn.Linear(2, 3))
    before = {k: np.array(v) for k, v in m.state_dict().items()}
    first_weight = m[0].weight
    bad = {"0.weight": np.ones((2, 2)), "0.bias": np.ones(2), "1.weight": np.ones((9, 9)), "1.bias": np.ones(3)}
    with pytest.raises(RuntimeError, match="size mismatch for 1.weight"):
        m.load_state_dict(bad)
    with pytest.raises(RuntimeError, match="size mismatch for 1.weight"):
        m.load_state_dict(bad, assign=True)
    assert m[0].weight is first_weight
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_load_pre_hook_with_module_keeps_no_strong_ref():
    # torch test_module_hooks.py::test_no_extra_ref_to_module
    freed = []
    for T, nn, F in LIBS:
        gc.disable()
        try:
            m = nn.Linear(10, 10)
            m._register_load_state_dict_pre_hook(lambda *a: None, True)
            ref = weakref.ref(m)
            del m
            freed.append(ref() is None)
        finally:
            gc.enable()
    assert freed == [True, True]


def test_load_pre_hook_of_a_deep_copy_gets_the_copy():
    res = []
    for T, nn, F in LIBS:
        m = nn.Sequential(nn.Linear(1, 1))
        got = []
        m[0].register_load_state_dict_pre_hook(lambda module, *rest: got.append(module))
        c = copy.deepcopy(m)
        c.load_state_dict(m.state_dict())
        res.append((got[0] is c[0], got[0] is m[0]))
    assert res[0] == (True, False)
    assert res[1] == res[0]


# ------------------------------------------------------------------ module hooks
def test_backward_hook_on_dict_output_warns():
    # torch test_module_hooks.py::test_bw_hook_warning_for_non_tensor_or_tuple
    counts = []
    for T, nn, F in LIBS:
        class DictOut(nn.Module):
            def forward(self, d):
                return {"x": F.softmax(d["x"], dim=0)}
        m = DictOut()
        m.register_full_backward_hook(lambda module, grad_input, grad_output: None)
        messages = warnings_of(lambda: m({"x": T.ones(2, requires_grad=True)})["x"].sum().backward())
        counts.append(sum("For backward hooks to be called, module output should be a Tensor or a tuple of "
                          "Tensors but received <class 'dict'>" in q for q in messages))
    assert counts[0] == 1
    assert counts[1] == counts[0]


# ------------------------------------------------------------------ embeddings
def test_embedding_bag_from_pretrained():
    # torch test_embedding.py::test_embedding_bag_from_pretrained / _options
    outs = []
    for T, nn, F in LIBS:
        a = T.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        e = nn.EmbeddingBag.from_pretrained(a, mode="mean")
        thawed = nn.EmbeddingBag.from_pretrained(a, freeze=False, mode="max", padding_idx=1)
        with T.no_grad():
            a[0, 0] = 7.0   # the weight is a's memory
        outs.append((e.weight.requires_grad, e(T.tensor([[0, 1]])).detach().numpy(), thawed.weight.requires_grad,
                     thawed.mode, thawed.padding_idx, thawed(T.tensor([[0, 1]])).detach().numpy()))
    assert outs[0][0] is False and np.allclose(outs[0][1], [[5.5, 3.5, 4.5]])
    assert outs[1][0] == outs[0][0] and np.allclose(outs[1][1], outs[0][1])
    assert outs[1][2:5] == outs[0][2:5] and np.allclose(outs[1][5], outs[0][5])


def test_embedding_bag_from_pretrained_needs_2d():
    for T, nn, F in LIBS:
        assert isinstance(error_of(lambda: nn.EmbeddingBag.from_pretrained(T.ones(3))), AssertionError)


@pytest.mark.parametrize("name", ["uint8", "int8", "int16", "int32"])
def test_embedding_from_pretrained_keeps_integer_dtype(name):
    # torch test_embedding.py::test_embedding_from_pretrained
    res = []
    for T, nn, F in LIBS:
        dt = getattr(T, name)
        e = nn.Embedding.from_pretrained(T.tensor([[1, 2, 3], [4, 5, 6]], dtype=dt))
        res.append((e.weight.dtype == dt, e(T.tensor([0, 1])).dtype == dt, e(T.tensor([1])).tolist()))
    assert res[0] == (True, True, [[4, 5, 6]])
    assert res[1] == res[0]


@pytest.mark.parametrize("padding_idx", [4, 5, -5, -6])
def test_embedding_bag_padding_idx_out_of_range_raises(padding_idx):
    # torch test_embedding.py::test_embedding_bag_padding_idx_error (functional part)
    errs = [error_of(lambda: F.embedding_bag(T.tensor([[1, 3]]), T.ones(4, 3), padding_idx=padding_idx))
            for T, nn, F in LIBS]
    assert isinstance(errs[0], RuntimeError) and isinstance(errs[1], RuntimeError)
    assert str(errs[1]) == str(errs[0])


@pytest.mark.parametrize("idx", [[[-1, 1]], [[11, 8]]])
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_out_of_range_index_is_runtime_error(idx, mode):
    # torch test_embedding.py::test_embedding_bag_out_of_bounds_idx
    errs = [error_of(lambda: F.embedding_bag(T.tensor(idx), T.ones(10, 2), mode=mode)) for T, nn, F in LIBS]
    assert type(errs[0]) is RuntimeError and isinstance(errs[1], RuntimeError)
    assert str(errs[1]) == str(errs[0])


def test_embedding_bag_out_of_range_index_message_of_the_slow_kernel():
    for weight_dtype, padding_idx in (("float64", None), ("float32", 2)):
        errs = [error_of(lambda: F.embedding_bag(T.tensor([3, 12, 11, -1]), T.ones(10, 2).to(getattr(T, weight_dtype)),
                                                 T.tensor([0, 2]), mode="sum", padding_idx=padding_idx))
                for T, nn, F in LIBS]
        assert isinstance(errs[1], RuntimeError) and str(errs[1]) == str(errs[0])


@pytest.mark.parametrize("weight_dtype,psw_dtype", [("float32", "float64"), ("float64", "float32"),
                                                    ("float32", "float16")])
def test_embedding_bag_per_sample_weights_dtype_mismatch_raises(weight_dtype, psw_dtype):
    # torch test_embedding.py::test_EmbeddingBag_per_sample_weights_failures (failure 1)
    errs = []
    for T, nn, F in LIBS:
        es = nn.EmbeddingBag(5, 2, mode="sum").to(getattr(T, weight_dtype))
        errs.append(error_of(lambda: es(T.tensor([3, 1, 1, 1, 4, 0]), T.tensor([0, 0, 3, 3, 6]),
                                        T.ones(6, dtype=getattr(T, psw_dtype)))))
    assert isinstance(errs[0], RuntimeError) and "have the same type as" in str(errs[0])
    assert isinstance(errs[1], RuntimeError) and str(errs[1]) == str(errs[0])


def test_embedding_bag_offsets_not_1d_message():
    # torch test_embedding.py::test_embedding_bag_dimension_errors
    errs = [error_of(lambda: F.embedding_bag(T.tensor([1, 1]), T.zeros(2, 2), T.zeros((2, 0, 0, 6, 6), dtype=T.int64)))
            for T, nn, F in LIBS]
    for err in errs:
        assert isinstance(err, ValueError) and str(err) == "offsets has to be a 1D Tensor"


def test_embedding_bag_empty_input_per_sample_weights_grad():
    # torch test_embedding.py::test_EmbeddingBag_empty_per_sample_weights_and_offsets
    res = []
    for T, nn, F in LIBS:
        es = nn.EmbeddingBag(5, 2, mode="sum")
        psw = T.ones(0, requires_grad=True)
        r = es(T.tensor([], dtype=T.long), T.tensor([0, 0, 0, 0, 0]), psw)
        r.backward(T.ones_like(r))
        res.append((tuple(r.shape), float(r.abs().sum().item()), None if psw.grad is None else tuple(psw.grad.shape),
                    float(es.weight.grad.abs().sum().item())))
    assert res[0] == ((5, 2), 0.0, (0,), 0.0)
    assert res[1] == res[0]


# ------------------------------------------------------------------ nn.init
@pytest.mark.parametrize("name", ["kaiming_uniform_", "kaiming_normal_"])
@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (0,)])
def test_init_zero_element_tensor_warns(name, shape):
    res = []
    for T, nn, F in LIBS:
        t = T.empty(*shape)
        messages = warnings_of(lambda: getattr(nn.init, name)(t))
        res.append((messages.count("Initializing zero-element tensors is a no-op"), tuple(t.shape)))
    assert res[0] == (1, shape)
    assert res[1] == res[0]


@pytest.mark.parametrize("name", ["uniform_", "normal_", "xavier_uniform_", "kaiming_normal_", "trunc_normal_"])
@pytest.mark.parametrize("dtype", ["long", "int32", "bool"])
def test_init_of_integer_tensor_raises(name, dtype):
    errs = [error_of(lambda: getattr(nn.init, name)(T.zeros(2, 2, dtype=getattr(T, dtype)))) for T, nn, F in LIBS]
    assert isinstance(errs[0], NotImplementedError)
    assert isinstance(errs[1], NotImplementedError) and str(errs[1]) == str(errs[0]), name


@pytest.mark.parametrize("method", ["uniform_", "normal_"])
def test_tensor_random_fill_of_integer_tensor_raises(method):
    errs = [error_of(lambda: getattr(T.zeros(3, dtype=T.int64), method)()) for T, nn, F in LIBS]
    assert isinstance(errs[1], NotImplementedError) and str(errs[1]) == str(errs[0])


def test_init_normal_checks_std_before_dtype():
    errs = [error_of(lambda: nn.init.normal_(T.zeros(2, dtype=T.long), 0.0, -1.0)) for T, nn, F in LIBS]
    assert type(errs[0]) is RuntimeError and isinstance(errs[1], RuntimeError) and str(errs[1]) == str(errs[0])


def test_trunc_normal_bounds():
    errs = [error_of(lambda: nn.init.trunc_normal_(T.empty(3), a=2, b=1)) for T, nn, F in LIBS]
    assert isinstance(errs[0], RuntimeError) and isinstance(errs[1], RuntimeError)
    assert str(errs[1]) == str(errs[0])
    for T, nn, F in LIBS:   # a == b: every value is a
        assert nn.init.trunc_normal_(T.empty(3), a=1.0, b=1.0).tolist() == [1.0, 1.0, 1.0]


def test_constant_value_must_be_a_number_or_0d_tensor():
    for T, nn, F in LIBS:
        assert isinstance(error_of(lambda: nn.init.constant_(T.empty(3), "x")), TypeError)
        assert isinstance(error_of(lambda: nn.init.constant_(T.empty(3), None)), TypeError)
        assert isinstance(error_of(lambda: nn.init.constant_(T.empty(3), T.tensor([2.0]))), RuntimeError)
        assert nn.init.constant_(T.empty(2), T.tensor(2.5)).tolist() == [2.5, 2.5]
        assert nn.init.constant_(T.empty(2), np.float32(1.5)).tolist() == [1.5, 1.5]


# ------------------------------------------------------------------ containers
@pytest.mark.parametrize("index", ["a", 1.5])
def test_sequential_index_of_wrong_type(index):
    errs = [error_of(lambda: nn.Sequential(nn.Linear(1, 1))[index]) for T, nn, F in LIBS]
    assert isinstance(errs[0], TypeError) and isinstance(errs[1], TypeError)
    assert str(errs[1]) == str(errs[0])
