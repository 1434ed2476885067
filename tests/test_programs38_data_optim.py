"""Round 38-39 fixes (beside torch 2.13), continued from test_programs38_fixes.py: the DataLoader's
workers and samplers, accumulating writes by the Numba kernel, saturated fused cells, collate
maps, SGD(differentiable=True) and the optimizer modules."""
import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")


# ------------------------------------------------------------------ data loading, accumulating writes
def test_dataloader_workers_iterate_a_batch_sampler_twice_as_torch():
    """torch's worker iterator calls iter() on the batch sampler in __init__ and again in its first
    _reset: a sampler that shuffles in __iter__ draws twice, and what follows draws after both."""
    def run(lib, loader_cls, workers):
        class Buckets:
            def __iter__(self):
                return iter([[2 * p, 2 * p + 1] for p in lib.randperm(4).tolist()])

            def __len__(self):
                return 4
        lib.manual_seed(0)
        order = lib.cat(list(loader_cls(list(range(8)), batch_sampler=Buckets(), num_workers=workers))).tolist()
        return order, lib.rand(2).tolist()
    from tinygrad_seq.utils.data import DataLoader as ours
    from torch.utils.data import DataLoader as theirs
    for workers in (0, 2):
        got, want = run(ts, ours, workers), run(torch, theirs, workers)
        assert got[0] == want[0]
        np.testing.assert_allclose(got[1], want[1], rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_accumulating_writes_by_kernel_add_as_numpy_ufunc_at(dtype):
    """kernels/index_add_cpu.py: the sums of repeated targets bit for bit numpy's ufunc.at (whose
    order, index position by position, is torch's)."""
    from tinygrad_seq import add_at
    from tinygrad_seq.backend_cpu import _scatter_add_at
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 10, 5000)
    src = (rng.standard_normal((5000, 300)) * 100).astype(dtype)
    want = np.ones((10, 300), dtype)
    np.add.at(want, rows, src)
    got = np.ones((10, 300), dtype)
    assert add_at.add_rows(got, 0, rows, src) is got and np.array_equal(got, want)
    src3 = (rng.standard_normal((7, 500, 6)) * 100).astype(dtype)
    want = np.ones((7, 10, 6), dtype)
    np.add.at(np.moveaxis(want, 1, 0), rows[:500], np.moveaxis(src3, 1, 0))
    got = np.ones((7, 10, 6), dtype)
    assert np.array_equal(add_at.add_rows(got, 1, rows[:500], src3), want)
    index = rng.integers(0, 10, (5000, 300))
    want = _scatter_add_at(np.zeros((10, 300), dtype), 0, index, src)
    assert np.array_equal(add_at.scatter_add(np.zeros((10, 300), dtype), 0, index, src, None), want)


def test_index_add_scatter_add_index_put_and_indexing_backward_with_repeats_match_torch():
    rng = np.random.default_rng(1)
    rows, src = rng.integers(0, 10, 5000), rng.standard_normal((5000, 300)).astype(np.float32)
    index = rng.integers(0, 10, (5000, 300))
    base = rng.standard_normal((10, 300)).astype(np.float32)
    for lib in (ts, torch):
        r, s, i = lib.tensor(rows), lib.tensor(src), lib.tensor(index)
        out = [lib.tensor(base).index_add_(0, r, s, alpha=0.5), lib.tensor(base).scatter_add_(0, i, s),
               lib.tensor(base).index_put_((r,), s, accumulate=True),
               lib.zeros(7, 10, 6).index_add_(1, r[:50], lib.tensor(src[:350, :6].reshape(7, 50, 6)))]
        w = lib.tensor(base, requires_grad=True)
        w[r].backward(s)
        out.append(w.grad)
        if lib is ts:
            ours = out
    for k, (a, b) in enumerate(zip(ours, out)):
        if k in (2, 4):   # torch's accumulating index_put_ (and indexing's backward) adds in another order
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=2e-4)
        else:   # index_add_ and scatter_add_ bit for bit
            assert np.array_equal(a.numpy(), b.numpy())


def test_fused_float32_cells_saturate_exactly_as_torch():
    """The float32 kernels' tanh is exactly +-1 past |x| = 9.0109 (torch's float32 tanh): a
    saturated unit passes no gradient (it passed 4.8e-7 of it)."""
    for lib in (ts, torch):
        cell = lib.nn.RNNCell(1, 1)
        with lib.no_grad():
            for p in cell.parameters():
                p.zero_()
            cell.weight_ih.fill_(1.0)
        x = lib.tensor([[20.], [-30.], [0.5]], requires_grad=True)
        h = cell(x)
        h.sum().backward()
        if lib is ts:
            ours = (h.detach().numpy(), x.grad.numpy())
    np.testing.assert_array_equal(ours[0][:2], h.detach().numpy()[:2])
    np.testing.assert_array_equal(ours[1][:2], x.grad.numpy()[:2])
    np.testing.assert_allclose(ours[1][2], x.grad.numpy()[2], rtol=1e-5)
    layer = ts.nn.LSTM(1, 1)
    with ts.no_grad():
        for p in layer.parameters():
            p.fill_(3.0)
    y, (h, c) = layer(ts.full((5, 1, 1), 40.0))
    assert np.isnan(layer(ts.full((2, 1, 1), float("nan")))[0].numpy()).all()
    assert h.item() == pytest.approx(np.tanh(c.item()), rel=1e-6) and c.item() == 5.0   # gates exactly 1


