"""Findings of porting PyTorch's own test/test_indexing.py (torch 2.13): index_put_'s indices (a
list, uint8 masks, integer accumulation), a list of ranges as a tuple index, index_copy_ with 0-d
and one-element operands, take_along_dim's index dtype, the index tensor dtypes torch takes, and
the internal-overlap rule of item assignment into an expanded tensor. Each compares with torch."""
import itertools
import warnings

import pytest

import tinygrad_seq as ts
from tinygrad_seq.internal_overlap import basic_region, check_item_assignment
from tinygrad_seq.indexing import normalize_index

torch = pytest.importorskip("torch")
from torch_compare import on_both, same  # noqa: E402


# 1. index_put_ takes a list of index tensors, as torch's (test_index_put_accumulate_expanded_values)
def test_index_put_accepts_list_of_indices():
    for M in (torch, ts):
        t = M.zeros((5, 2))
        t.index_put_([M.tensor([0, 1, 2, 3]), M.tensor([1])], M.tensor(1.0), accumulate=True)
        assert t[:, 1].tolist() == [1.0, 1.0, 1.0, 1.0, 0.0]
    put = [M.zeros(5, 2).index_put_([M.tensor([0, 1]), M.tensor([1, 0])], M.tensor(3.0)) for M in (torch, ts)]
    same(put[1], put[0])


@pytest.mark.parametrize("indices", [lambda M: (0,), lambda M: [0], lambda M: (None, M.tensor([1])),
                                     lambda M: M.tensor([1])])
def test_index_put_indices_must_be_tensors_in_a_sequence(indices):
    # torch: "expected Tensor as element 0 in argument 0" / "must be tuple of Tensors, not Tensor"
    assert on_both(lambda M: M.zeros(5, 2).index_put_(indices(M), M.tensor(1.0))) == [TypeError, TypeError]


# 2. index_put_(accumulate=True) on integer tensors narrower than int64 (test_index_put_accumulate_large_tensor)
def test_index_put_accumulate_int8():
    res = []
    for M in (torch, ts):
        a = M.ones(6, dtype=M.int8)
        a.index_put_((M.tensor([-2, 0, -2, -1, 0, -1, 1]),), M.tensor([6, 5, 6, 6, 5, 7, 11], dtype=M.int8),
                     accumulate=True)
        res.append(a.tolist())
    assert res[0] == res[1] == [11, 12, 1, 1, 13, 14]


@pytest.mark.parametrize("dtype", ["int16", "int32", "uint8", "float16", "float64"])
def test_index_put_accumulate_keeps_dtype(dtype):
    out = [M.ones(6, dtype=getattr(M, dtype)).index_put_(
        (M.tensor([0, 1, 0]),), M.tensor([5, 6, 7], dtype=getattr(M, dtype)), accumulate=True) for M in (torch, ts)]
    same(out[1], out[0])


@pytest.mark.parametrize("accumulate", [False, True])
def test_index_put_values_of_another_dtype_raise(accumulate):
    # torch: "Index put requires the source and destination dtypes match", accumulating or not
    got = on_both(lambda M: M.ones(6).index_put_((M.tensor([0, 1]),), M.tensor([5.0, 6.0], dtype=M.float64),
                                                 accumulate=accumulate))
    assert got[0] is RuntimeError and issubclass(got[1], RuntimeError)


# 3. a uint8 index to index_put_ is a mask, as in item assignment (test_byte_mask_accumulate)
def test_index_put_uint8_mask_is_a_mask():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch's (and our) uint8-index deprecation warning
        for M in (torch, ts):
            mask = M.zeros(10, dtype=M.uint8)
            y = M.ones(10, 10)
            y.index_put_((mask,), y[mask], accumulate=True)
            assert float(y.sum()) == 100.0


def test_index_put_uint8_mask_accumulate_values():
    out = []
    for M in (torch, ts):
        with pytest.warns(UserWarning, match="uint8 is now deprecated"):
            out.append(M.ones(4, 2).index_put_((M.tensor([1, 0, 1, 0], dtype=M.uint8),), M.tensor(2.0),
                                               accumulate=True))
    same(out[1], out[0])


