"""tinygrad_seq.functional against torch.nn.functional: forward and gradients, float64 and
float32, plus the numerics (+/-1000 logits), ignore_index, reductions and error messages."""
import re
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import tinygrad_seq as ts
import tinygrad_seq.functional as F
from tinygrad_seq import Tensor
from engine_helpers import helper_test_op


def both(ours, theirs):
    """fn(a, ...) dispatching on the tensor type (torch or ours)."""
    return lambda *xs: theirs(*xs) if isinstance(xs[0], torch.Tensor) else ours(*xs)


def tgt(arr, like):
    return torch.tensor(arr) if isinstance(like, torch.Tensor) else Tensor(arr)


# ------------------------------------------------------------------ softmax family
@pytest.mark.parametrize("shape,dim", [((5,), 0), ((3, 5), 1), ((3, 5), 0), ((3, 5), -1), ((2, 3, 4), 1),
                                       ((2, 3, 4), -1), ((1, 1), 1), ((4, 1), 1)], ids=str)
@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_family(fn, shape, dim):
    helper_test_op([shape], both(lambda a: getattr(F, fn)(a, dim), lambda a: getattr(TF, fn)(a, dim=dim)),
                   low=-5, high=5)


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_family_at_extreme_logits(fn, dtype):
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, 999.0]], dtype)
    o = Tensor(x, requires_grad=True)
    out = getattr(F, fn)(o, 1)
    assert np.isfinite(out.numpy()).all()
    (out * Tensor(np.arange(9.0).reshape(3, 3).astype(dtype))).sum().backward()
    assert np.isfinite(o.grad.numpy()).all()
    helper_test_op(None, both(lambda a: getattr(F, fn)(a, 1), lambda a: getattr(TF, fn)(a, dim=1)),
                   arrays=[x], dtypes=(dtype,))


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_a_row_masked_whole_is_nan_without_a_warning(fn):
    # attention over a sequence that is all padding: masked_fill(-inf) on the whole row; torch
    # gives nan there, silently
    x = np.array([[0.5, 1.0, -2.0], [-np.inf] * 3], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = getattr(F, fn)(Tensor(x), -1).numpy()
    theirs = getattr(TF, fn)(torch.tensor(x), dim=-1).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    assert np.isnan(ours[1]).all()


def test_softmax_bad_dim():
    with pytest.raises(IndexError, match="out of range"):
        F.softmax(Tensor(np.ones((2, 3))), 2)


# ------------------------------------------------------------------ cross_entropy / nll_loss
TARGETS = {
    "plain": np.array([0, 3, 1, 4, 2, 2]),
    "ignored": np.array([0, -100, 1, -100, 2, 2]),
    "all_ignored": np.full(6, -100),
}


@pytest.mark.filterwarnings("ignore:invalid value encountered")
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", list(TARGETS))
def test_cross_entropy(reduction, case):
    t = TARGETS[case]
    if case == "all_ignored" and reduction == "mean":
        return test_cross_entropy_all_ignored_mean_is_nan()
    helper_test_op([(6, 5)], both(lambda a: F.cross_entropy(a, Tensor(t), reduction=reduction),
                                  lambda a: TF.cross_entropy(a, torch.tensor(t), reduction=reduction)), low=-4, high=4)


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_cross_entropy_all_ignored_mean_is_nan():
    t = TARGETS["all_ignored"]
    x = np.random.default_rng(0).standard_normal((6, 5))
    ours = F.cross_entropy(Tensor(x), Tensor(t))
    theirs = TF.cross_entropy(torch.tensor(x), torch.tensor(t))
    assert np.isnan(theirs.item()) and np.isnan(ours.item())


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_custom_ignore_index(reduction):
    t = np.array([0, 2, 1, 2, 4])
    helper_test_op([(5, 5)], both(lambda a: F.cross_entropy(a, Tensor(t), ignore_index=2, reduction=reduction),
                                  lambda a: TF.cross_entropy(a, torch.tensor(t), ignore_index=2, reduction=reduction)))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_unbatched(reduction):
    t = np.array(3)
    helper_test_op([(5,)], both(lambda a: F.cross_entropy(a, Tensor(t), reduction=reduction),
                                lambda a: TF.cross_entropy(a, torch.tensor(t), reduction=reduction)))


def test_cross_entropy_extreme_logits_finite():
    x = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 0.0]])
    t = np.array([1, 1])
    helper_test_op(None, both(lambda a: F.cross_entropy(a, Tensor(t)), lambda a: TF.cross_entropy(a, torch.tensor(t))),
                   arrays=[x])


