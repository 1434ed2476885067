"""torch.func (functional_call, grad, vjp, jvp, jacrev, jacfwd, hessian, vmap, stack_module_state)
against torch.func side by side, float64 values and gradients, shapes, pytree structures, errors."""
import warnings

import numpy as np
import pytest
import torch

import tinygrad_seq as ts

RNG = np.random.default_rng(0)


def _np(t):
    if isinstance(t, torch.Tensor):
        return t.detach().numpy()
    return t.detach().numpy()


def _same(want, got, rtol=1e-7, atol=1e-9, where="out"):
    """want (torch) and got (tinygrad_seq): the same pytree, leaf shapes and values."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and list(want) == list(got), f"{where}: keys {list(want)} vs {got}"
        for k in want:
            _same(want[k], got[k], rtol, atol, f"{where}[{k!r}]")
    elif isinstance(want, (tuple, list)):
        assert type(got) is type(want) and len(got) == len(want), f"{where}: {type(want)} vs {type(got)}"
        for k, (a, b) in enumerate(zip(want, got)):
            _same(a, b, rtol, atol, f"{where}[{k}]")
    else:
        a, b = _np(want), _np(got)
        assert a.shape == b.shape, f"{where}: shape {a.shape} vs {b.shape}"
        np.testing.assert_allclose(b, a, rtol=rtol, atol=atol, err_msg=where)


def _both(fn, **kw):
    """Run fn(lib) with torch and with tinygrad_seq; compare the pytrees it returns."""
    _same(fn(torch), fn(ts), **kw)


def _t(lib, a, requires_grad=False):
    return lib.tensor(np.array(a, dtype=np.float64), requires_grad=requires_grad)


X3, Y2 = RNG.standard_normal(3), RNG.standard_normal(2)
XB, YB = RNG.standard_normal((5, 4)), RNG.standard_normal((5, 2))


def _mlp(lib, seed=0):
    """The same Linear-tanh-Linear in both libraries (torch's init, copied), float64."""
    torch.manual_seed(seed)
    ref = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 2)).double()
    if lib is torch:
        return ref
    m = ts.nn.Sequential(ts.nn.Linear(4, 6), ts.nn.Tanh(), ts.nn.Linear(6, 2)).double()
    m.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    return m


class _Recurrent:
    """An LSTM (or GRU) and a Linear head, built the same in both libraries."""

    @staticmethod
    def make(lib, kind):
        torch.manual_seed(1)
        refs = [getattr(torch.nn, kind)(3, 4, batch_first=True).double(), torch.nn.Linear(4, 2).double()]

        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = getattr(lib.nn, kind)(3, 4, batch_first=True).double()
                self.head = lib.nn.Linear(4, 2).double()

            def forward(self, x):
                return self.head(self.rnn(x)[0][:, -1])
        net = Net()
        net.rnn.load_state_dict({k: v.numpy() if lib is ts else v for k, v in refs[0].state_dict().items()})
        net.head.load_state_dict({k: v.numpy() if lib is ts else v for k, v in refs[1].state_dict().items()})
        return net


# ---------------------------------------------------------------- functional_call
def test_functional_call_mlp_values_gradients_and_restore():
    def run(lib):
        m = _mlp(lib)
        own = {k: _np(v).copy() for k, v in m.named_parameters()}
        params = {k: (v.detach() * 1.5).requires_grad_() for k, v in m.named_parameters()}
        out = lib.func.functional_call(m, params, (_t(lib, XB),))
        out.pow(2).sum().backward()
        for k, v in m.named_parameters():   # the module's own are back, untouched, without grads
            assert np.array_equal(_np(v), own[k]) and v.grad is None
        return out, {k: v.grad for k, v in params.items()}
    _both(run)


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_functional_call_recurrent_model(kind):
    x = RNG.standard_normal((2, 5, 3))

    def run(lib):
        net = _Recurrent.make(lib, kind)
        params = {k: (v.detach() * 0.8 + 0.05).requires_grad_() for k, v in net.named_parameters()}
        out = lib.func.functional_call(net, params, _t(lib, x))
        g = lib.autograd.grad(out.sum(), list(params.values()))
        return out, list(g)
    _both(run, rtol=1e-6)


