"""grad_fn names of composite ops against torch 2.13's, compared live (repr's grad_fn=<...> and
grad_fn.name()): the ops built here from several engine ops name their last node torch's
(grad_fn_names.named), and the in-place forms (copy_, F.relu(inplace=True), addcmul_, index_put_,
scatter_ ...) name the node of their write. From a printing audit's findings; the renamed paths
keep torch's gradients."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import tinygrad_seq as ts  # noqa: E402

# the audit's 31 forms: the whole repr (values and grad_fn=<...>) must be torch's
REPR_CASES = [
    "F.relu(x.clone(), inplace=True)",
    "x.clone().copy_(y)",
    "x.addcmul(x, y)",
    "x.clone().addcmul_(x, y)",
    "x.addcdiv(x, y.abs() + 1)",
    "x.fmod(2.)",
    "x.remainder(2.)",
    "x.nan_to_num()",
    "x[0].diag()",
    "x.scatter(1, T.tensor([[0], [1]]), 1.)",
    "x.clone().scatter_(1, T.tensor([[0], [1]]), 1.)",
    "x.scatter_add(1, T.tensor([[0], [1]]), y[:, :1])",
    "x.index_add(0, T.tensor([0]), y[:1])",
    "x.index_fill(1, T.tensor([0]), 0.)",
    "x.clone().index_put_((T.tensor([0]),), T.tensor(1.))",
    "x.take(T.tensor([0, 3]))",
    "x.as_strided((2, 2), (1, 1))",
    "x.repeat_interleave(2, 0)",
    "x.unfold(1, 2, 1)",
    "x.cross(y, dim=1)",
    "x.kron(y)",
    "x.dist(y)",
    "x.renorm(2, 0, 1.)",
    "x.deg2rad()",
    "T.inner(x, y)",
    "T.cdist(x, y)",
    "T.block_diag(x, y)",
    "F.pairwise_distance(x, y)",
    "F.group_norm(x.unsqueeze(-1), 1)",
    "F.instance_norm(x.unsqueeze(0))",
    "F.multi_margin_loss(x, T.tensor([0, 1]))",
]

# the same functions' other forms: grad_fn.name() must be torch's
NAME_CASES = [
    "x.clone().copy_(T.tensor(1.))",                     # a broadcast source
    "T.zeros(2, 3).copy_(y)",                            # only the source requires grad
    "x.clone().addcdiv_(x, y)",
    "x.addcmul(x, y, value=2)",
    "x % 2.", "x % y", "x.fmod(y)", "x.clone().fmod_(2.)", "x.clone().remainder_(2.)",
    "x.scatter(1, T.tensor([[0], [1]]), y)",
    "x.index_copy(0, T.tensor([0]), y[:1])",
    "x.clone().index_add_(0, T.tensor([0]), y[:1])",
    "x.clone().index_fill_(1, T.tensor([0]), 0.)",
    "x.index_fill(1, T.tensor([0]), T.tensor(0.))",
    "x.clone().index_put_((T.tensor([0]),), T.tensor(1.), accumulate=True)",
    "x[0].diag(1)", "x.take(T.tensor(0))", "x.as_strided((2,), (2,), 1)",
    "x.nan_to_num(1.)", "x.double().nan_to_num()", "x.rad2deg()",
    "x.dist(y, 1)", "x.dist(y, 0)", "x.dist(y, float('inf'))",
    "T.cdist(x, y, p=1)", "T.cdist(x, y, p=0)", "T.cdist(x.unsqueeze(0), y.unsqueeze(0))",
    "F.pairwise_distance(x, y, 1)", "F.pairwise_distance(x, y, keepdim=True)", "F.pairwise_distance(x[0], y[0])",
    "T.inner(x, y[0])", "T.inner(x[0], y[0])", "T.inner(x.unsqueeze(0), y)",
    "x.kron(y[0])", "x[0].kron(y[0])", "T.linalg.cross(x, y)",
    "T.block_diag(x)", "T.block_diag(x, y[0])", "T.block_diag(x[0])",
    "x.unfold(0, 1, 1)", "x[0].unfold(0, 2, 1)", "x.renorm(1, 1, 1.)",
    "F.group_norm(x.unsqueeze(-1), 1, T.ones(3), T.zeros(3))", "F.group_norm(x.unsqueeze(-1), 3)",
    "F.instance_norm(x.unsqueeze(0), weight=T.ones(2), bias=T.zeros(2))",
    "F.instance_norm(x.unsqueeze(0), T.zeros(2), T.ones(2))",
    "F.multi_margin_loss(x, T.tensor([0, 1]), reduction='none')",
    "F.multi_margin_loss(x, T.tensor([0, 1]), reduction='sum')",
    "F.multi_margin_loss(x, T.tensor([0, 1]), p=2)", "F.multi_margin_loss(x[0], T.tensor(0))",
    # the in-place activations: the node of the function, Backward1 where torch's in-place form has its own
    "F.leaky_relu(x.clone(), inplace=True)", "F.elu(x.clone(), inplace=True)", "F.celu(x.clone(), inplace=True)",
    "F.selu(x.clone(), inplace=True)", "F.hardtanh(x.clone(), inplace=True)", "F.relu6(x.clone(), inplace=True)",
    "F.threshold(x.clone(), 0., 1., inplace=True)", "F.silu(x.clone(), inplace=True)",
    "F.rrelu(x.clone(), inplace=True)", "F.dropout(x.clone(), inplace=True)", "F.relu_(x.clone())",
    "F.elu_(x.clone())", "F.threshold_(x.clone(), 0., 1.)",
]


def _eval(T, expr):
    x = T.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], requires_grad=True)
    y = T.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.125]], requires_grad=True)
    return eval(expr, {"T": T, "F": T.nn.functional, "x": x, "y": y}), x, y


@pytest.mark.parametrize("expr", REPR_CASES)
def test_repr_and_grad_fn_are_torchs(expr):
    want, got = _eval(torch, expr)[0], _eval(ts, expr)[0]
    assert repr(got) == repr(want)
    assert got.grad_fn.name() == want.grad_fn.name()


@pytest.mark.parametrize("expr", NAME_CASES)
def test_grad_fn_name_is_torchs(expr):
    assert _eval(ts, expr)[0].grad_fn.name() == _eval(torch, expr)[0].grad_fn.name()


def test_printed_copy_node_is_torchs():
    want, got = _eval(torch, "x.clone().copy_(y)")[0], _eval(ts, "x.clone().copy_(y)")[0]
    assert want.grad_fn.name() == got.grad_fn.name() == "torch::autograd::CopyBackwards"
    assert repr(got.grad_fn).startswith(f"<{type(want.grad_fn).__name__} object at 0x")


@pytest.mark.parametrize("expr", [
    "F.relu(x.clone(), inplace=True)", "x.clone().copy_(y)", "x.clone().addcmul_(x, y)",
    "x.clone().addcdiv_(x, y.abs() + 1)", "x.fmod(2.)", "x.remainder(y.abs() + 1)",
    "x.clone().scatter_(1, T.tensor([[0], [1]]), 1.)", "x.scatter_add(1, T.tensor([[0], [1]]), y[:, :1])",
    "x.index_add(0, T.tensor([0]), y[:1], alpha=2)", "x.index_copy(0, T.tensor([1]), y[:1])",
    "x.index_fill(1, T.tensor([0]), 0.)", "x.clone().index_put_((T.tensor([0, 0]),), y[0], accumulate=True)",
    "x.clone().index_put_((T.tensor([1]),), y[0])", "x[0].diag(1)", "x.nan_to_num()",
    "F.leaky_relu(x.clone(), 0.2, inplace=True)", "T.cdist(x, y)", "F.multi_margin_loss(x, T.tensor([0, 2]))",
])
def test_renamed_paths_keep_torchs_values_and_gradients(expr):
    res = []
    for T in (torch, ts):
        out, x, y = _eval(T, expr)
        w = T.tensor(np.arange(1, out.numel() + 1, dtype=np.float32).reshape(tuple(out.shape)))
        (out * w).sum().backward()
        res.append([out.detach().numpy(), x.grad.numpy(), None if y.grad is None else y.grad.numpy()])
    for want, got in zip(*res):
        if want is None:
            assert got is None
        else:
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_in_place_activation_on_a_view_keeps_the_view_node():
    # the write into a view is its base's node (torch's CopySlices); the view's node views the
    # base again (torch's AsStridedBackward0) and is not renamed to the activation's
    base = ts.tensor([[0.5, -1.0], [2.0, -3.0]], requires_grad=True).clone()
    v = base[0]
    ts.nn.functional.relu(v, inplace=True)
    assert v.grad_fn.name() == "AsStridedBackward0"
    assert base.grad_fn.name() == "torch::autograd::CopySlices"
    base.sum().backward()
