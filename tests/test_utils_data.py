"""tinygrad_seq.utils.data against torch.utils.data: what each sampler yields (orders that do not
depend on a random stream equal torch's; random ones are permutations / draws with the right
properties, reproducible from a seed), default collate's structure and dtypes, DataLoader's
options and errors, random_split's sizes."""
import collections

import numpy as np
import pytest
import torch
import torch.utils.data as TD

import tinygrad_seq as ts
from tinygrad_seq.utils import data as D


def _np(x):
    return x.numpy() if hasattr(x, "numpy") else np.asarray(x)


def test_module_tree():
    import tinygrad_seq.utils.data as D2
    from tinygrad_seq.utils.data import DataLoader
    assert D2 is D and DataLoader is D.DataLoader and ts.utils.data is D
    assert D.DistributedSampler is ts.data.DistributedSampler


class Squares(D.Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return {"x": np.array([i, i * i], np.float32), "y": i, "name": f"s{i}"}


class TorchSquares(TD.Dataset):
    __init__, __len__, __getitem__ = Squares.__init__, Squares.__len__, Squares.__getitem__


@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (3, False), (3, True), (10, False)])
def test_sequential_loader_matches_torch(batch_size, drop_last):
    ours = list(D.DataLoader(Squares(7), batch_size=batch_size, drop_last=drop_last))
    theirs = list(TD.DataLoader(TorchSquares(7), batch_size=batch_size, drop_last=drop_last))
    assert len(ours) == len(theirs) == len(D.DataLoader(Squares(7), batch_size=batch_size, drop_last=drop_last))
    for o, t in zip(ours, theirs):
        assert set(o) == set(t)
        np.testing.assert_array_equal(_np(o["x"]), t["x"].numpy())
        assert _np(o["x"]).dtype == np.float32
        np.testing.assert_array_equal(_np(o["y"]), t["y"].numpy())
        assert _np(o["y"]).dtype == np.int64 and o["name"] == t["name"]


def test_default_collate_structures_match_torch():
    Pt = collections.namedtuple("Pt", "a b")
    cases = [
        [(1.5, 2), (2.5, 3)],
        [[np.ones(2), 3], [np.zeros(2), 4]],
        [Pt(1, 2.0), Pt(3, 4.0)],
        [{"k": (True, "s")}, {"k": (False, "t")}],
        [np.float32(1.0), np.float32(2.0)],
    ]
    for batch in cases:
        o, t = D.default_collate(batch), TD.default_collate(batch)

        def same(a, b):
            if isinstance(b, torch.Tensor):
                assert isinstance(a, ts.Tensor)
                assert a.numpy().dtype == b.numpy().dtype and a.shape == tuple(b.shape)
                np.testing.assert_array_equal(a.numpy(), b.numpy())
            elif isinstance(b, dict):
                assert type(a) is type(b) and set(a) == set(b)
                for k in b:
                    same(a[k], b[k])
            elif isinstance(b, (list, tuple)):
                assert type(a) is type(b) and len(a) == len(b)
                for x, y in zip(a, b):
                    same(x, y)
            else:
                assert a == b
        same(o, t)
    with pytest.raises(RuntimeError, match="equal size"):
        D.default_collate([[1, 2], [3]])


def test_tensor_dataset_and_loader_of_tensors():
    x = ts.Tensor(np.arange(12.0).reshape(6, 2))
    y = ts.Tensor(np.arange(6))
    ds = D.TensorDataset(x, y)
    assert len(ds) == 6
    xs, ys = next(iter(D.DataLoader(ds, batch_size=4)))
    np.testing.assert_array_equal(xs.numpy(), np.arange(8.0).reshape(4, 2))
    np.testing.assert_array_equal(ys.numpy(), np.arange(4))
    with pytest.raises(ValueError, match="Size mismatch"):
        D.TensorDataset(x, ts.Tensor(np.arange(5)))