def test_functional_call_tuple_of_dicts_buffers_partial_and_exception_restore():
    class WithBuffer:
        @staticmethod
        def make(lib):
            class M(lib.nn.Module):
                def __init__(self):
                    super().__init__()
                    self.lin = lib.nn.Linear(3, 2).double()
                    self.register_buffer("shift", lib.zeros(2, dtype=lib.float64))

                def forward(self, x, scale=1.0):
                    if scale == "boom":
                        raise KeyError("boom")
                    return self.lin(x) * scale + self.shift
            return M()

    def run(lib):
        m = WithBuffer.make(lib)
        w = _t(lib, W23, requires_grad=True)
        b, shift, x = _t(lib, [0.5, -1.0]), _t(lib, [1.0, 2.0]), _t(lib, X3)
        out = lib.func.functional_call(m, ({"lin.weight": w, "lin.bias": b}, {"shift": shift}), (x,), {"scale": 2.0})
        own_w = m.lin.weight
        with pytest.raises(KeyError):
            lib.func.functional_call(m, {"lin.weight": w}, (x,), {"scale": "boom"})
        assert m.lin.weight is own_w and m.shift is not shift
        partial = lib.func.functional_call(m, {"lin.bias": b}, x)   # the weight: the module's own
        return out, lib.autograd.grad(out.sum(), w)[0], partial - m.lin.weight.detach() @ x
    _both(run)


W23 = RNG.standard_normal((2, 3))


def test_functional_call_tied_weights_and_strict_errors():
    def run(lib):
        m = lib.nn.Linear(2, 2, bias=False).double()
        m.alias = m.weight   # one parameter under two names: tied
        x = _t(lib, [1.0, 2.0])
        new = _t(lib, [[1.0, 0.0], [0.0, 1.0]])
        tied = lib.func.functional_call(m, {"weight": new}, x)
        assert m.alias is m.weight
        with pytest.raises(ValueError, match="tied"):
            lib.func.functional_call(m, {"weight": new, "alias": new * 2}, x)
        with pytest.raises(RuntimeError, match=r"Unexpected key\(s\): 'foo'.\n\tMissing key\(s\): 'alias', 'weight'"):
            lib.func.functional_call(m, {"foo": x}, x, strict=True)
        with pytest.raises(ValueError, match="appeared in multiple dictionaries"):
            lib.func.functional_call(m, ({"weight": new}, {"weight": new}), x)
        with pytest.raises(ValueError, match="to be a dict, or a list/tuple of dicts"):
            lib.func.functional_call(m, 3, x)
        with pytest.raises(TypeError, match="is not an instance of torch.Tensor"):
            lib.func.functional_call(m, {"weight": 3}, x)
        with pytest.raises(AttributeError, match="Linear has no attribute `sub`"):
            lib.func.functional_call(m, {"sub.weight": new}, x)
        return tied
    _both(run)


def test_stateless_functional_call_warns_as_torch():
    def run(lib):
        m = _mlp(lib)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = lib.nn.utils.stateless.functional_call(m, {}, _t(lib, XB))
        assert [w.category for w in caught] == [FutureWarning]
        assert "torch.func.functional_call" in str(caught[0].message)
        return out
    _both(run)


def test_maml_inner_loop_meta_gradients():
    """Two inner SGD steps through functional_call and autograd.grad(create_graph=True); the
    meta-gradient reaches the initial parameters through the inner steps (second order)."""
    xq, yq = RNG.standard_normal((5, 4)), RNG.standard_normal((5, 2))

    def run(lib):
        m = _mlp(lib)
        params = dict(m.named_parameters())
        fast = dict(params)
        for _ in range(2):
            loss = ((lib.func.functional_call(m, fast, _t(lib, XB)) - _t(lib, YB)) ** 2).mean()
            grads = lib.autograd.grad(loss, list(fast.values()), create_graph=True)
            fast = {k: v - 0.3 * g for (k, v), g in zip(fast.items(), grads)}
        meta = ((lib.func.functional_call(m, fast, _t(lib, xq)) - _t(lib, yq)) ** 2).mean()
        meta.backward()
        return meta, [p.grad for p in params.values()]
    _both(run)


