"""Differences found by porting PyTorch 2.13's test/test_dataloader.py: an exception from the
dataset ends that batch only, default_convert keeps integer dtypes, SubsetRandomSampler and
WeightedRandomSampler draw at the first next(), ChainDataset's assertion, DataLoader as a
Generic, assignment after construction refused, multiprocessing_context checked, worker_init_fn
and get_worker_info under the in-process workers (seeded as torch's worker processes), the
IterableDataset length warning, default_collate of a numpy array of strings, and random_split /
TensorDataset / IterableDataset edge cases. Each test runs the same program on torch and on
tinygrad_seq and compares."""
import random
import warnings
from typing import List

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.utils.data as TD  # noqa: E402
from torch.utils.data._utils import collate as t_collate  # noqa: E402

import tinygrad_seq as ts  # noqa: E402
import tinygrad_seq.utils.data as SD  # noqa: E402
from tinygrad_seq.utils.data._utils import collate as s_collate  # noqa: E402

LIBRARIES = ((torch, TD), (ts, SD))


def _batches(batches):
    return [b.tolist() if hasattr(b, "tolist") else b for b in batches]


# ------------------------------------------------------------------ 1. errors end one batch only
def _flaky_dataset(D):
    class Flaky(D.Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            if i == 1:
                raise ValueError("bad sample")
            return i
    return Flaky()


def _drain(it, n=7):
    """n calls of next(it): each batch as a list, "VE" for a ValueError, "STOP" at the end."""
    out = []
    for _ in range(n):
        try:
            b = next(it)
            out.append(b.tolist() if hasattr(b, "tolist") else b)
        except ValueError:
            out.append("VE")
        except StopIteration:
            out.append("STOP")
    return out


@pytest.mark.parametrize("batch_size, want", [(1, [[0], "VE", [2], [3], [4], "STOP", "STOP"]),
                                              (None, [0, "VE", 2, 3, 4, "STOP", "STOP"])])
def test_iterator_survives_dataset_error(batch_size, want):
    for _, D in LIBRARIES:
        assert _drain(iter(D.DataLoader(_flaky_dataset(D), batch_size=batch_size))) == want


def test_error_dataset_counts_every_batch():
    # torch's test_error: every batch of a dataset without __getitem__ raises NotImplementedError
    def count(D):
        class ErrorDataset(D.Dataset):
            def __len__(self):
                return 41
        it = iter(D.DataLoader(ErrorDataset(), batch_size=2, shuffle=True))
        errors = 0
        while True:
            try:
                next(it)
            except NotImplementedError:
                errors += 1
            except StopIteration:
                return errors
    assert count(TD) == count(SD) == 21


# ------------------------------------------------------------------ 2. default_convert's dtypes
@pytest.mark.parametrize("dt", [np.int32, np.int16, np.int8, np.uint8])
def test_default_convert_keeps_integer_dtype(dt):
    arr = np.arange(4, dtype=dt)
    assert str(t_collate.default_convert(arr).dtype) == f"torch.{np.dtype(dt).name}"
    assert np.dtype(s_collate.default_convert(arr).dtype) == np.dtype(dt)
    assert np.dtype(s_collate.default_convert(dt(3)).dtype) == np.dtype(dt)


def test_default_convert_shares_the_array():
    arr = np.arange(4, dtype=np.int32)
    out = s_collate.default_convert(arr)
    arr[0] = 7                      # torch.as_tensor's: the tensor sees the array's memory
    assert out.tolist() == t_collate.default_convert(arr).tolist() == [7, 1, 2, 3]


def test_unbatched_loader_keeps_uint8():
    data = [np.zeros((2, 2), dtype=np.uint8)]
    assert list(TD.DataLoader(data, batch_size=None))[0].dtype == torch.uint8
    assert np.dtype(list(SD.DataLoader(data, batch_size=None))[0].dtype) == np.uint8


# ------------------------------------------------------------------ 3. samplers draw at the first next()
@pytest.mark.parametrize("which", ["subset", "weighted"])
def test_sampler_draws_lazily(which):
    def run(L, D):
        L.manual_seed(0)
        s = (D.SubsetRandomSampler(list(range(10))) if which == "subset"
             else D.WeightedRandomSampler([1., 2., 3., 4.], 6))
        it = iter(s)
        x = L.rand(1).tolist()
        return list(it), x
    assert run(ts, SD) == run(torch, TD)


def test_sampler_reproducibility_interleaved_iterators():
    # torch's test_sampler_reproducibility, last block
    def run(L, D, make):
        sampler = make(D)
        its = (iter(sampler), iter(sampler))
        out = ([], [])
        for idx in range(len(sampler)):
            for i in range(2):
                if idx == 0:
                    L.manual_seed(0)
                out[i].append(next(its[i]))
        return out
    for make in (lambda D: D.SubsetRandomSampler(range(10)),
                 lambda D: D.WeightedRandomSampler([0.1, 0.9, 0.4, 0.7, 3.0, 0.6], num_samples=5)):
        want = run(torch, TD, make)
        assert want[0] == want[1]
        assert run(ts, SD, make) == want


def test_weighted_sampler_without_replacement_error_when_iterated():
    for _, D in LIBRARIES:
        it = iter(D.WeightedRandomSampler([1., 2.], 3, replacement=False))
        with pytest.raises(RuntimeError, match="cannot sample n_sample > prob_dist.size"):
            next(it)


def test_weighted_sampler_zero_weights_after_the_others():
    # torch's order of the zero-weight indices (topk's ties) is not reproduced: the non-zero
    # ones are torch's draw, the zero ones follow in some order
    w = [0, 1, 0, 2, 0, 0]
    for seed in range(3):
        want = list(TD.WeightedRandomSampler(w, 6, replacement=False,
                                             generator=torch.Generator().manual_seed(seed)))
        got = list(SD.WeightedRandomSampler(w, 6, replacement=False,
                                            generator=ts.Generator().manual_seed(seed)))
        assert got[:2] == want[:2]
        assert sorted(got[2:]) == sorted(want[2:]) == [0, 2, 4, 5]


# ------------------------------------------------------------------ 4. ChainDataset of a map-style dataset
def test_chain_dataset_of_map_style_is_assertion_error():
    for L, D in LIBRARIES:
        class Stream(D.IterableDataset):
            def __iter__(self):
                return iter(range(3))

            def __len__(self):
                return 3
        for chain in (D.ChainDataset([Stream(), D.TensorDataset(L.zeros(3))]),
                      Stream() + D.TensorDataset(L.zeros(3))):
            with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
                list(iter(chain))
            with pytest.raises(AssertionError, match="ChainDataset only supports IterableDataset"):
                len(chain)


# ------------------------------------------------------------------ 5. DataLoader is Generic
def test_dataloader_is_subscriptable():
    TD.DataLoader[List[torch.Tensor]]
    SD.DataLoader[List[ts.Tensor]]

    def make(is_train: bool) -> SD.DataLoader[List[ts.Tensor]]:
        return SD.DataLoader([ts.zeros(1)])
    assert isinstance(make(True), SD.DataLoader)


# ------------------------------------------------------------------ 6. assignment after construction
@pytest.mark.parametrize("attr", ["batch_size", "sampler", "batch_sampler", "drop_last", "dataset",
                                  "persistent_workers"])
def test_invalid_assign_after_init(attr):
    for _, D in LIBRARIES:
        dl = D.DataLoader(list(range(10)), batch_size=2)
        with pytest.raises(ValueError, match=f"{attr} attribute should not be set after DataLoader is initialized"):
            setattr(dl, attr, {})


def test_other_attributes_can_be_assigned():
    for _, D in LIBRARIES:
        dl = D.DataLoader(list(range(4)), batch_size=2)
        dl.collate_fn = lambda batch: sum(batch)
        assert list(dl) == [1, 5]


# ------------------------------------------------------------------ 7. multiprocessing_context
def test_multiprocessing_context_validation():
    ds = list(range(10))
    for _, D in LIBRARIES:
        with pytest.raises(ValueError, match=r"multi-process loading \(num_workers > 0\), but got num_workers=0"):
            D.DataLoader(ds, num_workers=0, multiprocessing_context="fork")
        with pytest.raises(ValueError, match="should specify a valid start method in"):
            D.DataLoader(ds, num_workers=1, multiprocessing_context="bad")
        with pytest.raises(TypeError, match="multiprocessing_context option should be a valid context "):
            D.DataLoader(ds, num_workers=1, multiprocessing_context=object())
        assert D.DataLoader(ds, num_workers=1).multiprocessing_context is None
    context = SD.DataLoader(ds, num_workers=1, multiprocessing_context="spawn").multiprocessing_context
    assert context.get_start_method() == "spawn"
    loader = SD.DataLoader(ds, batch_size=5, num_workers=1, multiprocessing_context=context)
    assert _batches(loader) == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]


