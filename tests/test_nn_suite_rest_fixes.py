"""Differences found by porting the rest of PyTorch's test/test_nn.py (TestNN, CPU), each run on
torch 2.13 and on tinygrad_seq: Module._apply under no_grad, call_super_init, nn.Buffer with a
two-argument register_buffer, Module.to(copy=), get_extra_state / set_extra_state, the RNN
hidden-size message, TransformerDecoderLayer's __setstate__, BCELoss's size-mismatch text,
interpolate's huge scale factor, EmbeddingBag's offsets checks."""
import copy
import os

import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")

LIBS = pytest.mark.parametrize("lib", [torch, ts], ids=["torch", "ts"])


def _err(f):
    try:
        f()
    except Exception as e:  # noqa: BLE001
        return e
    return None


def _same_error(f_torch, f_ts):
    """Both raise, the same message; returns (torch's, ours)."""
    te, se = _err(f_torch), _err(f_ts)
    assert te is not None and se is not None, (te, se)
    assert str(se) == str(te).split("\n[")[0]   # (torch's TORCH_CHECK may append "\n[ torch.LongTensor{} ]")
    return te, se


# 1. test_module_apply_inplace_op
@LIBS
def test_module_apply_inplace_fn_runs_under_no_grad(lib):
    m = lib.nn.Linear(4, 3)
    pvm = m.weight.mul(m.weight)
    v = m.weight._version
    m._apply(lambda t: t.add_(1.0))
    assert m.weight._version > v
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        pvm.backward(lib.ones(3, 4))


def test_module_apply_inplace_changes_values_and_grads():
    ms = [lib.nn.Linear(2, 2) for lib in (torch, ts)]
    ms[1].load_state_dict({k: v.numpy() for k, v in ms[0].state_dict().items()})
    for lib, m in zip((torch, ts), ms):
        m(lib.ones(1, 2)).sum().backward()
        m._apply(lambda t: t.mul_(2.0))
    for name in ("weight", "bias"):
        np.testing.assert_allclose(getattr(ms[1], name).detach().numpy(), getattr(ms[0], name).detach().numpy())
        np.testing.assert_allclose(getattr(ms[1], name).grad.numpy(), getattr(ms[0], name).grad.numpy())


# 2. test_module_super_init
def _super_init_flags(lib):
    class MyMixin:
        def __init__(self, *a, **kw):
            super().__init__(*a, **kw)
            self.mixin_init = True

    class Before(MyMixin, lib.nn.Module):
        pass

    class After(lib.nn.Module, MyMixin):
        pass
    out = [hasattr(Before(), "mixin_init"), hasattr(After(), "mixin_init")]
    lib.nn.Module.call_super_init = True
    try:
        out += [hasattr(Before(), "mixin_init"), hasattr(After(), "mixin_init")]
    finally:
        lib.nn.Module.call_super_init = False
    return out


def test_call_super_init_calls_next_init_in_mro():
    assert _super_init_flags(ts) == _super_init_flags(torch) == [True, False, True, True]


def test_module_init_arguments_refused_as_torch():
    class K:
        pass
    for make in (lambda lib: lib.nn.Module(3), lambda lib: lib.nn.Module(a=3)):
        te, se = _same_error(lambda: make(torch), lambda: make(ts))
        assert type(se) is type(te) is TypeError

    def sub(lib):
        class Sub(lib.nn.Module):
            def __init__(self):
                super().__init__(1, b=2)
        return Sub()
    _same_error(lambda: sub(torch), lambda: sub(ts))


# 3. test_buffer_bad_module_subclass
@LIBS
def test_buffer_assignment_with_two_arg_register_buffer_override(lib):
    class MyBad(lib.nn.Linear):
        def __init__(self, persistent=True):
            super().__init__(2, 2)
            self.bar = lib.nn.Buffer(lib.rand(2, 2), persistent=persistent)

        def register_buffer(self, name, value):   # persistent missing on purpose
            super().register_buffer(name, value, True)
    m = MyBad()
    assert m.bar is not None and "bar" in m.state_dict()
    with pytest.raises(RuntimeError, match="register_buffer\\(\\) without the persistent argument"):
        MyBad(persistent=False)


# 4. test_to
def test_module_to_copy_argument_is_runtime_error():
    for call in (lambda m, lib: m.to("cpu", copy=True), lambda m, lib: m.to("cpu", copy=False),
                 lambda m, lib: m.to("cpu", lib.float32, False, True)):
        te, se = _same_error(lambda: call(torch.nn.Linear(3, 5), torch), lambda: call(ts.nn.Linear(3, 5), ts))
        assert isinstance(se, RuntimeError) and isinstance(te, RuntimeError)
    m = ts.nn.Linear(3, 5)
    assert m.to("cpu") is m and m.to(tensor=ts.zeros(1, dtype=ts.float64)).weight.dtype == np.float64


