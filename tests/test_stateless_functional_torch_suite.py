"""Cases from porting PyTorch's own test/autograd/test_functional.py and test/test_stateless.py,
each compared with torch 2.13 in the same process: a tensor made by nn.Buffer assigned to a
second attribute (registered under both names, as torch's, so functional_call's tie_weights,
"multiple values" and strict "Missing key(s)" follow), torch's shape errors of linear / mm /
matmul / bmm / dot and of a linear bias of the wrong size, autograd.functional.jacobian /
hessian with zero-element outputs and with strategy="forward-mode", and the messages of
integer tensors asked to require grad."""
import itertools
import re

import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")


def _error(fn):
    """(type name, message) of what fn raises; ("OK", shape) when it returns a tensor."""
    try:
        out = fn()
    except Exception as e:   # noqa: BLE001  (any error is compared with torch's)
        return "error", str(e)
    return "OK", tuple(out.shape)


# ------------------------------------------------------------------ 1. nn.Buffer tied to two names
def _tied_module(T):
    class MockTiedModule(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.l1 = T.nn.Linear(1, 1)
            self.tied_bias = self.l1.bias
            self.buffer = T.nn.Buffer(T.ones(1))
            self.tied_buffer = self.buffer

        def forward(self, x):
            return self.l1(x) + self.tied_bias + self.buffer + self.tied_buffer
    return MockTiedModule()


def test_reassigned_buffer_is_registered():
    names_t = [n for n, _ in _tied_module(torch).named_buffers(remove_duplicate=False)]
    names_s = [n for n, _ in _tied_module(ts).named_buffers(remove_duplicate=False)]
    assert names_t == ["buffer", "tied_buffer"]
    assert names_s == names_t
    assert list(_tied_module(ts).state_dict()) == list(_tied_module(torch).state_dict())
    m = _tied_module(ts)
    assert m.tied_buffer is m.buffer and type(m.buffer) is ts.Tensor and isinstance(m.buffer, ts.nn.Buffer)


def test_reassigned_non_persistent_buffer_stays_non_persistent():
    for T in (torch, ts):
        m = T.nn.Module()
        m.a = T.nn.Buffer(T.ones(2), persistent=False)
        m.b = m.a
        assert [n for n, _ in m.named_buffers(remove_duplicate=False)] == ["a", "b"]
        assert list(m.state_dict()) == []


def test_plain_tensor_assigned_is_not_a_buffer():
    for T in (torch, ts):
        m = T.nn.Module()
        m.t = T.ones(2)
        assert list(m.named_buffers()) == []


def test_reassigned_buffer_over_a_plain_attribute_raises_as_torch():
    msgs = []
    for T in (torch, ts):
        m = T.nn.Module()
        m.a = T.nn.Buffer(T.ones(2))
        object.__setattr__(m, "plain", 1)
        with pytest.raises(KeyError) as ei:
            m.plain = m.a
        msgs.append(str(ei.value))
    assert msgs[1] == msgs[0]


def test_functional_call_tie_weights_reassigned_buffer_value():
    # torch's test_reparametrize_tie_weights: out == x*w + b + b + buf + buf
    outs = []
    for T in (torch, ts):
        m = _tied_module(T)
        params = {"l1.weight": T.tensor([[2.0]]), "l1.bias": T.tensor([5.0]), "buffer": T.tensor([3.0])}
        out = T.func.functional_call(m, params, T.tensor([[0.5]]), tie_weights=True)
        outs.append(float(out.detach().numpy().ravel()[0]))
    assert outs[0] == pytest.approx(1.0 + 5 + 5 + 3 + 3)
    assert outs[1] == pytest.approx(outs[0])


def test_functional_call_tied_buffer_multiple_values_error():
    for T in (torch, ts):
        m = _tied_module(T)
        params = {"l1.weight": T.tensor([[1.0]]), "l1.bias": T.tensor([0.0]), "buffer": T.tensor([0.0]),
                  "tied_buffer": T.tensor([5.0])}
        with pytest.raises(ValueError, match=re.escape("functional_call got multiple values for keys "
                                                       "['buffer', 'tied_buffer']")):
            T.func.functional_call(m, params, T.ones(1, 1), tie_weights=True)


def test_functional_call_strict_missing_tied_buffer():
    msgs = []
    for T in (torch, ts):
        m = _tied_module(T)
        params = {"l1.weight": T.tensor([[1.0]]), "l1.bias": T.tensor([0.0]), "buffer": T.tensor([0.0])}
        with pytest.raises(RuntimeError) as ei:
            T.func.functional_call(m, params, T.ones(1, 1), tie_weights=False, strict=True)
        msgs.append(str(ei.value))
    assert "Missing key(s): 'tied_bias', 'tied_buffer'." in msgs[0]
    assert msgs[1] == msgs[0]


# ------------------------------------------------------------------ 2. product shape errors
def test_linear_shape_mismatch_message():
    with pytest.raises(RuntimeError, match=re.escape("mat1 and mat2 shapes cannot be multiplied (4x5 and 1x1)")):
        torch.nn.functional.linear(torch.ones(4, 5), torch.ones(1, 1))
    with pytest.raises(RuntimeError, match=re.escape("mat1 and mat2 shapes cannot be multiplied (4x5 and 1x1)")):
        ts.nn.functional.linear(ts.ones(4, 5), ts.ones(1, 1))


def test_mm_shape_mismatch_message():
    with pytest.raises(RuntimeError, match=re.escape("mat1 and mat2 shapes cannot be multiplied (4x5 and 1x1)")):
        torch.mm(torch.ones(4, 5), torch.ones(1, 1))
    with pytest.raises(RuntimeError, match=re.escape("mat1 and mat2 shapes cannot be multiplied (4x5 and 1x1)")):
        ts.mm(ts.ones(4, 5), ts.ones(1, 1))


_SHAPES = [(), (5,), (3,), (4, 5), (1, 3), (2, 4, 5), (2, 1, 3), (2, 7, 3), (3, 5, 3), (2, 3, 4, 5), (2, 1, 6, 3)]


@pytest.mark.parametrize("op", ["matmul", "mm", "bmm", "dot"])
def test_product_shape_errors_as_torch(op):
    # every pair of shapes, operands requiring grad or not, contiguous or transposed: torch picks
    # dot / mv / mm / bmm (folding a >= 3-D operand when it can) and the error is that kernel's
    for a, b in itertools.product(_SHAPES, _SHAPES):
        for rga, rgb, tr in itertools.product((False, True), (False, True), (False, True)):
            def make(T, shape, rg):
                x = T.ones(*shape) if shape else T.ones(())
                x = x.transpose(0, 1) if tr and len(shape) >= 3 else x
                return x.requires_grad_(rg)
            theirs = _error(lambda: getattr(torch, op)(make(torch, a, rga), make(torch, b, rgb)))
            ours = _error(lambda: getattr(ts, op)(make(ts, a, rga), make(ts, b, rgb)))
            assert ours == theirs, (op, a, b, rga, rgb, tr)


def test_product_shape_error_is_a_runtime_error():
    with pytest.raises(RuntimeError, match=re.escape("size mismatch, got input (4), mat (4x5), vec (3)")):
        ts.ones(4, 5) @ ts.ones(3)
    with pytest.raises(ValueError):   # the library's ShapeMismatch is both
        ts.ones(4, 5) @ ts.ones(3)


# ------------------------------------------------------------------ 3. linear's weight and bias
@pytest.mark.parametrize("xs,ws,bs", [((4, 3), (3, 3), (2,)), ((3,), (3, 3), (2,)), ((4, 3), (2, 3), (3, 2))])
def test_linear_bad_bias_raises_runtime_error(xs, ws, bs):
    with pytest.raises(RuntimeError) as et:
        torch.nn.functional.linear(torch.ones(*xs), torch.ones(*ws), torch.ones(*bs))
    with pytest.raises(RuntimeError) as es:
        ts.nn.functional.linear(ts.ones(*xs), ts.ones(*ws), ts.ones(*bs))
    assert "The expanded size of the tensor" in str(et.value)
    assert str(es.value) == str(et.value)


def test_functional_call_linear_bad_bias_raises_runtime_error():
    msgs = []
    for T in (torch, ts):
        m = T.nn.Linear(3, 3)
        with pytest.raises(RuntimeError) as ei:
            T.func.functional_call(m, {"bias": T.ones(2)}, (T.ones(4, 3),))
        msgs.append(str(ei.value))
    assert msgs[1] == msgs[0]


_X = [(), (3,), (4, 3), (5, 4, 3), (2, 2, 4, 3), (4, 5)]
_W = [(), (2, 3), (1, 1), (2, 2, 3)]
# biases torch handles alike on all its paths (1-D, 0-d, and any bias of a 2-D input)
_B = [None, (), (1,), (2,), (3,), (1, 1), (1, 2), (4, 2), (3, 2), (1, 4, 2)]


def test_linear_shapes_and_errors_as_torch():
    for xs, ws, bs in itertools.product(_X, _W, _B):
        if bs is not None and len(bs) >= 2 and len(xs) != 2:
            continue
        for tr in ((False, True) if len(xs) >= 3 else (False,)):
            def call(T):
                x = T.ones(*xs) if xs else T.ones(())
                x = x.transpose(0, 1) if tr else x
                w = T.ones(*ws) if ws else T.ones(())
                b = None if bs is None else (T.ones(*bs) if bs else T.ones(()))
                return T.nn.functional.linear(x, w, b)
            assert _error(lambda: call(ts)) == _error(lambda: call(torch)), (xs, ws, bs, tr)


def test_linear_expandable_bias_values_and_grads():
    rng = np.random.RandomState(0)
    x, w, b = rng.randn(4, 3), rng.randn(2, 3), rng.randn(4, 2)
    res = []
    for T in (torch, ts):
        tx, tw, tb = (T.tensor(a, requires_grad=True) for a in (x, w, b))
        out = T.nn.functional.linear(tx, tw, tb)
        (out * out).sum().backward()
        res.append([out.detach().numpy(), tx.grad.numpy(), tw.grad.numpy(), tb.grad.numpy()])
    for theirs, ours in zip(*res):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-8)


