"""torch's keyword names and forms, each called on both libraries: size=/shape=/dims= on the
shape methods and creators, other=/input=/mat2=/exponent= on the arithmetic, numpy's axis= on
the reductions and cat, dim=() on sum and mean, and the optimizers' implementation keywords."""
import numpy as np
import pytest

import tinygrad_seq as ts
import tinygrad_seq.functional as F
from tinygrad_seq import optim

torch = pytest.importorskip("torch")
TF = torch.nn.functional

CALLS = {
    "ones_size": lambda L, t: L.ones(size=(2, 3)),
    "zeros_size": lambda L, t: L.zeros(size=[4]),
    "flip_dims": lambda L, t: t.flip(dims=[0]),
    "permute_dims": lambda L, t: t.permute(dims=(1, 0)),
    "expand_size": lambda L, t: t[0:1].expand(size=(4, 3)),
    "reshape_shape": lambda L, t: t.reshape(shape=(3, 2)),
    "view_size": lambda L, t: t.view(size=(6,)),
    "split_size": lambda L, t: t.split(split_size=1)[1],
    "add_other": lambda L, t: t.add(other=t, alpha=2),
    "sub_other": lambda L, t: t.sub(other=t * 3),
    "mul_other": lambda L, t: t.mul(other=2.0),
    "div_other": lambda L, t: t.div(other=2.0, rounding_mode="floor"),
    "pow_exponent": lambda L, t: t.pow(exponent=2),
    "mm_mat2": lambda L, t: t.mm(mat2=t.T),
    "matmul_fn": lambda L, t: L.matmul(input=t, other=t.T),
    "linear_input": lambda L, t: (F if L is ts else TF).linear(input=t, weight=L.ones(4, 3)),
    "dropout_input": lambda L, t: (F if L is ts else TF).dropout(input=t, p=0.3, training=False),
    "sum_axis": lambda L, t: t.sum(axis=0),
    "mean_axis": lambda L, t: t.mean(axis=1),
    "max_axis": lambda L, t: t.max(axis=0).values,
    "cat_axis": lambda L, t: L.cat([t, t], axis=1),
    "sum_no_dims": lambda L, t: t.sum(dim=()),
    "min_dim_indices": lambda L, t: t.min(0).indices,
}


@pytest.mark.parametrize("name", list(CALLS))
def test_torch_keyword_forms(name):
    data = np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5
    ours = CALLS[name](ts, ts.tensor(data))
    theirs = CALLS[name](torch, torch.tensor(data))
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_min_along_a_dim_is_a_min_result():
    # torch.return_types.min / max, named as torch names them
    assert type(ts.ones(2, 3).min(0)).__name__ == type(torch.ones(2, 3).min(0)).__name__ == "min"
    assert type(ts.ones(2, 3).max(0)).__name__ == type(torch.ones(2, 3).max(0)).__name__ == "max"


def test_creators_refuse_a_shape_given_twice():
    with pytest.raises(TypeError, match="size="):
        ts.ones(2, size=(2, 3))


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_optimizers_take_and_keep_torchs_implementation_keywords(name):
    ours_p, theirs_p = [ts.nn.Parameter(ts.ones(2))], [torch.nn.Parameter(torch.ones(2))]
    ours = getattr(optim, name)(ours_p, lr=0.1)
    theirs = getattr(torch.optim, name)(theirs_p, lr=0.1)
    assert sorted(ours.defaults) == sorted(theirs.defaults)
    assert sorted(ours.param_groups[0]) == sorted(theirs.param_groups[0])
    ours = getattr(optim, name)(ours_p, lr=0.1, foreach=False)
    assert ours.param_groups[0]["foreach"] is False
    if name == "SGD":   # SGD's differentiable step is torch's (optim/sgd_differentiable.py)
        assert getattr(optim, name)(ours_p, lr=0.1, differentiable=True).defaults["differentiable"] is True
    else:
        with pytest.raises(ValueError, match="differentiable=True"):
            getattr(optim, name)(ours_p, lr=0.1, differentiable=True)
    with pytest.raises(TypeError, match="bogus"):
        getattr(optim, name)(ours_p, lr=0.1, bogus=1)


def test_an_empty_index_list_selects_no_rows_as_torch():
    t = ts.ones(4, 3, requires_grad=True)
    assert t[[]].shape == tuple(torch.ones(4, 3)[[]].shape) == (0, 3)
    (t[[]].sum() + t[[1]].sum()).backward()
    np.testing.assert_array_equal(t.grad.numpy().sum(1), [0, 3, 0, 0])


def test_is_contiguous_tells_the_layout_and_contiguous_copies_only_then():
    data = np.arange(6.0).reshape(2, 3)
    ours, theirs = ts.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    for fn in (lambda t: t, lambda t: t.t(), lambda t: t[:, 1], lambda t: t[0], lambda t: t.transpose(0, 1)):
        assert fn(ours).is_contiguous() == fn(theirs).is_contiguous()
    assert ours.contiguous() is ours
    made = ours.t().contiguous()
    assert made.is_contiguous() and made.numpy().flags["C_CONTIGUOUS"]
    w = np.arange(6.0).reshape(3, 2)
    (made * ts.tensor(w)).sum().backward()
    (theirs.t().contiguous() * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


def test_a_dim_given_twice_raises_as_torch():
    for dims in [(0, 0), (1, -1)]:
        with pytest.raises(RuntimeError):
            torch.ones(2, 3).sum(dim=dims)
        with pytest.raises(RuntimeError, match="appears more than once"):
            ts.ones(2, 3).sum(dim=dims)