# ---------------------------------------------------------------- grad, vjp, jvp
def test_grad_argnums_pytrees_aux_and_value():
    def f(d, y, k):
        return (d["a"].sin() * d["b"][:3].sum()).sum() * (y ** 2).sum() * k, d["a"] * 2

    def run(lib):
        d = {"a": _t(lib, X3), "b": _t(lib, RNG_B)}
        y = _t(lib, Y2)
        g0 = lib.func.grad(lambda d, y: f(d, y, 3.0)[0])(d, y)
        g01, aux = lib.func.grad(f, argnums=(0, -2), has_aux=True)(d, y, 3.0)
        (gv, (value, aux2)) = lib.func.grad_and_value(lambda y, d: f(d, y, 2.0), has_aux=True)(y, d)
        return g0, g01, aux, gv, value, aux2
    _both(run)


RNG_B = RNG.standard_normal(4)


def test_nested_grad_third_derivative_and_gradcheck():
    def run(lib):
        f = lambda x: (x.sin() * x ** 2).sum()   # noqa: E731
        g = lib.func.grad
        x = _t(lib, 0.7)
        return g(f)(x), g(g(f))(x), g(g(g(f)))(x)
    _both(run)
    x = ts.tensor(X3, requires_grad=True)
    assert ts.autograd.gradcheck(lambda x: ts.func.grad(lambda x: (x.tanh() ** 3).sum())(x), (x,))


def test_results_keep_graphs_only_to_the_outer_level():
    w = ts.tensor(X3, requires_grad=True)
    x = ts.tensor(Y2[:1].repeat(3))
    assert ts.func.grad(lambda x: (x * w).sum())(x).requires_grad   # through the closure's w
    assert not ts.func.grad(lambda x: (x ** 3).sum())(x).requires_grad
    assert ts.func.grad(lambda x: (x ** 3).sum())(w).requires_grad   # w is an outer input
    with ts.no_grad():
        assert not ts.func.grad(lambda x: (x ** 3).sum())(w).requires_grad
    g = ts.func.grad(lambda x: (x ** 3).sum())(w)
    g.sum().backward()   # d/dw sum(3 w^2) = 6 w
    np.testing.assert_allclose(w.grad.numpy(), 6 * X3)
    assert ts.func.grad(lambda x: (x ** 2).sum())(ts.ones(3)).dtype == ts.float32


def test_vjp_and_jvp_pytrees():
    def f(a, d):
        return {"p": a.exp() * d["w"].sum(), "q": (a[:2] * d["w"]).tanh()}, a.sum()

    def run(lib):
        a, d = _t(lib, X3), {"w": _t(lib, Y2)}
        out, fn, aux = lib.func.vjp(f, a, d, has_aux=True)
        cot = {"p": _t(lib, [1.0, -2.0, 0.5]), "q": _t(lib, [0.3, 0.7])}
        first, second = fn(cot), fn(cot)   # may be called again
        o2, t2 = lib.func.jvp(lambda a, d: f(a, d)[0], (a, d), (_t(lib, [0.1, 0.2, 0.3]), {"w": _t(lib, [1.0, -1.0])}))
        o3, t3, aux3 = lib.func.jvp(f, (a, d), (a, d), has_aux=True)
        return out, first, second, aux, o2, t2, o3, t3, aux3
    _both(run)


