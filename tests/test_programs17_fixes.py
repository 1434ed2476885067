"""Findings of programs round 17 (audit a8: 2025-style recurrent-model programs) against torch
2.13: Module.compile, `with device(...)`, ts.compiler, sdpa_kernel / SDPBackend, the serialization
allowlist, amp.custom_fwd / custom_bwd, the profiler, saved_tensors_hooks / save_on_cpu, always_call
forward hooks, utils.hooks / utils._pytree, untyped_storage, _assert, backends.opt_einsum."""
import collections
import importlib
import os
import subprocess
import sys
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import tinygrad_seq as ts  # noqa: E402


def test_module_compile_method():
    tm = torch.nn.GRU(3, 4)
    assert tm.compile() is None
    m = ts.nn.GRU(3, 4)
    assert m.compile() is None
    assert m.compile(fullgraph=True, mode="max-autotune") is None
    out, h = m(ts.randn(5, 2, 3))
    assert tuple(out.shape) == (5, 2, 4)
    for lib, mod in ((torch, tm), (ts, m)):
        with pytest.raises(TypeError):
            mod.compile(True)   # torch.compile's options are keyword-only
        with pytest.raises(TypeError):
            mod.compile(bogus=1)


def test_device_is_a_context_manager():
    with torch.device("cpu"):
        t = torch.zeros(2)
    with ts.device("cpu") as d:
        o = ts.zeros(2)
        lin = ts.nn.Linear(2, 2)
    assert d == "cpu" and o.device == "cpu" and lin.weight.device == "cpu" and t.device.type == "cpu"
    assert ts.get_default_device() == "cpu"
    with pytest.raises(NotImplementedError, match="set_default_device"):
        with ts.device("cuda"):   # tensors are made on the CPU by default here: a clear refusal
            pass
    assert ts.get_default_device() == "cpu"


def test_torch_compiler_namespace():
    assert torch.compiler.is_compiling() is False
    assert ts.compiler.is_compiling() is False and ts.compiler.is_dynamo_compiling() is False
    f = ts.compiler.disable(lambda x: x + 1)
    assert f(1) == 2
    g = ts.compiler.disable(recursive=False)(lambda x: x * 3)
    assert g(2) == 6
    assert ts.compiler.allow_in_graph(len) is len and ts.compiler.assume_constant_result(len) is len
    assert ts.compiler.reset() is None and ts.compiler.cudagraph_mark_step_begin() is None
    for lib in (torch, ts):
        with pytest.raises(AssertionError):
            lib.compiler.disable(5)
    with ts.compiler.set_stance("force_eager"):
        assert ts.compiler.get_stance() == "force_eager"
    assert ts.compiler.get_stance() == "default"


def test_nn_attention_sdpa_kernel():
    from torch.nn.attention import SDPBackend as TB, sdpa_kernel as tk
    q = torch.ones(1, 2, 2)
    with tk(TB.MATH):
        ref = torch.nn.functional.scaled_dot_product_attention(q, q, q)
    att = importlib.import_module("tinygrad_seq.nn.attention")
    with att.sdpa_kernel(att.SDPBackend.MATH):
        out = ts.nn.functional.scaled_dot_product_attention(ts.ones(1, 2, 2), ts.ones(1, 2, 2), ts.ones(1, 2, 2))
    assert out.numpy().tolist() == ref.numpy().tolist()
    assert {b.name: int(b) for b in att.SDPBackend} == {n: int(v) for n, v in TB.__members__.items()}

    def flags(lib, chosen):
        c = lib.backends.cuda
        with lib.nn.attention.sdpa_kernel(chosen) if lib is ts else tk(chosen):
            inside = (c.flash_sdp_enabled(), c.math_sdp_enabled(), c.mem_efficient_sdp_enabled(),
                      c.cudnn_sdp_enabled())
        return inside, c.flash_sdp_enabled()
    assert flags(ts, [att.SDPBackend.MATH, att.SDPBackend.FLASH_ATTENTION]) == \
        flags(torch, [TB.MATH, TB.FLASH_ATTENTION])
    for lib, kernel in ((torch, tk), (ts, att.sdpa_kernel)):
        with pytest.raises(AssertionError, match="Backend must be an instance of SDPBackend"):
            with kernel("math"):
                pass