def test_cross_entropy_accepts_int32_and_refuses_numpy_targets():
    x = np.random.default_rng(0).standard_normal((4, 3))
    t = np.array([0, 1, 2, 1], dtype=np.int32)
    with pytest.raises(TypeError, match="argument 'target'"):   # torch's TypeError
        F.cross_entropy(Tensor(x), t)
    ours = F.cross_entropy(Tensor(x), Tensor(t)).item()
    np.testing.assert_allclose(ours, TF.cross_entropy(torch.tensor(x), torch.tensor(t.astype(np.int64))).item())


def test_cross_entropy_errors():
    x = Tensor(np.zeros((3, 4)))
    with pytest.raises(IndexError, match="target 4 is out of bounds for 4 classes"):
        F.cross_entropy(x, Tensor(np.array([0, 4, 1])))
    with pytest.raises(IndexError, match="target -1"):
        F.cross_entropy(x, Tensor(np.array([0, -1, 1])))
    with pytest.raises(ValueError, match=r"input batch_size \(3\) to match target batch_size \(2\)"):   # torch's
        F.cross_entropy(x, Tensor(np.array([0, 1])))
    with pytest.raises(TypeError, match="expected target dtype to be Long or Byte, but got Float"):
        F.cross_entropy(x, Tensor(np.array([0.0, 1.0, 1.0], np.float32)))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(x, Tensor(np.array([0, 1, 1])), reduction="avg")
    with pytest.raises(ValueError, match=r"Expected target size \[2, 4\], got \[2\]"):
        F.cross_entropy(Tensor(np.zeros((2, 3, 4))), Tensor(np.array([0, 1])))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", ["plain", "ignored"])
def test_nll_loss(reduction, case):
    t = TARGETS[case]
    helper_test_op([(6, 5)], both(lambda a: F.nll_loss(F.log_softmax(a, 1), Tensor(t), reduction=reduction),
                                  lambda a: TF.nll_loss(TF.log_softmax(a, 1), torch.tensor(t), reduction=reduction)))
    # nll_loss on arbitrary inputs (not log-probabilities)
    helper_test_op([(6, 5)], both(lambda a: F.nll_loss(a, Tensor(t), reduction=reduction),
                                  lambda a: TF.nll_loss(a, torch.tensor(t), reduction=reduction)))


def test_nll_loss_unbatched():
    helper_test_op([(4,)], both(lambda a: F.nll_loss(a, Tensor(np.array(2))),
                                lambda a: TF.nll_loss(a, torch.tensor(2))))


def test_cross_entropy_equals_log_softmax_nll():
    x = Tensor(np.random.default_rng(0).standard_normal((4, 6)), requires_grad=True)
    t = Tensor(np.array([5, 0, 3, 3]))
    a = F.cross_entropy(x, t)
    b = F.nll_loss(F.log_softmax(x, 1), t)
    np.testing.assert_allclose(a.item(), b.item(), rtol=1e-12)


# ------------------------------------------------------------------ mse
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(3, 4), (), (5,)], ids=str)
def test_mse_loss(reduction, shape):
    helper_test_op([shape, shape], both(lambda a, b: F.mse_loss(a, b, reduction=reduction),
                                        lambda a, b: TF.mse_loss(a, b, reduction=reduction)))


def test_mse_loss_errors():
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        F.mse_loss(Tensor(np.ones(3)), Tensor(np.ones(4)))
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(Tensor(np.ones(3)), Tensor(np.ones(3)), reduction="avg")


# ------------------------------------------------------------------ activations
@pytest.mark.parametrize("name", ["tanh", "sigmoid", "relu"])
def test_functional_activations(name):
    helper_test_op([(3, 4)], both(getattr(F, name), getattr(torch, name)))


# ------------------------------------------------------------------ dropout
def test_dropout_eval_and_p0_are_identity():
    x = Tensor(np.ones((3, 4)), requires_grad=True)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x


def test_dropout_p1_zeros_everything():
    x = Tensor(np.ones((3, 4)), requires_grad=True)
    y = F.dropout(x, 1.0)
    assert (y.numpy() == 0).all()
    y.sum().backward()
    assert (x.grad.numpy() == 0).all()


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics(p):
    x = Tensor(np.ones((400, 500)), requires_grad=True)
    y = F.dropout(x, p)
    v = y.numpy()
    kept = v != 0
    assert abs(kept.mean() - (1 - p)) < 0.01
    np.testing.assert_allclose(v[kept], 1.0 / (1 - p))
    assert abs(v.mean() - 1.0) < 0.03  # inverted dropout keeps the expectation
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), v)  # gradient is the same scaled mask
    assert y.dtype == x.dtype