def test_shuffle_is_a_permutation_reproducible_and_new_each_epoch():
    ds = D.TensorDataset(ts.Tensor(np.arange(20)))
    ts.manual_seed(0)
    dl = D.DataLoader(ds, batch_size=6, shuffle=True)
    e1 = np.concatenate([b[0].numpy() for b in dl])
    e2 = np.concatenate([b[0].numpy() for b in dl])
    assert sorted(e1) == list(range(20)) and sorted(e2) == list(range(20))
    assert list(e1) != list(e2)
    ts.manual_seed(0)
    again = np.concatenate([b[0].numpy() for b in D.DataLoader(ds, batch_size=6, shuffle=True)])
    np.testing.assert_array_equal(e1, again)
    g1, g2 = D.Generator().manual_seed(5), D.Generator().manual_seed(5)
    a = [int(i) for i in D.RandomSampler(range(9), generator=g1)]
    b = [int(i) for i in D.RandomSampler(range(9), generator=g2)]
    assert a == b and sorted(a) == list(range(9))


def test_generator_forms():
    assert D.Generator is ts.Generator
    assert ts.Generator().initial_seed() == torch.Generator().initial_seed()
    s = D.RandomSampler(range(5), generator=ts.Generator().manual_seed(1))
    assert sorted(s) == list(range(5))
    assert sorted(D.RandomSampler(range(5), generator=np.random.default_rng(0))) == list(range(5))
    with pytest.raises(TypeError, match="tinygrad_seq.Generator"):
        list(D.RandomSampler(range(5), generator="seed"))


def test_random_sampler_replacement_and_num_samples():
    s = D.RandomSampler(range(4), replacement=True, num_samples=50, generator=0)
    got = list(s)
    assert len(got) == len(s) == 50 and set(got) <= set(range(4))
    s = D.RandomSampler(range(4), num_samples=10, generator=0)
    got = list(s)
    assert len(got) == 10 and sorted(got[:4]) == list(range(4)) and sorted(got[4:8]) == list(range(4))
    with pytest.raises(ValueError, match="num_samples"):
        D.RandomSampler(range(4), num_samples=0)


def test_samplers_without_randomness_match_torch():
    assert list(D.SequentialSampler(range(5))) == list(TD.SequentialSampler(range(5)))
    for bs, dl in [(2, False), (2, True), (5, False)]:
        assert list(D.BatchSampler(range(7), bs, dl)) == list(TD.BatchSampler(range(7), bs, dl))
        assert len(D.BatchSampler(range(7), bs, dl)) == len(TD.BatchSampler(range(7), bs, dl))
    sub = list(D.SubsetRandomSampler([3, 8, 9, 1], generator=0))
    assert sorted(sub) == [1, 3, 8, 9]


def test_weighted_random_sampler():
    w = [0.0, 1.0, 3.0, 0.0]
    got = list(D.WeightedRandomSampler(w, 4000, generator=0))
    assert set(got) == {1, 2}
    assert abs(got.count(2) / 4000 - 0.75) < 0.03
    got = list(D.WeightedRandomSampler(w, 2, replacement=False, generator=0))
    assert sorted(got) == [1, 2]
    # torch's: the zero-weight indices come once the others run out; more than len(w) raises
    assert sorted(list(D.WeightedRandomSampler(w, 3, replacement=False, generator=0))[:2]) == [1, 2]
    with pytest.raises(RuntimeError):
        list(D.WeightedRandomSampler(w, 5, replacement=False))


def test_loader_with_sampler_and_batch_sampler():
    ds = D.TensorDataset(ts.Tensor(np.arange(10)))
    out = [b[0].numpy().tolist() for b in D.DataLoader(ds, batch_size=2, sampler=[9, 0, 5])]
    assert out == [[9, 0], [5]]
    out = [b[0].numpy().tolist() for b in D.DataLoader(ds, batch_sampler=[[1, 2, 3], [7]])]
    assert out == [[1, 2, 3], [7]]
    out = [int(b[0].numpy()) for b in D.DataLoader(ds, batch_size=None, sampler=[4, 2])]
    assert out == [4, 2]


