"""nn.Module API, containers and layers against torch 2.13 (the module audit's findings, each a
difference that tinygrad_seq had): every test runs the same code on torch and on tinygrad_seq and
compares the results, or the exception types."""
import copy

import numpy as np
import pytest
import torch
import tinygrad_seq as ts


def outcome(f, lib):
    """The result of f(lib), or the exception type's name."""
    try:
        return f(lib)
    except Exception as e:  # noqa: BLE001
        return "EXC " + type(e).__name__


def same(f):
    a, b = outcome(f, torch), outcome(f, ts)
    assert a == b, f"torch: {a!r}\nts:    {b!r}"


def raises_like_torch(f):
    try:
        f(torch)
    except Exception as e:  # noqa: BLE001
        exc = type(e)
    else:
        raise AssertionError("torch did not raise")
    with pytest.raises(exc):
        f(ts)


# 1 ------------------------------------------------------------------ reset_parameters
@pytest.mark.parametrize("name,args", [("Linear", (3, 4)), ("Embedding", (5, 3)), ("LayerNorm", (3,)),
                                       ("LSTM", (3, 4)), ("GRU", (3, 4)), ("RNN", (3, 4)),
                                       ("LSTMCell", (3, 4)), ("Conv1d", (2, 3, 3))])
def test_reset_parameters_exists(name, args):
    def f(t):
        m = getattr(t.nn, name)(*args)
        with t.no_grad():
            for p in m.parameters():
                p.fill_(7.0)
        m.reset_parameters()
        return all(bool((p != 7.0).any()) for p in m.parameters())
    same(f)


@pytest.mark.parametrize("make", [lambda t: t.nn.BatchNorm1d(3), lambda t: t.nn.Bilinear(2, 3, 4),
                                  lambda t: t.nn.GRUCell(3, 4), lambda t: t.nn.RNNCell(3, 4),
                                  lambda t: t.nn.LSTM(3, 5, proj_size=2, num_layers=2, bidirectional=True),
                                  lambda t: t.nn.EmbeddingBag(5, 3), lambda t: t.nn.GroupNorm(2, 4),
                                  lambda t: t.nn.RMSNorm(3), lambda t: t.nn.PReLU()])
def test_reset_parameters_of_more_layers(make):
    def f(t):
        m = make(t)
        params = list(m.parameters())
        with t.no_grad():
            for p in params:
                p.fill_(7.0)
        m.reset_parameters()
        # the same Parameter objects (an optimizer's references stay valid), new values
        return all(a is b for a, b in zip(params, m.parameters())), [bool((p != 7.0).any()) for p in params]
    same(f)


def test_reset_parameters_keeps_seeded_draws():
    # __init__ draws through reset_parameters: a second seeded reset gives the first init again
    for make in (lambda: ts.nn.Linear(3, 4), lambda: ts.nn.LSTM(3, 4, proj_size=2, bidirectional=True),
                 lambda: ts.nn.GRUCell(2, 3), lambda: ts.nn.Embedding(5, 2, padding_idx=1)):
        ts.manual_seed(5)
        m = make()
        first = [p.numpy().copy() for p in m.parameters()]
        ts.manual_seed(5)
        m.reset_parameters()
        assert all(np.array_equal(a, p.numpy()) for a, p in zip(first, m.parameters()))


def test_batchnorm_reset_running_stats_and_version():
    def f(t):
        m = t.nn.BatchNorm1d(2)
        m(t.tensor([[1.0, 2.0], [3.0, 5.0]]))
        m.reset_running_stats()
        return m.running_mean.tolist(), m.running_var.tolist(), int(m.num_batches_tracked), \
            dict(t.nn.Sequential(m).state_dict()._metadata)
    same(f)


def test_multihead_and_transformer_private_resets():
    def f(t):
        return (hasattr(t.nn.MultiheadAttention(4, 2), "_reset_parameters"),
                hasattr(t.nn.Transformer, "_reset_parameters"))
    same(f)


# 2 ------------------------------------------------------------------ repr of ModuleList
def test_modulelist_repr_groups_repeats():
    same(lambda t: repr(t.nn.ModuleList([t.nn.Linear(2, 3) for _ in range(3)])))