def test_dropout_keeps_float32():
    x = Tensor(np.ones((10, 10), np.float32))
    assert F.dropout(x, 0.3).dtype == np.float32


def test_dropout_reproducible_under_manual_seed():
    x = Tensor(np.ones((50, 50)))
    ts.manual_seed(123)
    a = F.dropout(x, 0.5).numpy()
    b = F.dropout(x, 0.5).numpy()
    ts.manual_seed(123)
    c = F.dropout(x, 0.5).numpy()
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, b)


def test_dropout_bad_p():
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(Tensor(np.ones(3)), 1.5)


# ------------------------------------------------------------------ linear
@pytest.mark.parametrize("xshape", [(4,), (3, 4), (2, 3, 4), (1, 1, 4)], ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_linear(xshape, bias):
    shapes = [xshape, (5, 4)] + ([(5,)] if bias else [])
    helper_test_op(shapes, both(lambda *a: F.linear(*a), lambda *a: TF.linear(*a)))


def test_linear_frozen_weight():
    x = Tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    w = Tensor(np.random.default_rng(1).standard_normal((5, 4)))
    F.linear(x, w).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.broadcast_to(w.numpy().sum(0), (3, 4)))
    assert w.grad is None


def test_linear_shape_error_names_shapes():
    # torch's words: input (3, 4) as mat1, weight.t() (6, 5) as mat2
    with pytest.raises(ValueError, match=re.escape("mat1 and mat2 shapes cannot be multiplied (3x4 and 6x5)")):
        F.linear(Tensor(np.ones((3, 4))), Tensor(np.ones((5, 6))))


# ------------------------------------------------------------------ embedding
@pytest.mark.parametrize("idx", [np.array([1, 3, 3, 0, 3]), np.array([[0, 2], [2, 2]]), np.array(4),
                                 np.array([[[1]]])], ids=lambda a: str(a.shape))
def test_embedding(idx):
    helper_test_op([(5, 3)], both(lambda w: F.embedding(Tensor(idx), w), lambda w: TF.embedding(torch.tensor(idx), w)))


@pytest.mark.parametrize("padding_idx", [0, 2, -1])
def test_embedding_padding_idx(padding_idx):
    idx = np.array([[0, 2, 4], [2, 2, 1]])
    helper_test_op([(5, 3)], both(lambda w: F.embedding(Tensor(idx), w, padding_idx=padding_idx),
                                  lambda w: TF.embedding(torch.tensor(idx), w, padding_idx=padding_idx)))


def test_embedding_out_of_range_names_index_and_size():
    w = Tensor(np.ones((5, 3)), requires_grad=True)
    with pytest.raises(IndexError) as e:
        F.embedding(Tensor(np.array([0, 7, 1])), w)
    assert "7" in str(e.value) and "5" in str(e.value)
    with pytest.raises(IndexError, match="-6"):
        F.embedding(Tensor(np.array([-6])), w)
    with pytest.raises(TypeError, match="scalar types: Long, Int"):
        F.embedding(Tensor(np.array([0.0])), w)


def test_embedding_refuses_numpy_and_list_indices():
    w = Tensor(np.arange(15.0).reshape(5, 3))   # torch's TypeError (its native embedding's position 2)
    with pytest.raises(TypeError, match="argument 'indices' \\(position 2\\) must be Tensor, not numpy.ndarray"):
        F.embedding(np.array([4, 0]), w)
    with pytest.raises(TypeError, match="must be Tensor, not list"):
        F.embedding([1, 1], w)


# ------------------------------------------------------------------ gradcheck of every functional
def _x(shape, seed=0):
    return Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True)


