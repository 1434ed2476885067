"""Round 44 (2026-12-07): torch's keyword names and defaults, and the data side, beside torch 2.13."""
import numpy as np
import pytest
import torch

import tinygrad_seq as tg
from tinygrad_seq.utils import data as tg_data


def _same(a, b):
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    assert a.shape == b.shape
    np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=1e-6, atol=1e-6)


CALLS = [
    lambda M, a, s: a.eq(other=a), lambda M, a, s: M.eq(input=a, other=a), lambda M, a, s: a.lt(other=a),
    lambda M, a, s: M.maximum(input=a, other=a), lambda M, a, s: M.minimum(a, other=a),
    lambda M, a, s: a.max(other=a), lambda M, a, s: a.min(other=a),
    lambda M, a, s: (a > 0).logical_and(other=a < 1), lambda M, a, s: M.bitwise_and(input=M.tensor([3]),
                                                                                    other=M.tensor([1])),
    lambda M, a, s: M.zeros_like(input=a), lambda M, a, s: M.full_like(input=a, fill_value=2.0),
    lambda M, a, s: M.searchsorted(sorted_sequence=s, input=s), lambda M, a, s: M.isclose(input=a, other=a),
    lambda M, a, s: M.dot(input=s, tensor=s), lambda M, a, s: s.dot(tensor=s),
    lambda M, a, s: a.view(dtype=M.int32), lambda M, a, s: a.repeat(repeats=(2, 1)),
    lambda M, a, s: M.tile(a, dims=(2, 1)), lambda M, a, s: a.swapaxes(axis0=0, axis1=1),
    lambda M, a, s: M.cat(a.hsplit(1, 3), 1), lambda M, a, s: M.cat(a.t().vsplit(1, 2), 0),
    lambda M, a, s: M.nanmean(a, dim=1, dtype=M.float64), lambda M, a, s: M.histogram(a)[0],
    lambda M, a, s: M.histogramdd(a[:, :2], [2, 2], [-3.0, 3.0, -3.0, 3.0])[0],
    lambda M, a, s: a.clone().pow_(exponent=2), lambda M, a, s: M.zeros(3, 4).copy_(other=a),
]


@pytest.mark.parametrize("k", range(len(CALLS)))
def test_torch_keyword_forms(k):
    x = np.random.default_rng(k).standard_normal((3, 4)).astype(np.float32)
    got, want = (CALLS[k](M, M.tensor(x), M.tensor([1.0, 2.0, 3.0])) for M in (tg, torch))
    _same(got, want)


def test_misc_signatures():
    assert str(tg.result_type(tensor=tg.ones(2), other=1.0)) == "float32"
    s = tg.nn.Sequential(tg.nn.Linear(1, 1))
    s.add_module("again", s[0])
    assert len(list(s.modules(remove_duplicate=False))) == 3 and len(list(s.modules())) == 2
    assert tuple(tg.ones(2, 3).cpu(memory_format=tg.preserve_format).shape) == (2, 3)
    with pytest.raises(TypeError, match="offest"):
        tg.tril_indices(3, 3, offest=1)


def test_pad_sequence_keeps_the_first_sequences_dtype():
    from tinygrad_seq.nn.utils import rnn
    p = rnn.pad_sequence([tg.tensor([1, 2]), tg.tensor([3.7])], batch_first=True)
    assert p.dtype == np.int64 and p.tolist() == [[1, 2], [3, 0]]
    assert rnn.pad_sequence([tg.ones(1, dtype=tg.int32), tg.ones(2, dtype=tg.int64)]).dtype == np.int32
    assert rnn.pack_sequence([tg.tensor([1, 2]), tg.tensor([3.7])]).data.tolist() == [1, 3, 2]


def test_default_collate_as_torch():
    c = tg_data.default_collate
    assert c([np.ones(2, np.float32), np.ones(2, np.int64)]).dtype == np.float32
    assert c([np.ones(2, np.float16), np.ones(2, np.int16)]).dtype == np.float16
    assert c([np.float32(1.0), np.int64(2)]).dtype == np.float32
    for bad in ([1.5, None], [1.5, "2.5"]):
        with pytest.raises(TypeError, match="must be real number"):
            c(bad)
    for bad in ([np.ones(1), np.array(["a"])], [np.datetime64("2020-01-01")] * 2):
        with pytest.raises(TypeError):
            c(bad)


def test_tensor_dataset_batches_of_non_integer_indices_go_sample_by_sample():
    for M, D in ((tg, tg_data), (torch, torch.utils.data)):
        ds = D.TensorDataset(M.arange(12).reshape(4, 3))
        assert [b[0].tolist() for b in D.DataLoader(ds, sampler=[(0, 1), (1, 2)], batch_size=2)] == [[1, 5]]
        with pytest.raises(IndexError):
            list(D.DataLoader(ds, batch_sampler=[[0, 1], []]))


def test_concat_dataset_cumsum_and_single_process_timeout():
    c = tg_data.ConcatDataset([[1, 2], [3]])
    assert tg_data.ConcatDataset.cumsum([[1], [2, 3]]) == [1, 3]
    with pytest.warns(FutureWarning, match="cummulative_sizes"):
        assert c.cummulative_sizes == [2, 3]
    with pytest.raises(AssertionError, match="timeout == 0"):
        list(tg_data.DataLoader([1, 2], timeout=1))


def test_sparse_rows_are_noted_only_for_sparse_adam_and_forgotten_by_zero_grad():
    out = []
    for m in (tg, torch):
        emb = m.nn.Embedding(4, 1, sparse=True)
        with m.no_grad():
            emb.weight.copy_(m.zeros(4, 1))
        opt = m.optim.SparseAdam(emb.parameters(), lr=0.1)
        emb(m.tensor([1])).sum().backward()
        opt.step()
        opt.zero_grad()
        emb(m.tensor([1])).sum().backward()   # a backward whose step is skipped
        opt.zero_grad()
        emb(m.tensor([2])).sum().backward()
        opt.step()
        out.append(emb.weight.detach().numpy().ravel().copy())
    np.testing.assert_allclose(out[0], out[1], rtol=1e-6)
    emb = tg.nn.Embedding(50, 2, sparse=True)
    opt = tg.optim.SGD(emb.parameters(), lr=0.1)   # no SparseAdam: nothing noted, nothing to grow
    for _ in range(3):
        emb(tg.randint(0, 50, (4, 3))).sum().backward()
        opt.step()
    assert "_sparse_rows" not in emb.weight.__dict__


def test_collate_and_tril_indices_forms():
    assert tg_data.default_collate([1.5, tg.tensor(2.0)]).tolist() == [1.5, 2.0]
    assert tuple(tg.tril_indices(3, 3, requires_grad=False).shape) == (2, 6)


def test_number_over_tensor_is_one_node_named_as_torch():
    x = tg.tensor([0.5, -2.0, 4.0], requires_grad=True)
    y = 3.0 / x
    assert y.grad_fn.name() == "MulBackward0"
    xi = x * 1
    z = 2.0 / xi
    xi.mul_(3)   # torch keeps only the reciprocal: writing the input after the call is no error
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [-8.0, -0.5, -0.125])