def test_modulelist_repr_runs_and_nesting():
    same(lambda t: repr(t.nn.ModuleList([t.nn.Linear(2, 3)] * 2 + [t.nn.ReLU(), t.nn.ReLU(), t.nn.Linear(2, 3),
                                         t.nn.Sequential(t.nn.Tanh())])))
    same(lambda t: repr(t.nn.ModuleList()))


# 3 ------------------------------------------------------------------ inplace in activation reprs
@pytest.mark.parametrize("make", [lambda t: t.nn.ReLU(inplace=True), lambda t: t.nn.LeakyReLU(0.2, inplace=True),
                                  lambda t: t.nn.ELU(inplace=True), lambda t: t.nn.SiLU(inplace=True),
                                  lambda t: t.nn.Hardtanh(inplace=True), lambda t: t.nn.ReLU6(inplace=True)])
def test_activation_repr_shows_inplace(make):
    same(lambda t: repr(make(t)))


@pytest.mark.parametrize("name", ["CELU", "SELU", "Mish", "Hardsigmoid", "Hardswish", "Softsign", "GLU"])
@pytest.mark.parametrize("kwargs", [{}, {"inplace": True}])
def test_more_activation_reprs(name, kwargs):
    same(lambda t: repr(getattr(t.nn, name)(**kwargs)))


def test_threshold_repr_inplace():
    same(lambda t: repr(t.nn.Threshold(0.1, 2.0, inplace=True)))


# 4 ------------------------------------------------------------------ plain attribute before super().__init__()
def test_plain_attribute_before_super_init():
    def f(t):
        class M(t.nn.Module):
            def __init__(self):
                self.n = 3                      # torch allows non-module attributes here
                super().__init__()
                self.lin = t.nn.Linear(self.n, 1)
        return M().n
    same(f)


# 5 ------------------------------------------------------------------ missing forward
def test_missing_forward_is_notimplementederror():
    def f(t):
        class M(t.nn.Module):
            pass
        M()(t.ones(1))
    raises_like_torch(f)


def test_missing_forward_hasattr():
    def f(t):
        class M(t.nn.Module):
            pass
        return hasattr(M(), "forward")
    same(f)


# 6 ------------------------------------------------------------------ register_parameter of a plain tensor
def test_module_or_parameter_before_super_init_raises():
    def module_first(t):
        class M(t.nn.Module):
            def __init__(self):
                self.l = t.nn.ReLU()
        M()

    def parameter_first(t):
        class M(t.nn.Module):
            def __init__(self):
                self.p = t.nn.Parameter(t.ones(1))
        M()
    raises_like_torch(module_first)
    raises_like_torch(parameter_first)


def test_modulelist_and_moduledict_have_no_forward():
    raises_like_torch(lambda t: t.nn.ModuleList()(1))
    raises_like_torch(lambda t: t.nn.ModuleDict()(1))


def test_register_parameter_plain_tensor_raises():
    # torch: TypeError; ts: silently stores a plain attribute, which parameters() never lists
    raises_like_torch(lambda t: t.nn.Linear(2, 2).register_parameter("extra", t.ones(1)))


# 7 ------------------------------------------------------------------ __setattr__ / register_* validation
@pytest.mark.parametrize("case", ["int_over_param", "module_over_param", "int_over_module", "int_over_buffer",
                                  "buffer_int", "buffer_over_param", "add_module_int", "param_dot_name",
                                  "sequential_int", "modulelist_int"])
def test_assignment_validation(case):
    def f(t):
        m = t.nn.Linear(2, 2)
        if case == "int_over_param":
            m.bias = 3
        elif case == "module_over_param":
            m.bias = t.nn.ReLU()
        elif case == "int_over_module":
            s = t.nn.Sequential(t.nn.ReLU())
            s.x = t.nn.ReLU()
            s.x = 3
        elif case == "int_over_buffer":
            m.register_buffer("b", t.ones(1))
            m.b = 3
        elif case == "buffer_int":
            m.register_buffer("b", 3)
        elif case == "buffer_over_param":
            m.register_buffer("weight", t.ones(1))
        elif case == "add_module_int":
            m.add_module("x", 3)
        elif case == "param_dot_name":
            m.register_parameter("a.b", t.nn.Parameter(t.ones(1)))
        elif case == "sequential_int":
            t.nn.Sequential(1)
        elif case == "modulelist_int":
            t.nn.ModuleList([1])
    raises_like_torch(f)