def test_serialization_add_safe_globals():
    for lib in (torch, ts):
        s = lib.serialization
        s.clear_safe_globals()
        s.add_safe_globals([dict, (list, "x.y")])
        with s.safe_globals([set]):
            inside = set(s.get_safe_globals())
        assert inside == {dict, (list, "x.y"), set}
        assert set(s.get_safe_globals()) == {dict, (list, "x.y")}
        with pytest.raises(TypeError):
            s.add_safe_globals(dict)
        s.clear_safe_globals()
        assert s.get_safe_globals() == []


def test_amp_custom_fwd_bwd_and_is_autocast_available():
    names = ["cpu", "cuda", "mps", "xla", "meta", "lazy", "cuda:0"]
    assert [ts.amp.is_autocast_available(n) for n in names] == [torch.amp.is_autocast_available(n) for n in names]
    with pytest.raises(RuntimeError, match="device type at start of device string"):
        ts.amp.is_autocast_available("bogus")

    class Sq(ts.autograd.Function):
        @staticmethod
        @ts.amp.custom_fwd(device_type="cpu")
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        @ts.amp.custom_bwd(device_type="cpu")
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            assert ctx._fwd_used_autocast is False
            return 2 * x * g

    x = ts.ones(2, requires_grad=True)
    Sq.apply(x).sum().backward()
    assert x.grad.numpy().tolist() == [2.0, 2.0]

    def cast_seen(lib):
        seen = []

        class Half(lib.autograd.Function):
            @staticmethod
            @lib.amp.custom_fwd(device_type="cpu", cast_inputs=lib.float16)
            def forward(ctx, x):
                seen.append(str(x.dtype).replace("torch.", ""))
                return x.clone()

            @staticmethod
            def backward(ctx, g):
                return g
        Half.apply(lib.ones(2))   # outside an enabled autocast region: inputs kept as they are
        return seen
    assert cast_seen(ts) == cast_seen(torch) == ["float32"]
    with pytest.raises(ValueError, match="device_type"):
        ts.amp.custom_fwd(device_type=3)


def test_profiler_record_function():
    def run(mod):
        with mod.profiler.profile(activities=[mod.profiler.ProfilerActivity.CPU]):
            with mod.profiler.record_function("fwd"):
                y = mod.nn.Linear(2, 2)(mod.ones(1, 2))
        with mod.autograd.profiler.record_function("x"):
            pass
        return tuple(y.shape)
    assert run(ts) == run(torch)


def test_profiler_records_region_names_counts_and_times():
    with ts.profiler.profile(activities=[ts.profiler.ProfilerActivity.CPU], record_shapes=True) as prof:
        for _ in range(2):
            with ts.profiler.record_function("outer"):
                time.sleep(0.002)
                with ts.profiler.record_function("inner"):
                    time.sleep(0.002)
    averages = {e.key: e for e in prof.key_averages()}
    assert set(averages) == {"outer", "inner"}
    outer, inner = averages["outer"], averages["inner"]
    assert outer.count == 2 and inner.count == 2
    assert outer.cpu_time_total >= 8000 * 0.9 and inner.cpu_time_total >= 4000 * 0.9   # microseconds
    assert outer.self_cpu_time_total < outer.cpu_time_total   # less the inner regions' time
    assert abs(outer.cpu_time - outer.cpu_time_total / 2) < 1e-6
    assert [e.name for e in prof.events()] == ["inner", "outer", "inner", "outer"]   # in order of closing
    table = prof.key_averages().table(sort_by="cpu_time_total", row_limit=1)
    for column in ("Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg", "# of Calls"):
        assert column in table
    assert "outer" in table and "inner" not in table and "Self CPU time total:" in table
    with ts.profiler.record_function("unrecorded"):   # no profile active: nothing kept
        pass
    assert len(prof.events()) == 4
    with ts.autograd.profiler.profile() as legacy:
        with ts.autograd.profiler.record_function("x"):
            pass
    assert [e.key for e in legacy.key_averages()] == ["x"]
    from tinygrad_seq.autograd.profiler import record_function   # noqa: F401  torch's import path


