"""Findings of the torch 2.13 audit of utils.data, nn.utils and nn.init, each checked against torch:
a TensorDataset subclass's own __getitem__ under the DataLoader, typed (Generic) datasets and
samplers, StackDataset, len(iter(loader)), WeightedRandomSampler without replacement, the
get_total_norm / clip_grads_with_norm_ pair and the deprecated aliases, PackedSequence's dtype
methods, vector_to_parameters' views, calculate_gain's types, and torch's error types."""
import collections
import typing

import numpy as np
import pytest
import torch
import torch.utils.data as TD

import tinygrad_seq as ts
from tinygrad_seq.utils import data as SD


def _error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001  the exception itself is what is compared
        return e
    return None


def _lists(batches):
    return [[np.asarray(t.numpy()).tolist() for t in b] for b in batches]


# ------------------------------------------------------------------ datasets and the loader

def test_loader_runs_a_tensordataset_subclass_getitem():
    def run(m, D):
        class Scaled(D.TensorDataset):
            def __getitem__(self, i):
                (x,) = super().__getitem__(i)
                return x * 10, i
        return _lists(D.DataLoader(Scaled(m.arange(4).float()), batch_size=2))
    assert run(ts, SD) == run(torch, TD) == [[[0.0, 10.0], [0, 1]], [[20.0, 30.0], [2, 3]]]


def test_loader_runs_a_tensordataset_subclass_getitems():
    def run(m, D):
        class Batched(D.TensorDataset):
            def __getitems__(self, indices):
                return [(self.tensors[0][i] + 100,) for i in indices]
        return _lists(D.DataLoader(Batched(m.arange(4).float()), batch_size=3))
    assert run(ts, SD) == run(torch, TD)


def test_plain_tensordataset_batches_as_torch():
    def run(m, D):
        ds = D.TensorDataset(m.arange(10).float(), m.arange(10))
        return _lists(D.DataLoader(ds, batch_size=4))
    assert run(ts, SD) == run(torch, TD)


@pytest.mark.parametrize("name", ["Dataset", "IterableDataset", "Sampler"])
def test_datasets_and_samplers_are_generic(name):
    hint = typing.Tuple[int, str]
    for D in (TD, SD):
        base = getattr(D, name)

        class Typed(base[hint]):
            pass
        assert issubclass(Typed, base)
    assert issubclass(SD.IterableDataset, SD.Dataset)


def test_stack_dataset_as_torch():
    def run(m, D):
        a, b = D.TensorDataset(m.arange(3).float()), [10, 11, 12]
        pair, named = D.StackDataset(a, b), D.StackDataset(x=a, y=b)
        items = (len(pair), pair[1][1], named[2]["y"], sorted(named[0]))
        batches = [np.asarray(batch["y"].numpy()).tolist() for batch in D.DataLoader(named, batch_size=2)]
        return items, batches
    assert run(ts, SD) == run(torch, TD)
    for D in (TD, SD):
        for bad in (lambda: D.StackDataset(), lambda: D.StackDataset([1], y=[2]),
                    lambda: D.StackDataset([1], [1, 2])):
            assert isinstance(_error(bad), ValueError)


def test_len_of_loader_iterator():
    for D in (TD, SD):
        it = iter(D.DataLoader(list(range(5)), batch_size=2))
        assert len(it) == 3
        assert next(it).tolist() == [0, 1] and len(list(it)) == 2


def test_worker_options_need_workers():
    for D in (TD, SD):
        assert isinstance(_error(lambda: D.DataLoader([1, 2], persistent_workers=True)), ValueError)
        assert isinstance(_error(lambda: D.DataLoader([1, 2], prefetch_factor=2)), ValueError)
        assert D.DataLoader([1, 2], num_workers=2).prefetch_factor == 2


@pytest.mark.parametrize("make", [lambda: collections.defaultdict(int, a=1),
                                  lambda: collections.OrderedDict(a=1, b=2.0)])
def test_collate_keeps_mapping_type(make):
    batch = [make(), make()]
    for fn in ("default_collate", "default_convert"):
        theirs = getattr(TD, fn)(batch if fn == "default_collate" else batch[0])
        ours = getattr(SD, fn)(batch if fn == "default_collate" else batch[0])
        assert type(ours) is type(theirs) and list(ours) == list(theirs)
        assert [np.asarray(v).tolist() for v in ours.values()] == \
            [np.asarray(v).tolist() for v in theirs.values()]
    ours = SD.default_collate([collections.defaultdict(int, a=1)] * 2)
    assert ours.default_factory is int and ours["missing"] == 0


# ------------------------------------------------------------------ WeightedRandomSampler