@pytest.mark.parametrize("case", ["buffer_dot", "buffer_empty", "buffer_over_plain_attribute", "add_module_nonstr",
                                  "add_module_over_parameter", "moduledict_int_key", "tensor_over_param",
                                  "sequential_setitem_int", "modulelist_setitem_int", "sequential_append_int",
                                  "set_submodule_strict", "set_submodule_not_module", "get_buffer_of_parameter"])
def test_more_registration_errors(case):
    def f(t):
        m = t.nn.Linear(1, 1)
        if case == "buffer_dot":
            m.register_buffer("a.b", t.ones(1))
        elif case == "buffer_empty":
            m.register_buffer("", t.ones(1))
        elif case == "buffer_over_plain_attribute":
            m.foo = 1
            m.register_buffer("foo", t.ones(1))
        elif case == "add_module_nonstr":
            m.add_module(1, t.nn.ReLU())
        elif case == "add_module_over_parameter":
            m.add_module("weight", t.nn.ReLU())
        elif case == "moduledict_int_key":
            t.nn.ModuleDict({1: t.nn.ReLU()})
        elif case == "tensor_over_param":
            m.weight = t.ones(1, 1)
        elif case == "sequential_setitem_int":
            t.nn.Sequential(t.nn.ReLU())[0] = 3
        elif case == "modulelist_setitem_int":
            t.nn.ModuleList([t.nn.ReLU()])[0] = 3
        elif case == "sequential_append_int":
            t.nn.Sequential().append(3)
        elif case == "set_submodule_strict":
            t.nn.Sequential(t.nn.ReLU()).set_submodule("x", t.nn.ReLU(), strict=True)
        elif case == "set_submodule_not_module":
            t.nn.Sequential(t.nn.ReLU()).set_submodule("0", 3)
        elif case == "get_buffer_of_parameter":
            m.get_buffer("weight")
    raises_like_torch(f)


def test_delattr_buffer_forgets_non_persistent():
    def f(t):
        m = t.nn.Linear(1, 1)
        m.register_buffer("b", t.ones(1), persistent=False)
        del m.b
        return sorted(m._non_persistent_buffers_set), "b" in dict(m.named_buffers())
    same(f)


# 8 ------------------------------------------------------------------ Module.__repr__ layout
def test_repr_extra_repr_with_children():
    def f(t):
        class M(t.nn.Module):
            def __init__(self):
                super().__init__()
                self.l = t.nn.Linear(2, 2)

            def extra_repr(self):
                return "hello=1"
        return repr(M())
    same(f)


def test_repr_multiline_extra_repr():
    def f(t):
        class M(t.nn.Module):
            def extra_repr(self):
                return "a=1\nb=2"
        return repr(M())
    same(f)


def test_repr_nested_sequential():
    same(lambda t: repr(t.nn.Sequential(t.nn.Linear(2, 2), t.nn.Sequential(t.nn.ReLU(), t.nn.ReLU()))))


# 9 ------------------------------------------------------------------ ParameterList / ParameterDict repr
def test_parameterlist_repr():
    same(lambda t: repr(t.nn.ParameterList([t.nn.Parameter(t.zeros(3, 4)), t.nn.Parameter(t.zeros(2))])))


def test_parameterdict_repr():
    same(lambda t: repr(t.nn.ParameterDict({"a": t.nn.Parameter(t.zeros(3, 4))})))


def test_parameter_container_reprs_one_entry_empty_and_float64():
    same(lambda t: repr(t.nn.ParameterList([t.nn.Parameter(t.zeros(3))])))
    same(lambda t: repr(t.nn.ParameterList([t.nn.Parameter(t.zeros(()))])))
    same(lambda t: repr(t.nn.ParameterList()) + repr(t.nn.ParameterDict()))
    same(lambda t: repr(t.nn.ParameterDict({"a": t.nn.Parameter(t.zeros(2, dtype=t.float64)),
                                            "b": t.nn.Parameter(t.zeros(1))})))