# 4. a short list holding sequences is a tuple of indices; a range counts (test_list_indices)
@pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")
def test_list_of_ranges_is_a_tuple_index():
    x = ts.arange(9).view(3, 3)
    assert x[[range(3), range(3)]].tolist() == [0, 4, 8]   # torch: the diagonal
    t = ts.randn(100)
    with pytest.raises(IndexError, match="too many indices"):
        t[[range(i, i + 10) for i in range(31)]]


@pytest.mark.parametrize("index", [lambda: [range(2), 1], lambda: (0, range(2)), lambda: (range(2), range(1, 3)),
                                   lambda: [range(i, i + 2) for i in range(32)]])
def test_ranges_in_an_index_match_torch(index):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the non-tuple-sequence deprecation warning
        out = [M.arange(1600).view(40, 40)[index()] for M in (torch, ts)]
    same(out[1], out[0])


# 6. index_copy_ with every mix of 0-d / one-element target, index and source (test_index_copy_scalars)
@pytest.mark.parametrize("st,si,ss", list(itertools.product([(), (1,)], repeat=3)))
def test_index_copy_scalar_shapes(st, si, ss):
    out = []
    for M in (torch, ts):
        tg = M.zeros(st)
        tg.index_copy_(0, M.zeros(si, dtype=M.int64), M.ones(ss) * 3)
        out.append((tuple(tg.shape), tg.flatten().tolist()))
    assert out[0] == out[1]


def test_index_copy_and_add_take_a_0d_index():
    for op in ("index_copy_", "index_add_"):
        out = [getattr(M.zeros(3, 2), op)(0, M.tensor(1), M.ones(1, 2) * 3) for M in (torch, ts)]
        same(out[1], out[0])


def test_index_copy_0d_source_of_a_1d_self_with_a_0d_index_keeps_grad():
    src = ts.tensor(2.0, requires_grad=True)
    ts.zeros(3).index_copy(0, ts.tensor(1), src).sum().backward()
    assert src.grad.item() == 1.0


# 7. take_along_dim with a dim takes int64 indices only (test_take_along_dim_invalid)
def test_take_along_dim_int32_indices_rejected():
    t = ts.arange(6.0).reshape(2, 3)
    with pytest.raises(RuntimeError, match="dtype of indices should be Long but got Int"):
        ts.take_along_dim(t, ts.zeros(2, 3, dtype=ts.int32), dim=0)


@pytest.mark.parametrize("dtype", ["int32", "int16", "uint8", "bool", "float32"])
@pytest.mark.parametrize("dim", [0, None])
def test_take_along_dim_index_dtypes_match_torch(dtype, dim):
    # without a dim torch gathers from the flattened tensor, which takes int32 as well
    got = on_both(lambda M: M.take_along_dim(M.arange(6.0).reshape(2, 3), M.zeros(2, 3, dtype=getattr(M, dtype)),
                                             dim=dim))
    if isinstance(got[0], type):
        assert got[0] is RuntimeError and issubclass(got[1], RuntimeError)
    else:
        same(got[1], got[0])


@pytest.mark.parametrize("dtype", ["int8", "int16", "float32"])
def test_index_tensor_dtypes_torch_refuses(dtype):
    got = on_both(lambda M: M.arange(5.0)[M.tensor([1, 0], dtype=getattr(M, dtype))])
    assert got == [IndexError, IndexError]


# 9. item assignment into an expanded tensor: torch checks the region written (test_expand_view)
_EXPANDED_WRITES = {"v[2, 2]": (2, 2), "v[2]": 2, "v[:, 2]": (slice(None), 2), "v[2, 1:2]": (2, slice(1, 2)),
                    "v[2, 1:3]": (2, slice(1, 3)), "v[2, ::5]": (2, slice(None, None, 5)), "v[...]": Ellipsis,
                    "v[None, 2, 2]": (None, 2, 2), "v[2, None]": (2, None), "v[False]": False, "v[True, 2, 2]":
                    (True, 2, 2), "v[[2], [2]]": ([2], [2]), "v[2, [1, 2]]": (2, [1, 2])}


@pytest.mark.parametrize("name", sorted(_EXPANDED_WRITES))
def test_item_assignment_overlap_rule_matches_torch(name):
    index = _EXPANDED_WRITES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch's index_put_-on-expanded deprecation warning
        torch_raised = on_both(lambda M: M.ones(5, 1).expand(5, 5).__setitem__(index, 0) if M is torch else 0)[0]
        v = ts.ones(5, 1).expand(5, 5)
        nidx, advanced = normalize_index(index, v)
        try:
            check_item_assignment(v.array, nidx, advanced)
            ours_raised = None
        except RuntimeError:
            ours_raised = RuntimeError
    assert ours_raised is (RuntimeError if torch_raised is RuntimeError else None)