def test_nn_linear_wrong_features_message():
    msgs = [_error(lambda: T.nn.Linear(5, 3)(T.ones(4, 2))) for T in (torch, ts)]
    assert msgs[1] == msgs[0] == ("error", "mat1 and mat2 shapes cannot be multiplied (4x2 and 5x3)")


# ------------------------------------------------------------------ 4. jacobian of zero-element tensors
@pytest.mark.parametrize("case", ["empty_out", "empty_in", "hessian_empty_in"])
def test_jacobian_zero_element_raises(case):
    for T in (torch, ts):
        AF = T.autograd.functional
        x = T.tensor([0.0, 1.0, 2.0])
        with pytest.raises(RuntimeError, match="stack expects a non-empty TensorList"):
            if case == "empty_out":
                AF.jacobian(lambda a: a[:0], x)
            elif case == "empty_in":
                AF.jacobian(lambda a: a * 2, x[:0])
            else:
                AF.hessian(lambda a: a.sum(), x[:0])


def test_jacobian_zero_element_vectorized_as_torch():
    for fn, inp, strategy in [(lambda a: (a.sum(), a[:0]), "x", "reverse-mode"), (lambda a: a[:0], "x", "reverse-mode"),
                              (lambda a: a[:0], "x", "forward-mode"), (lambda a: a * 2, "empty", "forward-mode")]:
        got = []
        for T in (torch, ts):
            x = T.tensor([0.0, 1.0, 2.0])
            x = x if inp == "x" else x[:0]
            try:
                r = T.autograd.functional.jacobian(fn, x, vectorize=True, strategy=strategy)
                got.append([tuple(e.shape) for e in r] if isinstance(r, tuple) else tuple(r.shape))
            except IndexError as e:
                got.append(str(e))
        assert got[1] == got[0]
    shapes = [tuple(T.autograd.functional.hessian(lambda a: a.sum(), T.ones(3)[:0], vectorize=True).shape)
              for T in (torch, ts)]
    assert shapes[1] == shapes[0] == (0, 0)