def test_jvp_vjp_of_relu_network_match_jacobian():
    v = RNG.standard_normal(4)

    def run(lib):
        m = _mlp(lib)
        x = _t(lib, XB[0])
        out, tangent = lib.func.jvp(m, (x,), (_t(lib, v),))
        out2, fn = lib.func.vjp(m, x)
        return out, tangent, fn(_t(lib, [1.0, 2.0]))
    _both(run)


# ---------------------------------------------------------------- jacobians
@pytest.mark.parametrize("name", ["jacrev", "jacfwd"])
def test_jacobian_argnums_dict_and_aux(name):
    def run(lib):
        jac = getattr(lib.func, name)
        f = lambda x, y: (x[:2] * y).sum() * x.sin()   # noqa: E731
        g = lambda d: {"o": d["a"].sum() * d["b"], "p": d["a"] * d["b"].prod()}   # noqa: E731
        x, y = _t(lib, X3), _t(lib, Y2)
        d = {"a": x, "b": y}
        return (jac(f)(x, y), jac(f, argnums=(0, 1))(x, y), jac(f, argnums=1)(x, y), jac(g)(d),
                jac(lambda a: (a.exp(), a.sum()), has_aux=True)(x), jac(lambda a: a.sum() ** 2)(_t(lib, 2.0)),
                jac(lambda a: a.tanh())(_t(lib, XB[:2, :3])))
    _both(run)


def test_hessian_and_jacrev_of_jacrev():
    def run(lib):
        f = lambda x, y: (x ** 2 * x.sin()).sum() * (y ** 3).sum()   # noqa: E731
        x, y = _t(lib, X3), _t(lib, Y2)
        d = {"a": x, "b": y}
        return (lib.func.hessian(f)(x, y), lib.func.hessian(f, argnums=(0, 1))(x, y),
                lib.func.hessian(lambda d: f(d["a"], d["b"]))(d),
                lib.func.jacrev(lib.func.jacrev(lambda x: x.tanh() * x.sum()))(x),
                lib.autograd.functional.hessian(lambda x: f(x, y), x))
    _both(run)


def test_jacobian_of_model_parameters():
    def run(lib):
        m = _mlp(lib)
        params = {k: v.detach() for k, v in m.named_parameters()}
        return lib.func.jacrev(lambda p, x: lib.func.functional_call(m, p, (x,)))(params, _t(lib, XB[:2]))
    _both(run)


# ---------------------------------------------------------------- vmap
def test_vmap_in_dims_out_dims_nested_and_kwargs():
    a, b = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 2))

    def run(lib):
        A, B = _t(lib, a), _t(lib, b)
        vm = lib.vmap
        return (vm(lambda x, y: x @ y)(A, _t(lib, RNG_44)),
                vm(lambda x, y: (x * y.sum(), y), in_dims=(1, None), out_dims=(1, 0))(A, _t(lib, Y2)),
                vm(lambda d: d["a"].sum(), in_dims=({"a": -1},))({"a": A}),
                vm(lambda x: x * 2, out_dims=-1)(A),
                vm(vm(lambda x: x.sum()), in_dims=1)(_t(lib, RNG_345)),
                vm(lambda l, scale=1.0: l[0] * l[1] * scale)([A, A], scale=3.0),
                vm(lambda x: {"s": x.sum(0), "m": x.max()})(B),
                vm(lambda x: lib.ones(2, dtype=lib.float64))(A),
                lib.func.vmap(lib.sum)(B))
    _both(run)


RNG_44 = RNG.standard_normal((3, 4, 2))
RNG_345 = RNG.standard_normal((3, 4, 5))


def test_per_sample_gradients_vmap_grad():
    def run(lib):
        m = _mlp(lib)
        params = {k: v.detach() for k, v in m.named_parameters()}

        def loss_fn(params, x, y):
            out = lib.func.functional_call(m, params, (x.unsqueeze(0),))
            return ((out - y.unsqueeze(0)) ** 2).mean()
        per_sample = lib.func.vmap(lib.func.grad(loss_fn), in_dims=(None, 0, 0))(params, _t(lib, XB), _t(lib, YB))
        mean = lib.func.grad(lambda p: sum(loss_fn(p, _t(lib, XB[i]), _t(lib, YB[i])) for i in range(5)) / 5)(params)
        for k in params:   # the per-sample gradients average to the batch's
            np.testing.assert_allclose(_np(per_sample[k].mean(0)), _np(mean[k]), rtol=1e-10, atol=1e-12)
        return per_sample
    _both(run)