# 10 ----------------------------------------------------------------- state-dict hooks
def test_register_load_state_dict_post_hook():
    def f(t):
        m = t.nn.Linear(2, 2)
        log = []
        m.register_load_state_dict_post_hook(lambda mod, inc: log.append(list(inc.missing_keys)))
        m.load_state_dict({"weight": t.zeros(2, 2)}, strict=False)
        return log
    same(f)


def test_register_state_dict_pre_hook():
    def f(t):
        m = t.nn.Linear(2, 2)
        log = []
        m.register_state_dict_pre_hook(lambda mod, prefix, keep_vars: log.append(prefix))
        m.state_dict(prefix="a.")
        return log
    same(f)


def test_register_state_dict_hook_private():
    def f(t):
        m = t.nn.Linear(2, 2)
        log = []
        m._register_state_dict_hook(lambda mod, sd, prefix, meta: log.append(sorted(sd)))
        m.state_dict()
        return log
    same(f)


def test_register_load_state_dict_pre_hook():
    def f(t):
        m = t.nn.Linear(2, 2)
        log = []
        m.register_load_state_dict_pre_hook(lambda mod, sd, prefix, *a: log.append(prefix))
        m.load_state_dict({"weight": t.zeros(2, 2), "bias": t.zeros(2)})
        return log
    same(f)


def test_load_post_hook_may_clear_missing_keys_for_strict():
    def f(t):
        m = t.nn.Sequential(t.nn.Linear(2, 2))
        m.register_load_state_dict_post_hook(lambda mod, inc: inc.missing_keys.clear())
        r = m.load_state_dict({"0.weight": t.ones(2, 2)})
        return list(r.missing_keys), m[0].weight.sum().item()
    same(f)


def test_load_post_hooks_children_first():
    def f(t):
        log = []
        m = t.nn.Sequential(t.nn.Linear(2, 2))
        m.register_load_state_dict_post_hook(lambda mod, inc: log.append(("root", list(inc.missing_keys))))
        m[0].register_load_state_dict_post_hook(lambda mod, inc: log.append(("child", list(inc.missing_keys))))
        m.load_state_dict({"0.weight": t.ones(2, 2)}, strict=False)
        return log
    same(f)


def test_load_pre_hook_may_rename_keys():
    def f(t):
        m = t.nn.Linear(2, 2)

        def hook(mod, sd, prefix, *rest):
            if prefix + "w" in sd:
                sd[prefix + "weight"] = sd.pop(prefix + "w")
        m.register_load_state_dict_pre_hook(hook)
        m.load_state_dict({"w": t.ones(2, 2), "bias": t.zeros(2)})
        return m.weight.sum().item()
    same(f)


def test_private_load_pre_hook_arguments_and_error_msgs():
    def args(t):
        log = []
        m = t.nn.Linear(2, 2)
        m._register_load_state_dict_pre_hook(
            lambda sd, prefix, meta, strict, mk, uk, em: log.append((prefix, strict, dict(meta))))
        m.load_state_dict(m.state_dict())
        return log

    def error(t):
        m = t.nn.Linear(2, 2)
        m._register_load_state_dict_pre_hook(lambda sd, prefix, meta, strict, mk, uk, em: em.append("bad"))
        m.load_state_dict(m.state_dict())
    same(args)
    raises_like_torch(error)


def test_state_dict_post_hooks_return_values():
    def public(t):
        m = t.nn.Linear(2, 2)
        m.register_state_dict_post_hook(lambda *a: {})
        m.state_dict()

    def private(t):
        m = t.nn.Linear(2, 2)
        m._register_state_dict_hook(lambda mod, sd, prefix, meta: {"x": 1})
        return dict(m.state_dict())

    def in_place(t):
        def drop_bias(mod, sd, prefix, meta):
            del sd[prefix + "bias"]
        m = t.nn.Sequential(t.nn.Linear(2, 2))
        m[0].register_state_dict_post_hook(drop_bias)
        return list(m.state_dict())
    raises_like_torch(public)
    same(private)
    same(in_place)


def test_failed_strict_load_writes_nothing():
    m = ts.nn.Linear(2, 2)
    before = m.weight.numpy().copy()
    with pytest.raises(RuntimeError):
        m.load_state_dict({"weight": np.ones((2, 2))})
    assert np.array_equal(before, m.weight.numpy())