def _hook_counts(lib, make):
    calls = {"pack": 0, "unpack": 0}

    def pack(t):
        calls["pack"] += 1
        return t.clone()

    def unpack(t):
        calls["unpack"] += 1
        return t
    x = lib.tensor([1.5, -2.0, 3.0], requires_grad=True)
    with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
        y = make(lib, x)
    assert calls["unpack"] == 0
    y.sum().backward()
    return calls, x.grad.numpy()


@pytest.mark.parametrize("name,make", [("mul", lambda lib, x: x * x), ("exp", lambda lib, x: x.exp()),
                                        ("tanh", lambda lib, x: x.tanh())])
def test_saved_tensors_hooks_called_on_save_and_on_backward(name, make):
    (ts_calls, ts_grad), (t_calls, t_grad) = _hook_counts(ts, make), _hook_counts(torch, make)
    assert ts_calls == t_calls
    np.testing.assert_allclose(ts_grad, t_grad, rtol=1e-5)


def test_saved_tensors_hooks_unpacked_value_is_what_backward_uses():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t * 0 + 10, lambda t: t):
            y = x * x   # both saved operands become 10: the gradient is 10 * g
        y.sum().backward()
        return x.grad.numpy().tolist()
    assert run(ts) == run(torch) == [20.0, 20.0]
    x = ts.ones(2, requires_grad=True)
    with ts.autograd.graph.saved_tensors_hooks(lambda t: 5, lambda t: 7):
        y = (x * x).sum()
    with pytest.raises(TypeError, match="unpack_hook expected to be a Tensor"):
        y.backward()