# 5. test_extra_state*
def _extra_state_net(lib, foo):
    class Sub(lib.nn.Module):
        def __init__(self, foo):
            super().__init__()
            self.foo = foo
            self.lin = lib.nn.Linear(2, 2)

        def get_extra_state(self):
            return {"foo": self.foo, "items": [1, 2]}

        def set_extra_state(self, state):
            self.foo = state["foo"]
    return lib.nn.Sequential(Sub(foo), lib.nn.Linear(2, 2))


@LIBS
def test_extra_state_saved_and_loaded(lib):
    a, b = _extra_state_net(lib, 3), _extra_state_net(lib, 5)
    sd = a.state_dict()
    assert list(sd.keys()) == ["0._extra_state", "0.lin.weight", "0.lin.bias", "1.weight", "1.bias"]
    assert sd["0._extra_state"] == {"foo": 3, "items": [1, 2]}
    assert str(b.load_state_dict(sd)) == "<All keys matched successfully>" and b[0].foo == 3


def test_extra_state_missing_key_as_torch():
    def load(lib, strict):
        sd = dict(_extra_state_net(lib, 3).state_dict())
        del sd["0._extra_state"]
        return _extra_state_net(lib, 5).load_state_dict(sd, strict=strict)
    _same_error(lambda: load(torch, True), lambda: load(ts, True))
    assert tuple(load(ts, False)) == tuple(load(torch, False)) == (["0._extra_state"], [])


@LIBS
def test_extra_state_missing_setter_or_getter_errors(lib):
    class G(lib.nn.Module):
        def get_extra_state(self):
            return {"foo": 5}

    class S(lib.nn.Module):
        def set_extra_state(self, state):
            pass
    with pytest.raises(RuntimeError, match='Unexpected key\\(s\\) in state_dict: "_extra_state"'):
        G().load_state_dict(G().state_dict())
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "_extra_state"'):
        S().load_state_dict(S().state_dict())
    assert list(S().state_dict()) == [] and list(G().state_dict()) == ["_extra_state"]


def test_extra_state_survives_save_load(tmp_path):
    path = os.path.join(tmp_path, "sd.pt")
    ts.save(_extra_state_net(ts, 3).state_dict(), path)
    back = ts.load(path)
    assert back["0._extra_state"] == {"foo": 3, "items": [1, 2]}
    b = _extra_state_net(ts, 5)
    b.load_state_dict(back)
    assert b[0].foo == 3


# 6. test_cudnn_forward_exception (on CPU): torch's "Expected hidden.*size.*got"
def _rnn_cases(lib):
    return [(lambda: lib.nn.LSTM(10, 20, batch_first=True)(lib.randn(2, 3, 10), (lib.zeros(1, 2, 19),
                                                                                   lib.zeros(1, 2, 19)))),
            (lambda: lib.nn.LSTM(10, 20, batch_first=True)(lib.randn(2, 3, 10), (lib.zeros(1, 2, 20),
                                                                                   lib.zeros(1, 2, 19)))),
            (lambda: lib.nn.LSTM(10, 20, proj_size=5)(lib.randn(3, 10), (lib.zeros(1, 20), lib.zeros(1, 20)))),
            (lambda: lib.nn.GRU(10, 20, 2, bidirectional=True)(lib.randn(3, 2, 10), lib.zeros(4, 2, 19))),
            (lambda: lib.nn.RNN(10, 20, batch_first=True)(lib.randn(2, 3, 10), lib.zeros(1, 2, 19))),
            (lambda: lib.nn.RNN(10, 20)(lib.randn(3, 10), lib.zeros(1, 19)))]


@pytest.mark.parametrize("case", range(6))
def test_rnn_wrong_hidden_size_message(case):
    te, se = _same_error(_rnn_cases(torch)[case], _rnn_cases(ts)[case])
    assert isinstance(se, RuntimeError)
    assert "Expected hidden" in str(se) and " size " in str(se) and ", got [" in str(se)


# 7. test_transformerdecoder with nn.GELU(): torch's __setstate__ turns a module activation into relu
def test_transformer_decoder_layer_deepcopy_module_activation_matches_torch():
    t_act = copy.deepcopy(torch.nn.TransformerDecoderLayer(4, 2, 16, 0.0, torch.nn.GELU())).activation
    s_act = copy.deepcopy(ts.nn.TransformerDecoderLayer(4, 2, 16, 0.0, ts.nn.GELU())).activation
    assert t_act is torch.nn.functional.relu and s_act is ts.nn.functional.relu
    assert isinstance(copy.deepcopy(ts.nn.TransformerEncoderLayer(4, 2, 16, 0.0, ts.nn.GELU())).activation,
                      ts.nn.GELU)
    s_gelu = copy.deepcopy(ts.nn.TransformerDecoderLayer(4, 2, 16, 0.0, "gelu")).activation
    assert s_gelu is ts.nn.functional.gelu


