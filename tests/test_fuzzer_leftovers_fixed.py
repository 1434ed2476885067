"""The op-chain fuzzer's leftovers of 2026-12-05 and two test_autograd.py findings, fixed: max()'s
evenly-distributed backward, max(dim)'s select, the Tensor-only binary ops, reshape() without a
shape, d(0 ** b)/db and gathers with a 0-d operand; each run on torch beside this library."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
import tinygrad_seq as ts  # noqa: E402

from torch_compare import on_both  # noqa: E402

INF, NAN = float("inf"), float("nan")


def _grad_of(M, values, fn, upstream):
    x = M.tensor(values, requires_grad=True)
    y = fn(x)
    y.backward(M.full_like(y, upstream))
    return np.array(x.grad.tolist())


@pytest.mark.parametrize("values, fn", [
    ([1., NAN, 3.], lambda x: x.max()),              # a nan maximum: the gradient goes to the nan
    ([1., NAN, 3.], lambda x: x.min()),
    ([1., 3., 3.], lambda x: x.max()),               # ties share it
    ([1., NAN, 3.], lambda x: x.amax()),             # amax multiplies by its mask: nan everywhere
    ([1., NAN, 3.], lambda x: x.max(0)[0]),
    ([[1., 3.], [4., 2.]], lambda x: x.max(1)[0]),
    ([[1., 3.], [4., 2.]], lambda x: x.min(0)[0]),
    ([1., 3., 3.], lambda x: x.amax(0)),
])
@pytest.mark.parametrize("upstream", [INF, 2.0])
def test_max_backward_with_inf_gradients_and_nan_inputs_is_torchs(values, fn, upstream):
    ours, theirs = (_grad_of(M, values, fn, upstream) for M in (ts, torch))
    np.testing.assert_array_equal(ours, theirs)


def test_max_double_backward_is_torchs():
    def run(M):
        out = []
        for fn in (lambda x: x.max(), lambda x: x.max(0)[0].sum(), lambda x: x.min()):
            x = M.tensor([[1., 3.], [3., 2.], [0.5, 3.]], dtype=M.float64, requires_grad=True)
            g, = M.autograd.grad(fn(x * x) ** 2, x, create_graph=True)
            g2, = M.autograd.grad(g.sum(), x)
            out.append((np.array(g.tolist()), np.array(g2.tolist())))
        return out
    for (a, b), (c, d) in zip(run(ts), run(torch)):
        np.testing.assert_allclose(a, c)
        np.testing.assert_allclose(b, d)


@pytest.mark.parametrize("call", [
    lambda M: M.tensor([1., 5.]).maximum(2),
    lambda M: M.tensor([1., 5.]).minimum(2.),
    lambda M: M.remainder(5, 2),
    lambda M: M.xlogy(2, 3),
    lambda M: M.bitwise_and(5, 3),
    lambda M: M.tensor([1.]).reshape(),
    lambda M: M.reshape(M.tensor([1., 2.])),
])
def test_calls_torch_refuses_with_a_type_error(call):
    assert on_both(call) == [TypeError, TypeError]


@pytest.mark.parametrize("call", [
    lambda M: M.floor_divide(5, 2),
    lambda M: M.true_divide(5, 2),
    lambda M: M.remainder(5, M.tensor([2, 3])),
    lambda M: M.bitwise_and(5, M.tensor([4])),
    lambda M: M.tensor([1., 5.]).maximum(M.tensor(3.)),
    lambda M: M.tensor([1.]).reshape(()),
    lambda M: M.tensor([1.]).reshape([]),
])
def test_calls_torch_takes_still_work(call):
    ours, theirs = on_both(call)
    assert not isinstance(ours, type), ours
    np.testing.assert_array_equal(np.array(ours.tolist()), np.array(theirs.tolist()))


@pytest.mark.parametrize("base", [0.0, -0.0, 2.0, -2.0])
def test_pow_exponent_gradient_at_a_zero_base_is_torchs(base):
    def grad(M):
        b = M.tensor([-1., 0., 1., 2., -0.5], requires_grad=True)
        (M.tensor(base) ** b).sum().backward()
        return np.array(b.grad.tolist())
    np.testing.assert_array_equal(grad(ts), grad(torch))


def test_gather_with_one_zero_dim_operand_is_torchs():
    def run(M):
        x = M.arange(1., 11.).requires_grad_()
        y = M.tensor(3., requires_grad=True)
        a = M.gather(x, 0, M.tensor(4))                    # 1-d input, 0-d index: a 0-d result
        b = M.gather(y, 0, M.zeros(2, dtype=M.int64))      # 0-d input, [2] index: [2]
        (a + b.sum()).backward()
        return [a.tolist(), b.tolist(), x.grad.tolist(), y.grad.tolist(), tuple(a.shape), tuple(b.shape)]
    assert run(ts) == run(torch)


@pytest.mark.parametrize("make", [
    lambda M, a: M.nn.functional.leaky_relu(a, -2.0, inplace=True),
    lambda M, a: M.nn.LeakyReLU(-2.0, inplace=True)(a),
])
def test_in_place_leaky_relu_with_a_negative_slope_refuses_backward_as_torch(make):
    def run(M):
        x = M.tensor([1., -1.], requires_grad=True)
        y = make(M, x.clone())
        with pytest.raises(RuntimeError, match="negative slope"):
            y.sum().backward()
        return y.tolist()
    assert run(ts) == run(torch)


@pytest.mark.parametrize("index", [lambda M, x: [1, 1], lambda M, x: M.tensor([0, 2]), lambda M, x: x > 0,
                                   lambda M, x: slice(1, None)])
def test_second_backward_through_an_index_is_torchs(index):
    """An advanced index's node saves its indices (a second backward without retain_graph raises);
    a slice's saves nothing (it runs again)."""
    def run(M):
        x = M.tensor([1., -1., 3.], requires_grad=True)
        y = x[index(M, x)].sum()
        y.backward()
        try:
            y.backward()
        except RuntimeError:
            return "raised"
        return x.grad.tolist()
    assert run(ts) == run(torch)


def test_xlogy_of_a_number_and_an_integer_tensor_keeps_the_numbers_value():
    def run(M):
        u = M.tensor([1, 2, 3], dtype=M.uint8)
        return [(str(r.dtype).replace("torch.", ""), r.tolist())
                for r in (M.xlogy(-2, u), M.xlogy(2.5, u), M.xlogy(3, M.tensor([1, 2])))]
    assert run(ts) == run(torch)


def test_bitwise_not_of_floats_raises_torchs_types():
    for M in (torch, ts):
        with pytest.raises(NotImplementedError):
            M.bitwise_not(M.tensor([1.]))
        with pytest.raises(TypeError):
            ~M.tensor([1.])