def test_basic_region_matches_numpy_view():
    import numpy as np
    a = np.broadcast_to(np.arange(12.0).reshape(3, 1, 4, 1), (3, 5, 4, 2))
    for index in [(1,), (slice(None), 2), (Ellipsis, 0), (None, 1, Ellipsis, slice(0, 1)), (None, 2, slice(1, 3)),
                  (slice(None, None, 2), slice(None), 3, None)]:
        view = a[index]   # (a view: numpy copies for a Python bool, as for any advanced index)
        shape, strides = basic_region(a.shape, a.strides, index)
        assert shape == view.shape   # (numpy's stride of a dim of one element is arbitrary)
        assert [s for s, n in zip(strides, shape) if n > 1] == [s for s, n in zip(view.strides, shape) if n > 1]


def test_advanced_write_into_expanded_warns_like_torch():
    v = ts.ones(5, 1).expand(5, 5)
    nidx, advanced = normalize_index(([2], [2]), v)
    with pytest.warns(UserWarning, match="index_put_ on expanded tensors is deprecated"):
        check_item_assignment(v.array, nidx, advanced)


def test_write_one_element_of_expanded_view():
    for M in (torch, ts):
        t = M.ones((5, 1))
        v = t.expand(5, 5)
        v[2, 2] = 0
        assert t[2, 0].item() == 0 and v[2, 0].item() == 0


def _expand_writes(M):
    """Writes into an expand(5, 5) of a [5, 1] tensor and a split piece of an expand: the base
    after each, or the error type (torch refuses a region that repeats memory)."""
    import warnings
    out = []
    writes = (lambda v: v.__setitem__((2, 2), 0), lambda v: v.__setitem__(2, 0), lambda v: v.fill_(0),
              lambda v: v.zero_(), lambda v: v.add_(1), lambda v: v[2, 2].add_(1), lambda v: v[:, 0].add_(1),
              lambda v: v.__setitem__((slice(None), 2), 0), lambda v: v.__setitem__(M.tensor([1, 2]), 7.))
    for write in writes:
        t = M.ones(5, 1)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                write(t.expand(5, 5))
            out.append(t.flatten().tolist())
        except RuntimeError as e:
            out.append(type(e).__name__)
    x = M.arange(3.)
    x.expand(2, 3).split(1)[1].add_(1)
    return out + [x.tolist()]


def test_writes_into_expanded_views_are_torchs():
    assert _expand_writes(ts) == _expand_writes(torch)


# the "cuda" paths of the above (Numba's CUDA simulator, in a subprocess): index_put_'s positions
# are found on the host from the device's index tensors
_CUDA_SNIPPET = r"""
import warnings; warnings.simplefilter("ignore")
import tinygrad_seq as ts
x = ts.ones(6, dtype=ts.int8).to("cuda")
x.index_put_([ts.tensor([0, 1, 0]).to("cuda")], ts.tensor([5, 6, 7], dtype=ts.int8).to("cuda"), accumulate=True)
assert x.dtype == ts.int8 and x.cpu().tolist() == [13, 7, 1, 1, 1, 1], x.cpu().tolist()
y = ts.ones(4, 2).to("cuda")
y.index_put_((ts.tensor([1, 0, 1, 0], dtype=ts.uint8).to("cuda"),), ts.tensor(2.0).to("cuda"), accumulate=True)
assert y.cpu().tolist() == [[3.0, 3.0], [1.0, 1.0], [3.0, 3.0], [1.0, 1.0]], y.cpu().tolist()
z = ts.zeros(3).to("cuda")
z.index_copy_(0, ts.tensor(1).to("cuda"), ts.tensor(4.0).to("cuda"))
assert z.cpu().tolist() == [0.0, 4.0, 0.0], z.cpu().tolist()
assert ts.arange(9).view(3, 3).to("cuda")[[range(3), range(3)]].cpu().tolist() == [0, 4, 8]
"""


def test_cuda_paths_simulator():
    import os
    import subprocess
    import sys
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1", NUMBA_NUM_THREADS="1")
    r = subprocess.run([sys.executable, "-c", _CUDA_SNIPPET], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-800:]