# ------------------------------------------------------------------ 5. jacobian(strategy="forward-mode")
def _describe(r):
    if isinstance(r, (tuple, list)):
        return type(r).__name__, [_describe(e) for e in r]
    return str(r.dtype).replace("torch.", ""), tuple(r.shape)


def test_jacobian_forward_mode_containers_and_dtypes():
    fns = [(lambda a, b: (a.sum(), (a * b).double()), 2), (lambda a: (a.sum(), a.double()), 1),
           (lambda a: (a.sum(), a.double()), "tuple1"), (lambda a, b: (a * b).double(), 2),
           (lambda a: a.double() * 2, 1), (lambda a: a.double() * 2, "tuple1")]
    for strategy in ("forward-mode", "reverse-mode"):
        for fn, n in fns:
            got = []
            for T in (torch, ts):
                x, y = T.tensor([1.0, 2.0, 3.0]), T.tensor([0.5, -1.0, 2.0])
                inputs = (x, y) if n == 2 else (x,) if n == "tuple1" else x
                got.append(_describe(T.autograd.functional.jacobian(fn, inputs, strategy=strategy, vectorize=True)))
            assert got[1] == got[0], (strategy, n)


def test_jacobian_forward_mode_values():
    vals = []
    for T in (torch, ts):
        x, y = T.tensor([1.0, 2.0, 3.0]), T.tensor([0.5, -1.0, 2.0])
        r = T.autograd.functional.jacobian(lambda a, b: (a.sum(), a * b), (x, y), strategy="forward-mode",
                                           vectorize=True)
        vals.append([[e.numpy() for e in row] for row in r])
    for row_t, row_s in zip(*vals):
        for t, s in zip(row_t, row_s):
            np.testing.assert_allclose(s, t)