@pytest.mark.parametrize("name,fn,shapes", [
    ("softmax", lambda a: F.softmax(a, 1), [(3, 4)]),
    ("log_softmax", lambda a: F.log_softmax(a, 0), [(3, 4)]),
    ("cross_entropy", lambda a: F.cross_entropy(a, Tensor(np.array([0, -100, 3]))), [(3, 4)]),
    ("cross_entropy_sum", lambda a: F.cross_entropy(a, Tensor(np.array([0, 1, 3])), reduction="sum"), [(3, 4)]),
    ("nll_none", lambda a: F.nll_loss(a, Tensor(np.array([0, 1, 3])), reduction="none"), [(3, 4)]),
    ("mse", lambda a, b: F.mse_loss(a, b), [(3, 4), (3, 4)]),
    ("linear", lambda x, w, b: F.linear(x, w, b), [(2, 3), (4, 3), (4,)]),
    ("embedding", lambda w: F.embedding(Tensor(np.array([0, 2, 2])), w), [(3, 2)]),
], ids=lambda v: v if isinstance(v, str) else "")
def test_gradcheck_functional(name, fn, shapes):
    assert ts.gradcheck(fn, [_x(s, i) for i, s in enumerate(shapes)])


# ------------------------------------------------------------------ more activations and helpers
@pytest.mark.parametrize("name,kw", [("leaky_relu", {"negative_slope": 0.2}), ("elu", {"alpha": 0.7}),
                                     ("silu", {}), ("gelu", {}), ("gelu", {"approximate": "tanh"}),
                                     ("softplus", {"beta": 2.0, "threshold": 3.0}), ("hardtanh", {}),
                                     ("softmin", {"dim": 1}), ("normalize", {"dim": 1}),
                                     ("normalize", {"p": 1.0, "dim": 0})])
def test_more_activations(name, kw):
    helper_test_op([(4, 5)], lambda a: getattr(TF if isinstance(a, torch.Tensor) else F, name)(a, **kw),
                   low=-3, high=3)


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4)], ids=str)
def test_softmax_without_dim_warns_and_picks_torchs_dim(shape):
    x = np.random.default_rng(0).standard_normal(shape)
    for fn in ("softmax", "log_softmax"):
        with pytest.warns(UserWarning, match="Implicit dimension"):
            ours = getattr(F, fn)(Tensor(x)).numpy()
        with pytest.warns(UserWarning, match="Implicit dimension"):
            theirs = getattr(TF, fn)(torch.tensor(x)).numpy()
        np.testing.assert_allclose(ours, theirs, atol=1e-14)


def test_softmax_dtype_argument():
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    out = F.softmax(Tensor(x), dim=1, dtype=np.float64)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), TF.softmax(torch.tensor(x), 1, dtype=torch.float64).numpy())


@pytest.mark.parametrize("num_classes", [-1, 7])
def test_one_hot(num_classes):
    idx = np.array([[0, 3], [5, 1]])
    ours = F.one_hot(Tensor(idx), num_classes)
    theirs = TF.one_hot(torch.tensor(idx), num_classes)
    assert ours.dtype == np.int64 and ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(RuntimeError, match="out of range"):
        F.one_hot(Tensor(idx), 4)
    with pytest.raises(TypeError, match="index tensor"):
        F.one_hot(Tensor(np.ones(3)))


@pytest.mark.parametrize("pad", [(1, 2), (0, 1, 2, 0), (2, 1, 1, 1, 1, 0), (-1, 2), (1, -2, 0, 1)], ids=str)
def test_pad_constant(pad):
    helper_test_op([(2, 3, 4)], lambda a: (TF if isinstance(a, torch.Tensor) else F).pad(a, pad, value=0.5))


def test_pad_errors():
    with pytest.raises(ValueError, match="even"):
        F.pad(Tensor(np.ones((2, 2))), (1, 2, 3))
    with pytest.raises(NotImplementedError, match="constant"):
        F.pad(Tensor(np.ones((2, 2))), (1, 1), mode="zeros")


def test_nn_functional_is_functional():
    import tinygrad_seq.nn.functional as NF
    assert NF is F and ts.nn.functional is ts.functional


@pytest.mark.parametrize("padding_idx", [None, 3])
def test_embedding_backward_many_repeats_matches_add_at(padding_idx):
    rng = np.random.default_rng(0)
    idx = rng.integers(0, 7, (40, 9))
    w = Tensor(rng.standard_normal((7, 5)), requires_grad=True)
    g = rng.standard_normal((40, 9, 5))
    (F.embedding(Tensor(idx), w, padding_idx) * Tensor(g)).sum().backward()
    ref = np.zeros((7, 5))
    np.add.at(ref, idx.reshape(-1), g.reshape(-1, 5))
    if padding_idx is not None:
        ref[padding_idx] = 0
    np.testing.assert_allclose(w.grad.numpy(), ref, atol=1e-12)