# ------------------------------------------------------------------ 8. worker_init_fn and get_worker_info
def test_worker_init_fn_error_comes_out_of_the_first_batch():
    def error_worker_init_fn(_):
        raise RuntimeError("Error in worker_init_fn")
    for _, D in LIBRARIES:
        it = iter(D.DataLoader(list(range(4)), num_workers=2, worker_init_fn=error_worker_init_fn))
        with pytest.raises(RuntimeError, match="Error in worker_init_fn"):
            next(it)


def test_worker_init_fn_not_called_without_workers():
    for _, D in LIBRARIES:
        calls = []
        list(D.DataLoader(list(range(4)), worker_init_fn=calls.append))
        assert calls == []


def test_worker_init_fn_seed_reaches_dataset():
    class SeedDataset(SD.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return ts.initial_seed()
    ts.manual_seed(7)
    dl = SD.DataLoader(SeedDataset(), batch_size=2, num_workers=2,
                       worker_init_fn=lambda wid: ts.manual_seed(12345))
    assert _batches(dl) == [[12345, 12345], [12345, 12345]]    # torch: every sample is 12345
    assert ts.initial_seed() == 7                 # the main program's generator is untouched


def test_worker_info_inside_worker_init_fn_and_dataset():
    class Where(SD.Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            info = SD.get_worker_info()
            return [info.id, info.num_workers, info.dataset is self]
    seen = []

    def init(wid):
        info = SD.get_worker_info()
        seen.append((wid, info.id, info.num_workers, info.seed - wid))
    dl = SD.DataLoader(Where(), batch_size=None, num_workers=3, worker_init_fn=init)
    assert list(dl) == [[k % 3, 3, True] for k in range(6)]   # batch k: worker k % 3
    assert [s[:3] for s in seen] == [(0, 0, 3), (1, 1, 3), (2, 2, 3)]
    assert len({s[3] for s in seen}) == 1         # seed = base_seed + id
    assert SD.get_worker_info() is None
    info = SD.worker.WorkerInfo(id=0, num_workers=1, seed=0, dataset=None)
    with pytest.raises(AttributeError):
        info.id = 1                               # frozen, as torch's


def _random_samples(L, D, **loader_options):
    class RandomSamples(D.Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            info = D.get_worker_info()
            return [i, info.id if info else -1, L.rand(1).item(), random.random(), float(np.random.rand())]
    L.manual_seed(0)
    batches = [[x.tolist() for x in b] for b in D.DataLoader(RandomSamples(), batch_size=2, shuffle=True,
                                                            **loader_options)]
    return batches, L.rand(2).tolist()


@pytest.mark.parametrize("options", [dict(num_workers=2), dict(num_workers=2, prefetch_factor=1)])
def test_workers_draw_torchs_numbers(options):
    # each worker seeded as torch's worker process (torch's, Python's and numpy's generators),
    # the shuffle and the main program's stream after the epoch as torch's
    assert _random_samples(ts, SD, **options) == _random_samples(torch, TD, **options)


def test_persistent_workers_keep_their_streams():
    def run(L, D):
        class RandomSamples(D.Dataset):
            def __len__(self):
                return 4

            def __getitem__(self, i):
                return L.rand(1).item()
        calls = []
        L.manual_seed(5)
        dl = D.DataLoader(RandomSamples(), batch_size=1, num_workers=2, persistent_workers=True,
                          worker_init_fn=calls.append)
        epochs = [[b.tolist() for b in dl] for _ in range(2)]
        return epochs, L.rand(1).tolist(), calls
    got, want = run(ts, SD), run(torch, TD)
    assert got[:2] == want[:2]     # no new base seed for the second epoch: the same streams go on
    assert got[2] == [0, 1]        # worker_init_fn once per worker (torch's calls are in its workers)


@pytest.mark.parametrize("sizes, batch_size, options", [
    ([1, 5], 2, dict(num_workers=2)),
    ([3, 0, 7], 2, dict(num_workers=3, drop_last=True)),
    ([1, 5], None, dict(num_workers=2, prefetch_factor=1)),
])
def test_iterable_dataset_shards_by_worker_info(sizes, batch_size, options):
    # each worker iterates its own stream; batches come from the workers in turn, skipping
    # those whose stream has ended, as torch's
    def run(D):
        class Sharded(D.IterableDataset):
            def __iter__(self):
                wid = D.get_worker_info().id
                return iter([wid * 100 + k for k in range(sizes[wid])])
        return _batches(D.DataLoader(Sharded(), batch_size=batch_size, **options))
    assert run(SD) == run(TD)


def test_iterable_dataset_is_repeated_by_each_worker():
    def run(D):
        class Stream(D.IterableDataset):
            def __iter__(self):
                return iter(range(4))
        return _batches(D.DataLoader(Stream(), batch_size=3, num_workers=2))
    assert run(SD) == run(TD) == [[0, 1, 2], [0, 1, 2], [3], [3]]


# ------------------------------------------------------------------ 9. IterableDataset length warning
def test_iterable_dataset_len_exceeded_warns():
    def run(D):
        class Short(D.IterableDataset):
            def __iter__(self):
                return iter(range(8))

            def __len__(self):
                return 5
        dl = D.DataLoader(Short(), batch_size=None)
        len(dl)
        it = iter(dl)
        counts = []
        for _ in range(8):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                next(it)
            counts.append(sum(issubclass(x.category, UserWarning) and "samples have been fetched" in str(x.message)
                              for x in caught))
        return counts
    assert run(TD) == run(SD) == [0, 0, 0, 0, 0, 1, 1, 1]


# ------------------------------------------------------------------ 10. default_collate of strings
def test_default_collate_numpy_str_array_is_noop():
    arr = np.array(["a", "b", "c"])
    assert t_collate.default_collate(arr) is arr
    assert s_collate.default_collate(arr) is arr


def test_default_collate_numpy_str_arrays_still_refused():
    batch = [np.array(["a"]), np.array(["b"])]
    for collate in (t_collate, s_collate):
        with pytest.raises(TypeError):
            collate.default_collate(batch)


# ------------------------------------------------------------------ datasets' edge cases
def test_random_split_negative_length_slices_as_torch():
    for L, D in LIBRARIES:
        splits = D.random_split([1, 2, 3, 4], [5, -1], generator=L.Generator().manual_seed(0))
        assert [len(s) for s in splits] == [4, 0]
    want = [list(s) for s in TD.random_split([1, 2, 3, 4], [-1, 5], generator=torch.Generator().manual_seed(1))]
    got = [list(s) for s in SD.random_split([1, 2, 3, 4], [-1, 5], generator=ts.Generator().manual_seed(1))]
    assert got == want


def test_tensor_dataset_of_no_tensors():
    for _, D in LIBRARIES:
        empty = D.TensorDataset()
        assert empty.tensors == () and empty[0] == ()
        with pytest.raises(IndexError):
            len(empty)


def test_iterable_dataset_is_abstract():
    for _, D in LIBRARIES:
        with pytest.raises(TypeError, match="abstract"):
            D.IterableDataset()


def test_workers_leave_the_main_programs_numpy_and_python_streams_alone():
    class Normals(SD.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return [float(x) for x in np.random.randn(3)] + [random.random()]   # odd: a cached normal

    def main_draws(with_loader):
        np.random.seed(3)
        random.seed(3)
        np.random.randn(1)                      # the main program's cached normal
        if with_loader:
            batches = list(SD.DataLoader(Normals(), batch_size=2, num_workers=2))
            assert len(batches) == 2
        return np.random.randn(3).tolist(), random.random()
    assert main_draws(True) == main_draws(False)
