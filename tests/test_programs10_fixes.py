"""Found by running the PyTorch sequence / NLP tutorials against torch 2.13 (round 10): a tensor's
printout wraps its suffix and its elements as torch's (tensor_repr._layout), `is_sparse` and the
other layout queries, the hint when a float goes into an int64 tensor made by ts.Tensor([0])."""
import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")


def test_repr_single_line_suffix_wraps_like_torch():
    # Word Embeddings tutorial: print(hello_embed) -> torch puts grad_fn on its own line.
    # Name-independent repro: a one-line tensor whose suffix crosses 80 columns.
    a = np.linspace(-0.9, 0.9, 6).astype(np.float32)
    assert repr(ts.tensor(a, requires_grad=True)) == repr(torch.tensor(a, requires_grad=True))


def test_repr_single_line_dtype_suffix_wraps_like_torch():
    a = np.linspace(-0.9, 0.9, 6)  # float64 -> dtype=torch.float64 suffix
    assert repr(ts.tensor(a)) == repr(torch.tensor(a))


def test_repr_summarized_row_counts_ellipsis_as_element():
    # a >1000-element tensor with wide numbers: torch puts 5 slots (incl. "...") per line
    a = (np.arange(1001, dtype=np.float32) - 500) * 25.123
    assert repr(ts.tensor(a)) == repr(torch.tensor(a))


def test_tensor_is_sparse_attribute():
    # torch: False for dense tensors; custom optimizers check `if grad.is_sparse: raise ...`
    # and the old text-classification tutorial builds EmbeddingBag(sparse=True)
    assert torch.ones(2).is_sparse is False
    assert ts.ones(2).is_sparse is False


def test_reprs_of_many_shapes_and_dtypes_are_torchs():
    rng = np.random.RandomState(0)
    shapes = [(), (0,), (1,), (6,), (13,), (100,), (1001,), (2, 3), (4, 40), (3, 1, 5), (2, 2, 2, 3),
              (1100, 2), (2, 600), (5000, 1, 4), (0, 3)]
    for shape in shapes:
        for scale, dtype in ((1.0, np.float32), (1e4, np.float32), (1e-5, np.float32), (1.0, np.float64)):
            a = (np.asarray(rng.randn(*shape)) * scale).astype(dtype)
            for requires_grad in (False, True):
                assert repr(ts.tensor(a, requires_grad=requires_grad)) == repr(torch.tensor(a, requires_grad=requires_grad))
        ints = rng.randint(-1000, 100000, size=shape)
        assert repr(ts.tensor(ints)) == repr(torch.tensor(ints))
        assert repr(ts.tensor(ints > 50000)) == repr(torch.tensor(ints > 50000))


def test_float_into_a_tensor_made_from_integers_says_why():
    loss = ts.Tensor([0])   # int64 here (API.md), float32 in torch
    with pytest.raises(RuntimeError, match="ts.Tensor\\(integers\\) is int64 here"):
        loss += ts.tensor(1.5)
    t = ts.ones(2)
    assert t.layout == ts.strided and t.layout != ts.sparse_coo and not t.is_nested