# ------------------------------------------------------------------ 6. integer tensors requiring grad
_INT_REQUIRES_GRAD = {
    "requires_grad_": lambda T: T.tensor([1, 2]).requires_grad_(),
    "tensor": lambda T: T.tensor([1, 2], requires_grad=True),
    "bool_tensor": lambda T: T.tensor([True], requires_grad=True),
    "parameter": lambda T: T.nn.Parameter(T.tensor([1, 2])),
    "zeros_long": lambda T: T.zeros(2, dtype=T.long, requires_grad=True),
    "ones_long": lambda T: T.ones(2, dtype=T.long, requires_grad=True),
    "arange": lambda T: T.arange(3, requires_grad=True),
    "full": lambda T: T.full((2,), 3, requires_grad=True),
    "empty_int32": lambda T: T.empty(2, dtype=T.int32, requires_grad=True),
    "randint": lambda T: T.randint(0, 3, (2,), requires_grad=True),
    "zeros_like": lambda T: T.zeros_like(T.tensor([1]), requires_grad=True),
    "jacobian": lambda T: T.autograd.functional.jacobian(lambda a: a * 2, T.tensor([1, 2, 3])),
}


@pytest.mark.parametrize("name", list(_INT_REQUIRES_GRAD))
def test_int_requires_grad_message(name):
    msgs = []
    for T in (torch, ts):
        with pytest.raises(RuntimeError) as ei:
            _INT_REQUIRES_GRAD[name](T)
        msgs.append(str(ei.value))
    assert msgs[1] == msgs[0]
    assert msgs[0] in ("only Tensors of floating point dtype can require gradients",
                       "Only Tensors of floating point and complex dtype can require gradients")


def test_int_parameter_without_grad_is_fine():
    p = ts.nn.Parameter(ts.tensor([1, 2]), requires_grad=False)
    assert not p.requires_grad and p.dtype == np.int64