def test_vmap_is_differentiable_and_composes_with_jacrev():
    def run(lib):
        w = _t(lib, X3, requires_grad=True)
        out = lib.vmap(lambda row: (row * w).sin().sum())(_t(lib, XB[:, :3]))
        out.sum().backward()
        jac = lib.func.jacrev(lib.vmap(lambda r: r.exp() * r.sum()))(_t(lib, XB[:2, :3]))
        return out, w.grad, jac
    _both(run)


def test_stack_module_state_ensemble():
    def run(lib):
        models = [_mlp(lib, seed) for seed in range(3)]
        params, buffers = lib.func.stack_module_state(models)
        for p in params.values():
            assert p.requires_grad and p.is_leaf
        base = models[0]
        out = lib.vmap(lambda p, b, x: lib.func.functional_call(base, (p, b), (x,)), in_dims=(0, 0, None))(
            params, buffers, _t(lib, XB))
        out.pow(2).sum().backward()
        return out, {k: v.grad for k, v in params.items()}
    _both(run)


def test_vmap_randomness_modes():
    x = ts.zeros(4, 3)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        ts.vmap(lambda r: r + ts.randn(3))(x)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        ts.vmap(lambda r: ts.nn.functional.dropout(r + 1, 0.5, training=True))(x)
    assert ts.vmap(lambda r: ts.nn.functional.dropout(r + 1, 0.5, training=False))(x).shape == (4, 3)
    same = ts.vmap(lambda r: r + ts.randn(3), randomness="same")(x).numpy()
    assert np.all(same == same[0])
    diff = ts.vmap(lambda r: r + ts.randn(3), randomness="different")(x).numpy()
    assert not np.all(diff == diff[0])
    with pytest.raises(RuntimeError, match="Only allowed values for randomness"):
        ts.vmap(lambda r: r, randomness="sometimes")