def test_weighted_sampler_without_replacement_runs_into_zero_weights():
    w = [0.0, 1.0, 0.0, 2.0]
    for D in (TD, SD):
        for _ in range(20):
            got = list(D.WeightedRandomSampler(w, 3, replacement=False))
            assert len(set(got)) == 3 and set(got[:2]) == {1, 3} and got[2] in (0, 2)


def test_weighted_sampler_without_replacement_first_draw_follows_weights():
    g = ts.Generator().manual_seed(0)
    firsts = [next(iter(SD.WeightedRandomSampler([1.0, 2.0, 7.0], 2, replacement=False, generator=g)))
              for _ in range(3000)]
    assert np.abs(np.bincount(firsts, minlength=3) / 3000 - [0.1, 0.2, 0.7]).max() < 0.03


def test_weighted_sampler_more_samples_than_weights_raises_when_iterated():
    for D in (TD, SD):
        sampler = D.WeightedRandomSampler([1.0, 2.0], 3, replacement=False)
        assert isinstance(_error(lambda: list(sampler)), RuntimeError)


def test_weighted_sampler_weights_is_float64_tensor():
    theirs = TD.WeightedRandomSampler([1, 2], 3).weights
    ours = SD.WeightedRandomSampler([1, 2], 3).weights
    assert isinstance(theirs, torch.Tensor) and theirs.dtype == torch.float64
    assert isinstance(ours, ts.Tensor) and ours.dtype == ts.float64
    assert ours.tolist() == theirs.tolist()


# ------------------------------------------------------------------ error types

def test_dataset_errors_are_assertion_errors():
    class Stream(SD.IterableDataset):
        def __iter__(self):
            return iter([1])

    class TorchStream(TD.IterableDataset):
        def __iter__(self):
            return iter([1])
    for m, D, S in ((torch, TD, TorchStream), (ts, SD, Stream)):
        assert isinstance(_error(lambda: D.TensorDataset(m.zeros(3), m.zeros(4))), AssertionError)
        assert isinstance(_error(lambda: D.ConcatDataset([])), AssertionError)
        assert isinstance(_error(lambda: D.ConcatDataset([S()])), AssertionError)


def test_collate_of_unequal_arrays_is_runtime_error():
    batch = [np.zeros(2), np.zeros(3)]
    for D in (TD, SD):
        e = _error(lambda: D.default_collate(batch))
        assert isinstance(e, RuntimeError) and "equal size" in str(e)


def test_rnn_utils_errors_are_runtime_errors():
    for m in (torch, ts):
        R = m.nn.utils.rnn
        for bad in (lambda: R.pack_padded_sequence(m.zeros(4, 3, 1), [4, 3]),
                    lambda: R.pad_sequence([]),
                    lambda: R.pad_sequence([m.zeros(2, 3), m.zeros(2, 4)]),
                    lambda: R.pad_sequence([m.zeros(2)], padding_side="middle")):
            assert isinstance(_error(bad), RuntimeError)


def test_init_range_errors_are_runtime_errors():
    for m in (torch, ts):
        e = _error(lambda: m.nn.init.uniform_(m.empty(3), 2.0, 1.0))
        assert isinstance(e, RuntimeError) and "from=2 > to=1" in str(e)
        e = _error(lambda: m.nn.init.normal_(m.empty(3), 0.0, -1.0))
        assert isinstance(e, RuntimeError) and "normal expects std >= 0.0" in str(e)
        assert isinstance(_error(lambda: m.nn.init.xavier_normal_(m.empty(3, 3), gain=-1.0)), RuntimeError)
        m.nn.init.normal_(m.empty(3), 0.0, 0.0)          # std 0 is allowed
        m.nn.init.uniform_(m.empty(3), 1.0, 1.0)         # so is an empty range


# ------------------------------------------------------------------ nn.init

def test_calculate_gain_types_and_slope_check():
    for name in ("linear", "conv2d", "sigmoid", "tanh", "relu", "selu"):
        ours, theirs = ts.nn.init.calculate_gain(name), torch.nn.init.calculate_gain(name)
        assert ours == theirs and type(ours) is type(theirs)
    for slope in (0, 1, 0.2, -0.5):
        ours, theirs = (m.nn.init.calculate_gain("leaky_relu", slope) for m in (ts, torch))
        assert ours == theirs
    for slope in (True, "x", np.float32(0.2)):
        for m in (torch, ts):
            with pytest.raises(ValueError, match="not a valid number"):
                m.nn.init.calculate_gain("leaky_relu", slope)


@pytest.mark.parametrize("name", ["uniform", "normal", "constant", "eye", "dirac", "xavier_uniform",
                                  "xavier_normal", "kaiming_uniform", "kaiming_normal",
                                  "orthogonal", "sparse"])