# 11 ----------------------------------------------------------------- missing Module methods
def test_get_buffer():
    def f(t):
        m = t.nn.Sequential(t.nn.BatchNorm1d(3))
        return m.get_buffer("0.running_var").tolist()
    same(f)


def test_set_submodule():
    def f(t):
        m = t.nn.Sequential(t.nn.Linear(3, 4))
        m.set_submodule("0", t.nn.Linear(3, 4, bias=False))
        return m[0].bias is None
    same(f)


def test_share_memory():
    same(lambda t: (lambda m: m.share_memory() is m)(t.nn.Linear(2, 2)))


def test_parameterdict_setdefault():
    def f(t):
        d = t.nn.ParameterDict()
        d.setdefault("a", t.nn.Parameter(t.ones(1)))
        return list(d.keys())
    same(f)


# 12 ----------------------------------------------------------------- RNN internals
@pytest.mark.parametrize("attr", ["_flat_weights_names", "_flat_weights", "_all_weights"])
def test_rnn_flat_weights_attrs(attr):
    def f(t):
        v = getattr(t.nn.LSTM(3, 4, proj_size=2), attr)
        return [x if isinstance(x, (str, list)) else tuple(x.shape) for x in v]
    same(f)


def test_rnn_flat_weights_bidirectional_without_bias():
    same(lambda t: t.nn.GRU(2, 3, num_layers=2, bidirectional=True, bias=False)._flat_weights_names)
    same(lambda t: [[tuple(p.shape) for p in ws] for ws in t.nn.LSTM(2, 3, num_layers=2).all_weights])


# 13 ----------------------------------------------------------------- hook dicts always present
@pytest.mark.parametrize("attr", ["_forward_hooks", "_forward_pre_hooks", "_backward_hooks",
                                  "_state_dict_hooks", "_non_persistent_buffers_set"])
def test_module_internal_dicts_exist(attr):
    same(lambda t: len(getattr(t.nn.Linear(1, 1), attr)))


# 14 ----------------------------------------------------------------- global hooks
def test_global_module_forward_hook():
    def f(t):
        log = []
        h = t.nn.modules.module.register_module_forward_hook(lambda m, i, o: log.append(type(m).__name__))
        try:
            t.nn.Identity()(t.ones(1))
        finally:
            h.remove()
        return log
    same(f)


def test_global_forward_pre_hook_and_order():
    def pre(t):
        log = []
        h = t.nn.modules.module.register_module_forward_pre_hook(lambda m, a: log.append(type(m).__name__))
        try:
            t.nn.Sequential(t.nn.Identity(), t.nn.ReLU())(t.ones(1))
        finally:
            h.remove()
        t.nn.Identity()(t.ones(1))
        return log

    def order(t):
        log = []
        m = t.nn.Identity()
        m.register_forward_hook(lambda *a: log.append("local"))
        h = t.nn.modules.module.register_module_forward_hook(lambda *a: log.append("global"))
        try:
            m(t.ones(1))
        finally:
            h.remove()
        return log
    same(pre)
    same(order)


def test_global_full_backward_hook():
    def f(t):
        log = []
        h = t.nn.modules.module.register_module_full_backward_hook(lambda m, gi, go: log.append(type(m).__name__))
        try:
            x = t.ones(1, 2, requires_grad=True)
            t.nn.Linear(2, 1)(x).sum().backward()
        finally:
            h.remove()
        return log
    same(f)


def test_nn_modules_import_paths():
    from tinygrad_seq.nn.modules.linear import Linear
    from tinygrad_seq.nn.modules.rnn import LSTM
    from tinygrad_seq.nn.modules.activation import MultiheadAttention, ReLU
    from tinygrad_seq.nn.modules.container import ModuleList
    assert (Linear, LSTM, MultiheadAttention, ReLU, ModuleList) == (
        ts.nn.Linear, ts.nn.LSTM, ts.nn.MultiheadAttention, ts.nn.ReLU, ts.nn.ModuleList)
    assert ts.nn.modules.module.Module is ts.nn.Module and ts.nn.modules.Linear is ts.nn.Linear


