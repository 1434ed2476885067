"""Cases ported from PyTorch's test/nn/test_lazy_modules.py, test/nn/test_parametrization.py and the
container tests of test/test_nn.py, each compared with torch 2.13 in the same process:
ParameterList / ParameterDict holding non-tensor values, ParameterDict's key order and dict methods,
Sequential's insert / * errors, UninitializedParameter / UninitializedBuffer handling (buffer
registration, share_memory, materialize, *_like, old weight_norm / spectral_norm) and the lazy
norm classes' bases."""
import warnings
from collections import OrderedDict

import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")


def _errtype(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return type(e)
    return None


# 1. ParameterList / ParameterDict hold non-Tensor values in torch (>= 1.12)
def test_parameterlist_accepts_non_tensor_values():
    t = torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(2)), "foo", 3, None])
    s = ts.nn.ParameterList([ts.nn.Parameter(ts.zeros(2)), "foo", 3, None])
    assert len(s) == len(t) == 4
    assert s[1] == "foo" and s[2] == 3 and s[3] is None
    assert [n for n, _ in s.named_parameters()] == [n for n, _ in t.named_parameters()] == ["0"]
    assert repr(s) == repr(t).replace("torch.", "ts.") or "Object of type: str" in repr(s)


def test_parameterdict_accepts_non_tensor_values_and_setdefault_none():
    s = ts.nn.ParameterDict({"a": ts.nn.Parameter(ts.zeros(2))})
    s.update({"foo": "bar"})
    assert s["foo"] == "bar"
    assert s.setdefault("p26") is None          # torch: inserts None and returns it
    assert [n for n, _ in s.named_parameters()] == ["a"]


# 2. ParameterDict(dict) / .update(dict) iterate a plain dict in sorted key order in torch
def test_parameterdict_plain_dict_sorted_like_torch():
    t = torch.nn.ParameterDict({"w": torch.nn.Parameter(torch.ones(1)), "b": torch.nn.Parameter(torch.ones(1))})
    s = ts.nn.ParameterDict({"w": ts.nn.Parameter(ts.ones(1)), "b": ts.nn.Parameter(ts.ones(1))})
    assert list(s.keys()) == list(t.keys()) == ["b", "w"]
    t.update({"z": torch.nn.Parameter(torch.ones(1)), "c": torch.nn.Parameter(torch.ones(1))})
    s.update({"z": ts.nn.Parameter(ts.ones(1)), "c": ts.nn.Parameter(ts.ones(1))})
    assert list(s.keys()) == list(t.keys()) == ["b", "w", "c", "z"]
    assert list(s.state_dict().keys()) == list(t.state_dict().keys())


# 3. ParameterDict dict methods torch has
@pytest.mark.parametrize("name", ["copy", "popitem", "fromkeys", "__or__", "__ror__", "__ior__", "__reversed__"])
def test_parameterdict_has_dict_methods(name):
    assert hasattr(torch.nn.ParameterDict(), name)
    assert hasattr(ts.nn.ParameterDict(), name)


def test_parameterdict_reversed_copy_popitem_or():
    P = lambda: ts.nn.Parameter(ts.ones(1))
    d = ts.nn.ParameterDict(OrderedDict([("a", P()), ("b", P())]))
    assert list(reversed(d)) == ["b", "a"]
    c = d.copy()
    assert c["a"] is d["a"] and type(c).__name__ == "ParameterDict"
    e = d | ts.nn.ParameterDict(OrderedDict([("c", P())]))
    assert list(e.keys()) == ["a", "b", "c"]
    d |= ts.nn.ParameterDict(OrderedDict([("z", P())]))
    k, v = d.popitem()
    assert k == "z" and list(d.keys()) == ["a", "b"]


# 4. ParameterList += Parameter / .extend(Parameter) is a TypeError in torch (ours adds each row)
def test_parameterlist_iadd_extend_single_parameter_is_typeerror():
    assert _errtype(lambda: torch.nn.ParameterList().__iadd__(torch.nn.Parameter(torch.ones(4, 3)))) is TypeError
    pl = ts.nn.ParameterList([ts.nn.Parameter(ts.ones(2, 3))])
    with pytest.raises(TypeError):
        pl += ts.nn.Parameter(ts.ones(4, 3))
    with pytest.raises(TypeError):
        pl.extend(ts.nn.Parameter(ts.ones(4, 3)))
    assert len(pl) == 1


# 5. ParameterList indexed by a 0-d integer tensor
def test_parameterlist_tensor_index():
    pl = ts.nn.ParameterList([ts.nn.Parameter(ts.ones(1)) for _ in range(3)])
    assert pl[ts.tensor(1)] is pl[1]
    new = ts.nn.Parameter(ts.zeros(2))
    pl[ts.tensor(2, dtype=ts.int32)] = new
    assert pl[2] is new and list(pl._parameters.keys()) == ["0", "1", "2"]