# ---------------------------------------------------------------- errors as torch's
ERRORS = [
    ("non-scalar output", lambda L, x: L.func.grad(lambda x: x * 2)(x),
     RuntimeError, "Expected f\\(\\*args\\) to return a scalar"),
    ("non-tensor output", lambda L, x: L.func.grad(lambda x: 3.0)(x), RuntimeError, "to return a Tensor, got"),
    ("has_aux not tuple", lambda L, x: L.func.grad(lambda x: x.sum(), has_aux=True)(x),
     RuntimeError, "should be a tuple: \\(output, aux\\)"),
    ("argnums out of range", lambda L, x: L.func.grad(lambda a, b: a.sum(), argnums=2)(x, x),
     RuntimeError, "Got argnum=2, but only 2 positional inputs"),
    ("argnums empty", lambda L, x: L.func.grad(lambda a: a.sum(), argnums=())(x),
     RuntimeError, "argnums must be non-empty"),
    ("argnums duplicate", lambda L, x: L.func.grad(lambda a: a.sum(), argnums=(0, 0))(x),
     RuntimeError, "must be unique"),
    ("argnums float", lambda L, x: L.func.grad(lambda a: a.sum(), argnums=1.0)(x),
     RuntimeError, "argnums must be int or Tuple"),
    ("non-tensor input", lambda L, x: L.func.grad(lambda a: a * 2)(3.0),
     ValueError, "Thing passed to transform API must be Tensor"),
    ("integer input", lambda L, x: L.func.grad(lambda a: a.sum())(L.arange(3)), RuntimeError, "floating point"),
    ("vjp shape", lambda L, x: L.func.vjp(lambda a: a * 2, x)[1](L.ones(2, dtype=L.float64)),
     RuntimeError, "Mismatch in shape: grad_output\\[0\\]"),
    ("vjp structure", lambda L, x: L.func.vjp(lambda a: (a, a), x)[1]((x,)),
     RuntimeError, "pytree structure of cotangents"),
    ("vjp non-tensor", lambda L, x: L.func.vjp(lambda a: 3, x), RuntimeError, "to return only tensors"),
    ("jvp primals", lambda L, x: L.func.jvp(lambda a: a, x, x), RuntimeError, "Expected primals to be a tuple"),
    ("jvp structure", lambda L, x: L.func.jvp(lambda a: a, (x,), [x]), RuntimeError, "same python structure"),
    ("jvp tangent size", lambda L, x: L.func.jvp(lambda a: a, (x,), (x[:2],)), RuntimeError, "different size"),
    ("jacrev chunk", lambda L, x: L.func.jacrev(lambda a: a, chunk_size=0)(x),
     ValueError, "`chunk_size` should be greater than 0"),
    ("vmap sizes", lambda L, x: L.vmap(lambda a, b: a)(L.ones(2, 3), L.ones(3, 3)),
     ValueError, "same size in the mapped dimension, got sizes \\[2, 3\\]"),
    ("vmap in_dim", lambda L, x: L.vmap(lambda a: a, in_dims=2)(L.ones(2, 3)),
     ValueError, "expected in_dim to satisfy -2 <= in_dim < 2"),
    ("vmap none mapped", lambda L, x: L.vmap(lambda a: a, in_dims=(None,))(x),
     ValueError, "Expected at least one Tensor to vmap over"),
    ("vmap in_dims type", lambda L, x: L.vmap(lambda a: a, in_dims=None)(x),
     ValueError, "expected `in_dims` to be int"),
    ("vmap in_dims structure", lambda L, x: L.vmap(lambda a, b: a, in_dims=(0,))(x, x),
     ValueError, "in_dims is not compatible"),
    ("vmap non-tensor in", lambda L, x: L.vmap(lambda a, b: a, in_dims=(0, 0))(x, 3.0),
     ValueError, "We cannot vmap over non-Tensor"),
    ("vmap non-tensor out", lambda L, x: L.vmap(lambda a: 3)(x), ValueError, "must only return Tensors"),
    ("vmap out_dims structure", lambda L, x: L.vmap(lambda a: (a, a), out_dims=(0, 0, 0))(x),
     ValueError, "out_dims is not compatible"),
    ("vmap out_dim range", lambda L, x: L.vmap(lambda a: a, out_dims=3)(L.ones(2, 3)),
     IndexError, "Dimension out of range"),
    ("vmap no inputs", lambda L, x: L.vmap(lambda: L.ones(2))(), ValueError, "got no inputs"),
    ("vmap chunk", lambda L, x: L.vmap(lambda a: a, chunk_size=0)(x),
     ValueError, "chunk_size should be None or greater than 0"),
    ("stack none", lambda L, x: L.func.stack_module_state([]), RuntimeError, "Expected at least one model"),
    ("stack classes", lambda L, x: L.func.stack_module_state([L.nn.Linear(2, 2), L.nn.Tanh()]),
     RuntimeError, "same class"),
    ("stack modes", lambda L, x: L.func.stack_module_state([L.nn.Linear(2, 2), L.nn.Linear(2, 2).eval()]),
     RuntimeError, "training/eval mode"),
]


@pytest.mark.parametrize("case", ERRORS, ids=[c[0] for c in ERRORS])
def test_errors_as_torch(case):
    _, fn, kind, message = case
    for lib in (torch, ts):
        with pytest.raises(kind, match=message):
            fn(lib, _t(lib, X3))


def test_unsupported_transforms_say_so():
    with pytest.raises(NotImplementedError, match="functionalize"):
        ts.func.functionalize(lambda x: x)
    assert ts.vmap is ts.func.vmap