def test_hooks_survive_deepcopy_and_pickle():
    import pickle
    m = ts.nn.Linear(2, 2)
    m.register_buffer("b", ts.ones(1), persistent=False)
    m2 = pickle.loads(pickle.dumps(m))
    assert list(m2.state_dict()) == ["weight", "bias"] and m2._non_persistent_buffers_set == {"b"}
    log = []
    m.register_forward_hook(lambda *a: log.append(1))
    copy.deepcopy(m)(ts.ones(1, 2))
    assert log == [1]


def test_hook_removal_restores_fast_path():
    m = ts.nn.Identity()
    h = m.register_forward_pre_hook(lambda *a: None)
    assert m._call_hook_ids
    h.remove()
    assert not m._call_hook_ids and not m._forward_pre_hooks


# 15 ----------------------------------------------------------------- state_dict metadata / prefix / return type
def test_state_dict_metadata():
    same(lambda t: dict(t.nn.Sequential(t.nn.Linear(2, 2)).state_dict()._metadata))


def test_state_dict_prefix_without_dot():
    same(lambda t: list(t.nn.Linear(2, 2).state_dict(prefix="m").keys()))


def test_state_dict_prefix_with_dot_and_incompatible_reprs():
    same(lambda t: list(t.nn.Sequential(t.nn.Linear(1, 1)).state_dict(prefix="a.").keys()))
    same(lambda t: repr(t.nn.Linear(2, 2).load_state_dict({"weight": t.zeros(2, 2)}, strict=False)))
    same(lambda t: repr(t.nn.Linear(2, 2).load_state_dict(t.nn.Linear(2, 2).state_dict())))


def test_incompatible_keys_is_namedtuple():
    def f(t):
        m = t.nn.Linear(2, 2)
        r = m.load_state_dict({"weight": t.zeros(2, 2)}, strict=False)
        return r._fields, r._asdict()
    same(f)


# 16 ----------------------------------------------------------------- named_modules(memo=)
def test_named_modules_duplicates():
    def f(t):
        lin = t.nn.Linear(1, 1)
        m = t.nn.Sequential(lin, lin)
        return [k for k, _ in m.named_modules()], [k for k, _ in m.named_modules(remove_duplicate=False)]
    same(f)


def test_named_modules_memo():
    def f(t):
        m = t.nn.Sequential(t.nn.Linear(2, 2), t.nn.ReLU())
        return [k for k, _ in m.named_modules(memo={m[0]})]
    same(f)


# 17 ----------------------------------------------------------------- __dir__ lists buffers
def test_dir_lists_buffers():
    def f(t):
        m = t.nn.Linear(1, 1)
        m.register_buffer("bb", t.ones(1))
        return "bb" in dir(m)
    same(f)


# 18 ----------------------------------------------------------------- small ones
def test_train_non_bool_raises():
    raises_like_torch(lambda t: t.nn.Linear(1, 1).train("no"))


def test_deepcopy_module_drops_grad():
    def f(t):
        m = t.nn.Linear(2, 2)
        m(t.ones(1, 2)).sum().backward()
        return copy.deepcopy(m).weight.grad is None
    same(f)


def test_add_module_none_registers_slot():
    def f(t):
        m = t.nn.Linear(1, 1)
        m.add_module("x", None)
        return list(m._modules)
    same(f)


def test_parameter_no_args():
    same(lambda t: tuple(t.nn.Parameter().shape))


def test_sequential_of_dict_raises():
    raises_like_torch(lambda t: t.nn.Sequential({"fc": t.nn.Linear(1, 2)}))


def test_recurrent_constructor_errors():
    raises_like_torch(lambda t: t.nn.LSTM(3, 4.0))
    raises_like_torch(lambda t: t.nn.LSTM(3.0, 4))
    raises_like_torch(lambda t: t.nn.GRU(3, 4, proj_size=2))
    raises_like_torch(lambda t: t.nn.RNN(3, 4, proj_size=2))
    raises_like_torch(lambda t: t.nn.LSTM(3, 0))


def test_embedding_padding_idx_out_of_range():
    raises_like_torch(lambda t: t.nn.Embedding(3, 2, padding_idx=3))


def test_parameterdict_setdefault_existing_key():
    def f(t):
        d = t.nn.ParameterDict({"a": t.nn.Parameter(t.ones(1))})
        return tuple(d.setdefault("a", t.nn.Parameter(t.zeros(2))).shape)
    same(f)