def _data_program(lib, loader_cls, subset_cls, concat_cls, dataset_cls):
    import random

    class Augmented(dataset_cls):
        def __init__(self):
            self.rng, self.py, self.g = np.random.default_rng(0), random.Random(1), lib.Generator().manual_seed(3)

        def __len__(self):
            return 4

        def __getitem__(self, i):
            return float(self.rng.random()) + self.py.random() + lib.rand(1, generator=self.g).item()
    lib.manual_seed(0)
    out = []
    for ds in (Augmented(), subset_cls(Augmented(), [0, 2, 3]), concat_cls([Augmented(), Augmented()])):
        for persistent in (False, True):
            loader = loader_cls(ds, batch_size=2, num_workers=2, persistent_workers=persistent)
            out.append([b.tolist() for _ in range(2) for b in loader])
    return out


def test_dataloader_workers_own_their_datasets_random_generators():
    """torch's workers are processes, each with a copy of the dataset made for the epoch (or kept,
    with persistent workers): a generator the dataset holds draws from the same state in each."""
    from tinygrad_seq.utils.data import ConcatDataset, DataLoader, Dataset, Subset
    import torch.utils.data as tud
    ours = _data_program(ts, DataLoader, Subset, ConcatDataset, Dataset)
    theirs = _data_program(torch, tud.DataLoader, tud.Subset, tud.ConcatDataset, tud.Dataset)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(np.concatenate(a), np.concatenate(b), rtol=1e-6)


def test_random_sampler_with_a_generator_draws_32_at_a_time_and_random_split_takes_tensors():
    from tinygrad_seq.utils.data import RandomSampler, random_split
    from torch.utils.data import RandomSampler as TRandomSampler, random_split as t_random_split
    out = []
    for lib, sampler, split in ((ts, RandomSampler, random_split), (torch, TRandomSampler, t_random_split)):
        g = lib.Generator().manual_seed(1)
        s = sampler(range(10), replacement=True, num_samples=100, generator=g)
        first, second = iter(s), iter(s)
        drawn = [next(first) for _ in range(3)] + [next(second) for _ in range(3)]
        lib.manual_seed(2)
        parts = [list(p) for p in split(range(6), lib.tensor([2, 4]))]
        out.append((drawn, lib.rand(2, generator=g).tolist(), parts))
    assert out[0][0] == out[1][0] and out[0][2] == out[1][2]
    np.testing.assert_allclose(out[0][1], out[1][1], rtol=1e-6)


def test_collate_with_a_collate_fn_map_as_torchs_recipe():
    import collections
    from tinygrad_seq.utils.data._utils.collate import collate, default_collate_fn_map
    from tinygrad_seq.utils.data._utils.worker import get_worker_info
    from torch.utils.data._utils.collate import collate as t_collate, default_collate_fn_map as t_map

    class Box:
        def __init__(self, v):
            self.v = v

    def collate_box(batch, *, collate_fn_map=None):
        return [b.v * 10 for b in batch]
    pair = collections.namedtuple("pair", "a b")
    out = []
    for lib, fn, base in ((ts, collate, default_collate_fn_map), (torch, t_collate, t_map)):
        mapping = {Box: collate_box, **base}
        batch = [{"x": lib.ones(2) * i, "box": Box(i), "p": pair(i, 1.5), "s": f"w{i}", "n": np.float32(i),
                  "t": (i, Box(i))} for i in range(3)]
        got = fn(batch, collate_fn_map=mapping)
        out.append((got["x"].tolist(), got["box"], got["p"].a.tolist(), got["p"].b.tolist(), got["s"],
                    got["n"].tolist(), got["t"][0].tolist(), got["t"][1], str(got["n"].dtype)[-7:]))
        with pytest.raises(TypeError):
            fn([Box(1)])
    assert out[0] == out[1] and get_worker_info() is None


def test_differentiable_sgd_step_keeps_the_graph_as_torchs():
    out = []
    for lib in (ts, torch):
        lib.manual_seed(0)
        results = []
        for kw in (dict(), dict(momentum=0.9), dict(momentum=0.9, nesterov=True, weight_decay=0.01)):
            w = lib.randn(3, requires_grad=True)
            p = w * 1.0
            opt = lib.optim.SGD([p], lr=0.1, differentiable=True, **kw)
            x = lib.randn(5, 3)
            for _ in range(3):
                g, = lib.autograd.grad(((x @ p) ** 2).mean(), p, create_graph=True)
                p.grad = g
                opt.step()
            ((x @ p - 1) ** 2).sum().backward()
            results.append((p.detach().numpy(), w.grad.numpy()))
        out.append(results)
    for (p1, g1), (p2, g2) in zip(*out):
        np.testing.assert_allclose(p1, p2, rtol=1e-5)
        np.testing.assert_allclose(g1, g2, rtol=1e-5)
    with pytest.raises(ValueError, match="non-leaf"):
        ts.optim.SGD([ts.zeros(2, requires_grad=True) * 1], lr=0.1)
    with pytest.raises(ValueError, match="differentiable"):
        ts.optim.Adam([ts.zeros(2, requires_grad=True)], differentiable=True)


def test_optimizer_module_names_and_required():
    from tinygrad_seq.optim.adamw import AdamW
    from tinygrad_seq.optim.optimizer import Optimizer, required
    assert AdamW is ts.optim.AdamW and repr(required) == "<required parameter>" and Optimizer is ts.optim.Optimizer
    import subprocess
    import sys
    code = ("import tinygrad_seq as T\np = T.tensor([0.5, 1.0], requires_grad=True)\n"
            "for opt in (T.optim.Rprop, T.optim.Adadelta, T.optim.Adamax, T.optim.NAdam, T.optim.RAdam):\n"
            "    o = opt([p], lr=0.01)\n    for _ in range(2):\n        p.grad = T.tensor([float('inf'), 1.0]); o.step()\n")
    run = subprocess.run([sys.executable, "-W", "default", "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "Warning" not in run.stderr, run.stderr
