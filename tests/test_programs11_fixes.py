"""Found by running fairseq / OpenNMT-py / AllenNLP / DeepAR / Ptr-Net style programs against
torch 2.13 (round 11): repeat / tile / topk results are new, contiguous, writable tensors; the
free functions take out= (a tuple for (values, indices)); a float fill that overflows the dtype
raises; inf - inf and inf * 0 are nan without numpy's warnings."""
import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")


# F1: repeat() returns a stride-0 read-only view (fairseq sequence_generator's new_order,
# OpenNMT sequence_mask / tile, Ptr-Net decoder_start_input.repeat(batch, 1))
def test_repeat_then_view_fairseq_new_order():
    want = torch.arange(4).view(-1, 1).repeat(1, 2).view(-1)
    got = ts.arange(4).view(-1, 1).repeat(1, 2).view(-1)   # ShapeMismatch here
    assert got.tolist() == want.tolist()


def test_repeat_result_is_contiguous():
    assert torch.arange(3).repeat(2, 1).is_contiguous()
    assert ts.arange(3).repeat(2, 1).is_contiguous()


def test_repeat_result_is_writable():
    a = torch.zeros(3).repeat(2, 1); a[0, 0] = 9; a.add_(1)
    b = ts.zeros(3).repeat(2, 1); b[0, 0] = 9; b.add_(1)   # "assignment destination is read-only"
    assert b.tolist() == a.tolist()


def test_tile_then_view():
    want = torch.arange(3).view(3, 1).tile(1, 2).view(-1)
    got = ts.arange(3).view(3, 1).tile(1, 2).view(-1)
    assert got.tolist() == want.tolist()


# F2: topk indices are a narrow() of the full argsort: not contiguous, .view fails
# (OpenNMT beam search: topk_ids.view(-1, 1))
def test_topk_indices_view():
    x = np.random.RandomState(0).randn(2, 27).astype(np.float32)
    _, ti = torch.topk(torch.tensor(x), 3, dim=-1)
    _, si = ts.topk(ts.tensor(x), 3, dim=-1)
    assert si.is_contiguous() == ti.is_contiguous()
    assert si.view(-1, 1).tolist() == ti.view(-1, 1).tolist()


# F3: out= missing on common free functions
def test_max_binary_out_fairseq_amsgrad():
    a, b = np.array([1., 5.], np.float32), np.array([2., 1.], np.float32)
    ta = torch.tensor(a); torch.max(ta, torch.tensor(b), out=ta)
    sa = ts.tensor(a); ts.max(sa, ts.tensor(b), out=sa)   # TypeError: unexpected keyword 'out'
    assert sa.tolist() == ta.tolist()


@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "maximum", "minimum", "pow"])
def test_binary_out(name):
    a, b = np.array([1., 5.], np.float32), np.array([2., 1.], np.float32)
    to = torch.zeros(2); getattr(torch, name)(torch.tensor(a), torch.tensor(b), out=to)
    so = ts.zeros(2); getattr(ts, name)(ts.tensor(a), ts.tensor(b), out=so)
    assert np.allclose(so.tolist(), to.tolist())


def test_cat_stack_clamp_where_out():
    x = np.array([1., 5.], np.float32)
    to = torch.zeros(4); torch.cat([torch.tensor(x), torch.tensor(x)], out=to)
    so = ts.zeros(4); ts.cat([ts.tensor(x), ts.tensor(x)], out=so)
    assert so.tolist() == to.tolist()


def test_topk_sort_tuple_out():
    x = np.array([[1., 5.], [3., 2.]], np.float32)
    tv, ti = torch.zeros(2, 1), torch.zeros(2, 1, dtype=torch.long)
    torch.topk(torch.tensor(x), 1, out=(tv, ti))
    sv, si = ts.zeros(2, 1), ts.zeros(2, 1, dtype=ts.long)
    ts.topk(ts.tensor(x), 1, out=(sv, si))   # TypeError: out= takes one Tensor here
    assert sv.tolist() == tv.tolist() and si.tolist() == ti.tolist()


# F4: a Python float outside the float dtype's range: torch raises, here silently inf
@pytest.mark.parametrize("fn", [
    lambda L: L.ones(2, dtype=L.float16).masked_fill(L.tensor([True, False]), -1e9),
    lambda L: L.ones(2, dtype=L.float16).masked_fill(L.tensor([True, False]), L.finfo(L.float32).min),
    lambda L: L.ones(2, dtype=L.float16).fill_(1e5),
    lambda L: L.full((2,), 1e5, dtype=L.float16),
    lambda L: L.ones(2).masked_fill(L.tensor([True, False]), -1e300),
])
def test_float_overflow_fill_raises(fn):
    with pytest.raises(RuntimeError):
        fn(torch)
    with pytest.raises(RuntimeError):
        fn(ts)


# F5: numpy RuntimeWarnings leaked where torch is silent (AllenNLP CRF / logsumexp with -inf rows);
# a script's own numpy keeps its warnings
def test_no_numpy_warnings_from_the_engine():
    import subprocess
    import sys
    code = ("import numpy as np, tinygrad_seq as ts\n"
            "a = ts.tensor([float('-inf')]) - ts.tensor([float('-inf')])\n"
            "b = ts.tensor([float('inf')]) * 0\n"
            "assert np.isnan(a.item()) and np.isnan(b.item())\n"
            "np.array([np.inf]) * 0\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stderr.count("RuntimeWarning") == 1 and "<string>" in run.stderr, run.stderr