def test_loader_argument_errors_like_torch():
    ds = Squares(4)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        D.DataLoader(ds, sampler=[0], shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        D.DataLoader(ds, batch_sampler=[[0]], batch_size=2)
    with pytest.raises(ValueError, match="num_workers"):
        D.DataLoader(ds, num_workers=-1)


def test_loader_collate_fn_workers_and_pin_memory():
    dl = D.DataLoader(Squares(5), batch_size=2, collate_fn=lambda b: [s["y"] for s in b],
                      num_workers=2, pin_memory=True)
    assert list(dl) == [[0, 1], [2, 3], [4]]
    assert D.get_worker_info() is None


class Stream(D.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


def test_iterable_dataset_loader():
    out = [b.numpy().tolist() for b in D.DataLoader(Stream(7), batch_size=3)]
    assert out == [[0, 1, 2], [3, 4, 5], [6]]
    assert len(D.DataLoader(Stream(7), batch_size=3, drop_last=True)) == 2
    with pytest.raises(ValueError, match="shuffle"):
        D.DataLoader(Stream(3), shuffle=True)
    chained = list(D.DataLoader(Stream(2) + Stream(3), batch_size=None))
    assert chained == [0, 1, 0, 1, 2]


def test_subset_concat_and_random_split():
    ds = D.TensorDataset(ts.Tensor(np.arange(10)))
    sub = D.Subset(ds, [7, 2])
    assert len(sub) == 2 and int(sub[0][0].numpy()) == 7
    cat = D.ConcatDataset([D.Subset(ds, [0, 1]), D.Subset(ds, [5, 6, 8])])
    assert len(cat) == 5 and int(cat[2][0].numpy()) == 5 and int(cat[-1][0].numpy()) == 8
    assert cat.cumulative_sizes == TD.ConcatDataset([range(2), range(3)]).cumulative_sizes
    with pytest.raises(IndexError):
        cat[5]
    for lengths in ([3, 7], [0.3, 0.7], [0.25, 0.25, 0.5], [0.33, 0.33, 0.34]):
        ours = D.random_split(range(10), lengths, generator=D.Generator().manual_seed(0))
        theirs = TD.random_split(range(10), lengths, generator=torch.Generator().manual_seed(0))
        assert [len(s) for s in ours] == [len(s) for s in theirs]
        assert sorted(i for s in ours for i in s.indices) == list(range(10))
    a = D.random_split(range(10), [5, 5], generator=1)
    b = D.random_split(range(10), [5, 5], generator=1)
    assert a[0].indices == b[0].indices
    with pytest.raises(ValueError, match="Sum of input lengths"):
        D.random_split(range(10), [3, 3])


def test_reachable_as_torch_utils_data_without_import():
    import subprocess
    import sys
    code = "import tinygrad_seq as torch; print(torch.utils.data.DataLoader.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "DataLoader", out.stderr


def test_tensor_dataset_batches_equal_stacked_samples():
    x = ts.Tensor(np.arange(24.0).reshape(8, 3).astype(np.float32), requires_grad=True)
    y = ts.Tensor(np.arange(8))
    ds = D.TensorDataset(x, y)
    fast = list(D.DataLoader(ds, batch_size=3, sampler=[5, 1, 7, 0, 2]))
    slow = list(D.DataLoader(ds, batch_size=3, sampler=[5, 1, 7, 0, 2], collate_fn=lambda b: D.default_collate(b)))
    theirs = list(TD.DataLoader(TD.TensorDataset(torch.tensor(x.numpy()), torch.tensor(y.numpy())),
                                batch_size=3, sampler=[5, 1, 7, 0, 2]))
    for f, s, t in zip(fast, slow, theirs):
        assert type(f) is type(t) is list
        for a, b, c in zip(f, s, t):
            assert a.dtype == b.dtype and a.shape == tuple(c.shape)
            np.testing.assert_array_equal(a.numpy(), b.numpy())
            np.testing.assert_array_equal(a.numpy(), c.numpy())
    fast[0][0].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[:, 0], [0, 1, 0, 0, 0, 1, 0, 1])