# 6. Sequential.insert of a non-Module is an AssertionError in torch (ours inserts it)
def test_sequential_insert_non_module_raises():
    assert _errtype(lambda: torch.nn.Sequential(torch.nn.ReLU()).insert(1, [torch.nn.ReLU()])) is AssertionError
    s = ts.nn.Sequential(ts.nn.ReLU())
    with pytest.raises(AssertionError):
        s.insert(1, [ts.nn.Linear(6, 7)])
    assert len(s) == 1


# 7. Sequential * non-int is a TypeError in torch (ours: ValueError "Non-positive multiplication factor 1.5")
def test_sequential_mul_float_typeerror():
    assert _errtype(lambda: torch.nn.Sequential(torch.nn.ReLU()) * 1.5) is TypeError
    assert _errtype(lambda: ts.nn.Sequential(ts.nn.ReLU()) * 1.5) is TypeError


# 8. Assigning an UninitializedBuffer attribute registers a buffer (torch)
def test_lazy_uninitialized_buffer_attribute_is_registered():
    class LM(ts.nn.modules.lazy.LazyModuleMixin, ts.nn.Module):
        pass
    m = LM()
    m.test_buffer = ts.nn.parameter.UninitializedBuffer()
    assert "test_buffer" in m._buffers
    assert m.has_uninitialized_params()
    assert isinstance(m.state_dict()["test_buffer"], ts.nn.parameter.UninitializedBuffer)


# 9. share_memory on an uninitialized parameter raises RuntimeError in torch
def test_lazy_share_memory_uninitialized_raises():
    class LM(ts.nn.modules.lazy.LazyModuleMixin, ts.nn.Module):
        pass
    m = LM()
    m.register_parameter("test_param", ts.nn.parameter.UninitializedParameter())
    with pytest.raises(RuntimeError, match="share memory on an uninitialized"):
        m.share_memory()


# 10. UninitializedParameter.materialize(int)
def test_materialize_int_shape():
    p = ts.nn.parameter.UninitializedParameter()
    p.materialize(10)
    assert tuple(p.shape) == (10,)


# 11. Error types for uninitialized parameters (torch: ValueError)
def test_old_spectral_norm_weight_norm_on_lazy_valueerror():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="have uninitialized parameters"):
            ts.nn.utils.spectral_norm(ts.nn.LazyLinear(7))
        with pytest.raises(ValueError, match="have uninitialized parameters"):
            ts.nn.utils.weight_norm(ts.nn.LazyLinear(7))


def test_empty_like_uninitialized_valueerror():
    with pytest.raises(ValueError, match="uninitialized parameter"):
        ts.empty_like(ts.nn.parameter.UninitializedParameter())


# 12. Lazy norm modules are not instances of the concrete class before materialization
def test_lazy_batchnorm_not_instance_of_batchnorm1d():
    assert isinstance(torch.nn.LazyBatchNorm1d(), torch.nn.BatchNorm1d) is False
    assert isinstance(ts.nn.LazyBatchNorm1d(), ts.nn.BatchNorm1d) is False
    assert isinstance(ts.nn.LazyInstanceNorm1d(), ts.nn.InstanceNorm1d) is False


# ---------------------------------------------------------------- beyond the audit's cases
def test_parameterlist_non_tensor_repr_and_slice_as_torch():
    def build(lib):
        return lib.nn.ParameterList([lib.nn.Parameter(lib.zeros(2, 3)), "foo", 3, None, lib.zeros(1)])
    t, s = build(torch), build(ts)
    assert repr(s) == repr(t)
    assert repr(s[1:4]) == repr(t[1:4]) and repr(s[::2]) == repr(t[::2])
    assert isinstance(s[4], ts.nn.Parameter)          # a plain tensor is wrapped, as torch's
    assert [n for n, _ in s.named_parameters()] == [n for n, _ in t.named_parameters()] == ["0", "4"]
    s[1] = ts.ones(2)                                 # a non-tensor slot may take a tensor
    assert [n for n, _ in s.named_parameters()] == ["0", "4", "1"]


def test_parameterlist_index_errors_as_torch():
    for lib in (torch, ts):
        pl = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(1))])
        with pytest.raises(IndexError, match="out of range"):
            pl[1]
        with pytest.raises(TypeError):
            pl["0"]
        with pytest.raises(TypeError):
            pl[lib.tensor(0.0)]
        with pytest.raises(RuntimeError, match="ParameterList should not be called"):
            pl(lib.ones(1))