def test_saved_tensors_hooks_custom_function():
    def run(lib):
        seen = []

        class Sq(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 2 * x * g
        x = lib.tensor([1.0, 3.0], requires_grad=True)
        hooks = (lambda t: seen.append("pack") or t, lambda t: seen.append("unpack") or t)
        with lib.autograd.graph.saved_tensors_hooks(*hooks):
            y = Sq.apply(x)
        y.sum().backward()
        return seen, x.grad.numpy().tolist()
    assert run(ts) == run(torch)


def test_autograd_graph_saved_tensors_hooks_and_save_on_cpu():
    def run(mod):
        with mod.autograd.graph.saved_tensors_hooks(lambda t: t.clone(), lambda t: t):
            x = mod.ones(2, requires_grad=True)
            (x * x).sum().backward()
        with mod.autograd.graph.save_on_cpu(pin_memory=False):
            z = mod.ones(2, requires_grad=True)
            z.exp().sum().backward()
        return x.grad.numpy(), z.grad.numpy()
    (a, b), (c, d) = run(ts), run(torch)
    assert a.tolist() == c.tolist()
    np.testing.assert_allclose(b, d, rtol=1e-6)   # exp's float32 last bit is numpy's, not SLEEF's
    with ts.autograd.graph.disable_saved_tensors_hooks("no hooks here"):
        with pytest.raises(RuntimeError, match="no hooks here"):
            with ts.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
                pass
    from tinygrad_seq.autograd.graph import save_on_cpu  # noqa: F401  torch's import path


def test_forward_hook_always_call_runs_when_a_pre_hook_raises():
    def run(mod):
        m = mod.nn.Linear(2, 2)
        seen = []
        m.register_forward_hook(lambda *a: seen.append(a[2]), always_call=True)
        m.register_forward_hook(lambda *a: seen.append("plain"))

        def boom(module, args):
            raise ValueError("x")
        h = m.register_forward_pre_hook(boom)
        with pytest.raises(ValueError):
            m(mod.ones(2))
        h.remove()
        m(mod.ones(2))
        return [s if isinstance(s, str) or s is None else "out" for s in seen]
    assert run(ts) == run(torch) == [None, "out", "plain"]


def test_utils_hooks_reachable_without_import():
    code = ("import tinygrad_seq as torch\n"
            "h = torch.nn.Linear(1, 1).register_forward_hook(lambda *a: None)\n"
            "assert isinstance(h, torch.utils.hooks.RemovableHandle)\n"
            "assert torch.utils._pytree.tree_leaves([1, (2, 3)]) == [1, 2, 3]\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=dict(os.environ),
                       cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert r.returncode == 0, r.stderr[-400:]


def test_utils_pytree_tree_map():
    tp = importlib.import_module("torch.utils._pytree")
    ref = tp.tree_map(lambda t: t * 2, {"a": torch.ones(1), "b": [torch.ones(2)]})
    op = importlib.import_module("tinygrad_seq.utils._pytree")
    out = op.tree_map(lambda t: t * 2, {"a": ts.ones(1), "b": [ts.ones(2)]})
    assert out["b"][0].numpy().tolist() == ref["b"][0].numpy().tolist()
    P = collections.namedtuple("P", "x y")
    for tree in [{"a": 1, "b": [2, (3, None)], "c": P(4, 5)}, None, 3, collections.OrderedDict(a=1), []]:
        leaves, spec = op.tree_flatten(tree)
        ref_leaves, ref_spec = tp.tree_flatten(tree)
        assert leaves == ref_leaves and repr(spec) == repr(ref_spec)
        assert (spec.num_leaves, spec.num_nodes, spec.num_children) == \
            (ref_spec.num_leaves, ref_spec.num_nodes, ref_spec.num_children)
        assert op.tree_unflatten(leaves, spec) == tree
    assert op.tree_map(lambda a, b: a + b, [1, 2], [3, 4]) == tp.tree_map(lambda a, b: a + b, [1, 2], [3, 4])
    for lib in (tp, op):
        with pytest.raises(ValueError, match="arity mismatch"):
            lib.tree_map(lambda a, b: a + b, [1, 2], [3])
        with pytest.raises(ValueError, match="has length 1"):
            lib.tree_unflatten([1], lib.tree_structure([1, 2]))


def test_misc_missing_names_untyped_storage_and_assert():
    assert torch.ones(3).untyped_storage().nbytes() == 12
    assert ts.ones(3).untyped_storage().nbytes() == 12
    t, o = torch.arange(6.0).reshape(2, 3), ts.arange(6.0).reshape(2, 3)
    ts_s, t_s = o[1:].untyped_storage(), t[1:].untyped_storage()
    assert (ts_s.nbytes(), ts_s.size(), len(ts_s), ts_s.element_size()) == \
        (t_s.nbytes(), t_s.size(), len(t_s), t_s.element_size())
    assert ts_s.data_ptr() == o.data_ptr() and ts_s.tolist() == t_s.tolist()
    ts._assert(True, "ok")
    for lib in (torch, ts):
        with pytest.raises(AssertionError, match="msg"):
            lib._assert(False, "msg")
        with pytest.raises(AssertionError, match="msg2"):
            lib._assert(lib.tensor(False), "msg2")
    import torch.backends.opt_einsum as t_oe
    import tinygrad_seq.backends.opt_einsum as ts_oe
    assert (ts_oe.is_available(), ts_oe.enabled, ts_oe.strategy) == (t_oe.is_available(), t_oe.enabled,
                                                                      t_oe.strategy)