def test_deprecated_init_aliases_warn_and_work(name):
    args = {"constant": (0.5,), "sparse": (0.5,)}.get(name, ())
    shape = (4, 4, 3) if name == "dirac" else (4, 4)
    for m in (torch, ts):
        with pytest.warns(FutureWarning, match=f"`nn.init.{name}` is now deprecated in favor of "
                                               f"`nn.init.{name}_`"):
            out = getattr(m.nn.init, name)(m.empty(*shape), *args)
        assert tuple(out.shape) == shape
    assert getattr(ts.nn.init, name).__name__ == name


# ------------------------------------------------------------------ clipping

def _params(m, grads):
    ps = []
    for g in grads:
        p = m.nn.Parameter(m.zeros(*g.shape, dtype=m.float64))
        p.grad = m.tensor(g)
        ps.append(p)
    return ps


@pytest.mark.parametrize("norm_type", [2.0, 1.0, float("inf"), 3.0])
def test_get_total_norm_then_clip_grads_with_norm(norm_type):
    grads = [np.arange(6.0).reshape(2, 3), -np.arange(4.0)]
    out = []
    for m in (torch, ts):
        ps = _params(m, grads)
        total = m.nn.utils.get_total_norm([p.grad for p in ps], norm_type)
        assert m.nn.utils.clip_grads_with_norm_(ps, 1.0, total) is None
        out.append((float(total), [np.asarray(p.grad.numpy()) for p in ps]))
    assert np.isclose(out[0][0], out[1][0])
    for a, b in zip(out[0][1], out[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_get_total_norm_edges():
    for m in (torch, ts):
        empty = m.nn.utils.get_total_norm([])
        assert float(empty) == 0.0 and empty.dtype == m.float32
        assert float(m.nn.utils.get_total_norm(m.tensor([3.0, 4.0]))) == 5.0
        with pytest.raises(RuntimeError, match="non-finite"):
            m.nn.utils.get_total_norm([m.tensor([float("inf")])], error_if_nonfinite=True)


def test_clip_grad_norm_is_deprecated_alias():
    grads = [np.arange(6.0).reshape(2, 3)]
    out = []
    for m in (torch, ts):
        ps = _params(m, grads)
        with pytest.warns(FutureWarning, match="clip_grad_norm` is now deprecated"):
            out.append(float(m.nn.utils.clip_grad_norm(ps, 1.0)))
    assert np.isclose(out[0], out[1])


def test_clip_grad_norm_warns_on_empty_generator():
    for m in (torch, ts):
        with pytest.warns(UserWarning, match="empty generator"):
            m.nn.utils.clip_grad_norm_((p for p in []), 1.0)


# ------------------------------------------------------------------ PackedSequence, parameters

@pytest.mark.parametrize("method", ["half", "float", "double", "long", "int", "short", "char", "byte"])
def test_packed_sequence_dtype_methods(method):
    for m in (torch, ts):
        p = m.nn.utils.rnn.pack_sequence([m.tensor([3.0, 2.0]), m.tensor([1.0])])
        q = getattr(p, method)()
        want = getattr(m.tensor([1.0]), method)().dtype
        assert q.data.dtype == want and q.batch_sizes.dtype == m.int64
        assert type(q).__name__ == "PackedSequence"


def test_vector_to_parameters_views_vec_as_torch():
    out = []
    for m in (torch, ts):
        lin = m.nn.Linear(3, 2)
        vec = m.arange(10.0)                       # 2 more than the 8 parameters: ignored
        m.nn.utils.vector_to_parameters(vec, lin.parameters())
        vec[0] = 100.0
        out.append((lin.weight.detach().numpy().tolist(), lin.bias.detach().numpy().tolist(),
                    isinstance(lin.weight, m.nn.Parameter), lin.weight.requires_grad))
    assert out[0] == out[1]
    assert out[1][0][0][0] == 100.0 and out[1][1] == [6.0, 7.0]


def test_vector_to_parameters_errors():
    for m in (torch, ts):
        lin = m.nn.Linear(3, 2)
        assert isinstance(_error(lambda: m.nn.utils.vector_to_parameters(m.arange(5.0), lin.parameters())),
                          RuntimeError)
        assert isinstance(_error(lambda: m.nn.utils.vector_to_parameters([1.0], lin.parameters())), TypeError)


def test_parameters_round_trip_trains():
    lin = ts.nn.Linear(3, 2)
    vec = ts.nn.utils.parameters_to_vector(lin.parameters()).detach().clone()
    ts.nn.utils.vector_to_parameters(vec, lin.parameters())
    lin(ts.ones(4, 3)).sum().backward()
    assert lin.weight.grad.shape == (2, 3) and lin.bias.grad.tolist() == [4.0, 4.0]