def test_parameterdict_non_tensor_repr_and_dict_methods_as_torch():
    def run(lib):
        P = lambda v: lib.nn.Parameter(lib.full((2,), float(v)))
        d = lib.nn.ParameterDict({"w": P(1), "b": P(2), "s": "text"})
        out = [repr(d), list(d.keys())]
        out.append(list(d.fromkeys(["x", "y"]).keys()))
        e = {"plain": 1} | d                          # dict | ParameterDict: __ror__, a dict back
        out.append((type(e).__name__, list(e.keys())))
        k, v = d.popitem()
        out.append((k, v if isinstance(v, str) else v.tolist()))
        d |= [("z", P(3)), ("a", None)]               # pairs keep their order
        out.append(list(d.keys()))
        out.append([n for n, _ in d.named_parameters()])
        out.append(d.get("missing", "dflt"))
        return out
    assert run(ts) == run(torch)


def test_parameterdict_update_errors_as_torch():
    for lib in (torch, ts):
        d = lib.nn.ParameterDict()
        with pytest.raises(TypeError, match="iterable of key/value pairs"):
            d.update(3)
        with pytest.raises(TypeError, match="should be Iterable"):
            d.update([3])
        with pytest.raises(ValueError, match="has length 3; 2 is required"):
            d.update([("a", None), ("b", 1, 2)])
        assert list(d.keys()) == ["a"]                # pairs before the bad one are set
        with pytest.raises(TypeError, match="not a string"):
            d[1] = lib.nn.Parameter(lib.ones(1))
        with pytest.raises(RuntimeError, match="ParameterDict should not be called"):
            d(lib.ones(1))


def test_sequential_mul_imul_as_torch():
    for lib in (torch, ts):
        a, b = lib.nn.ReLU(), lib.nn.Tanh()
        s = lib.nn.Sequential(a, b)
        t = 2 * s
        assert [m for m in t] == [a, b, a, b] and len(s) == 2
        same = s
        s *= 3
        assert s is same and list(s._modules) == [str(i) for i in range(6)] and s[4] is a
        with pytest.raises(ValueError, match="Non-positive multiplication factor 0"):
            s * 0
        with pytest.raises(TypeError, match="unsupported operand"):
            s *= 2.0


def test_like_functions_on_uninitialized_valueerror_as_torch():
    for lib in (torch, ts):
        p = lib.nn.parameter.UninitializedParameter()
        for fn in (lib.zeros_like, lib.ones_like, lib.rand_like):
            with pytest.raises(ValueError, match="uninitialized parameter"):
                fn(p)


def test_uninitialized_buffer_non_persistent_attribute_as_torch():
    class Lazy(ts.nn.modules.lazy.LazyModuleMixin, ts.nn.Module):
        pass
    m = Lazy()
    m.b = ts.nn.parameter.UninitializedBuffer(persistent=False)
    assert "b" in m._buffers and "b" not in m.state_dict()
    m.b.materialize(3)
    assert type(m.b) is ts.Tensor and tuple(m.b.shape) == (3,)
    m.share_memory()                                   # materialized: nothing to refuse


@pytest.mark.parametrize("name,shape", [("BatchNorm1d", (4, 3)), ("BatchNorm1d", (4, 3, 5)),
                                        ("BatchNorm2d", (2, 3, 4, 4)), ("InstanceNorm1d", (2, 3, 5)),
                                        ("InstanceNorm2d", (2, 3, 4, 4))])
def test_lazy_norm_bases_and_materialization_as_torch(name, shape):
    base = "_BatchNorm" if "Batch" in name else "_InstanceNorm"
    theirs, ours = getattr(torch.nn, "Lazy" + name)(), getattr(ts.nn, "Lazy" + name)()
    assert isinstance(ours, getattr(ts.nn, name)) is isinstance(theirs, getattr(torch.nn, name)) is False
    ours_base = ts.nn.modules.batchnorm._BatchNorm if "Batch" in name else ts.nn.layers_2d._InstanceNorm
    assert isinstance(theirs, getattr(torch.nn.modules.batchnorm if "Batch" in name
                                      else torch.nn.modules.instancenorm, base))
    assert isinstance(ours, ours_base)
    x = np.random.RandomState(0).randn(*shape).astype(np.float32)
    out_t, out_s = theirs(torch.tensor(x)), ours(ts.tensor(x))
    assert type(ours) is getattr(ts.nn, name) and type(theirs) is getattr(torch.nn, name)
    np.testing.assert_allclose(out_s.detach().numpy(), out_t.detach().numpy(), rtol=1e-5, atol=1e-5)
    assert repr(ours) == repr(theirs)


def test_lazy_batchnorm_checks_rank_before_materializing_as_torch():
    for lib in (torch, ts):
        m = lib.nn.LazyBatchNorm2d()
        with pytest.raises((ValueError, RuntimeError)):
            m(lib.ones(2, 3))