@pytest.mark.parametrize("decoder", [True, False], ids=["decoder", "encoder"])
def test_transformer_stack_with_module_activation_matches_torch(decoder):
    torch.manual_seed(0)
    if decoder:
        tm = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(4, 2, 16, 0.0, torch.nn.GELU()), 2)
        sm = ts.nn.TransformerDecoder(ts.nn.TransformerDecoderLayer(4, 2, 16, 0.0, ts.nn.GELU()), 2)
    else:
        tm = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(4, 2, 16, 0.0, torch.nn.GELU()), 2,
                                         enable_nested_tensor=False)
        sm = ts.nn.TransformerEncoder(ts.nn.TransformerEncoderLayer(4, 2, 16, 0.0, ts.nn.GELU()), 2,
                                      enable_nested_tensor=False)
    assert repr(sm) == repr(tm)
    sm.load_state_dict({k: v.numpy() for k, v in tm.state_dict().items()})
    x, mem = torch.randn(3, 2, 4), torch.randn(5, 2, 4)
    want = (tm(x, mem) if decoder else tm(x)).detach().numpy()
    sx, smem = ts.tensor(x.numpy()), ts.tensor(mem.numpy())
    got = (sm(sx, smem) if decoder else sm(sx)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


# 8. test_bce_loss_size_mismatch
@pytest.mark.parametrize("name", ["BCELoss", "BCEWithLogitsLoss"])
def test_bce_size_mismatch_message(name):
    te, se = _same_error(lambda: getattr(torch.nn, name)()(torch.rand(25), torch.rand(25, 1)),
                         lambda: getattr(ts.nn, name)()(ts.rand(25), ts.rand(25, 1)))
    assert type(se) is type(te) is ValueError


def test_bce_size_mismatch_message_text():
    with pytest.raises(ValueError, match=r"Using a target size \(torch\.Size\(\[25, 1\]\)\) that is different to "
                                         r"the input size \(torch\.Size\(\[25\]\)\) is deprecated"):
        ts.nn.BCELoss()(ts.rand(25), ts.rand(25, 1))


# 9. test_interpolate_undefined_behavior_casting
@pytest.mark.parametrize("mode,shape,scale", [("linear", (1, 1, 16), 1e20), ("linear", (1, 1, 16), float("inf")),
                                              ("linear", (1, 1, 16), float("nan")),
                                              ("nearest", (1, 1, 16), 1e19 / 16), ("nearest", (1, 1, 16), -1e20),
                                              ("bilinear", (1, 1, 4, 4), (1.0, 1e20)),
                                              ("nearest", (1, 1, 2, 2, 2), 1e20), ("area", (1, 1, 16), 1e20),
                                              ("area", (1, 1, 4, 4), 1e20), ("area", (1, 1, 16), float("inf")),
                                              ("area", (1, 1, 16), float("nan"))])
def test_interpolate_huge_scale_factor_errors_as_torch(mode, shape, scale):
    te, se = _err(lambda: torch.nn.functional.interpolate(torch.ones(*shape), scale_factor=scale, mode=mode)), \
        _err(lambda: ts.nn.functional.interpolate(ts.ones(*shape), scale_factor=scale, mode=mode))
    assert type(se) is type(te), (te, se)
    assert str(se).rstrip('"') == str(te).split("\n")[0]   # (torch's TypeError goes on with a C++ traceback)


# 10. EmbeddingBag: offsets checks
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("indices,offsets,last", [([1, 2], [1], False), ([1, 2], [-1], False),
                                                  ([1, 2], [3], False), ([1, 2], [0, 3], False),
                                                  ([1, 2], [1, 2], True), ([], [1], False),
                                                  ([1, 2], [], True)])
def test_embedding_bag_offsets_errors_as_torch(mode, indices, offsets, last):
    def run(lib):
        eb = lib.nn.EmbeddingBag(10, 3, mode=mode, include_last_offset=last)
        return eb(lib.tensor(indices, dtype=lib.int64), lib.tensor(offsets, dtype=lib.int64))
    te, se = _same_error(lambda: run(torch), lambda: run(ts))
    assert isinstance(se, RuntimeError) and isinstance(te, RuntimeError)


def test_embedding_bag_offsets_zero_start_still_works():
    tw = torch.randn(10, 3)
    sw = ts.tensor(tw.numpy())
    for offsets, last in (([0, 1], False), ([0, 2], False), ([0, 1, 2], True), ([], False)):
        args = dict(include_last_offset=last)
        want = torch.nn.functional.embedding_bag(torch.tensor([1, 2]), tw, torch.tensor(offsets, dtype=torch.int64),
                                                 **args)
        got = ts.nn.functional.embedding_bag(ts.tensor([1, 2]), sw, ts.tensor(offsets, dtype=ts.int64), **args)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
