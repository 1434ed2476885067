"""Review of stop 44's diff: views taken before an in-place reshape in the graph, the BLAS in-place
forms without overlap refusals, torch's leaf error before its overlap error, retain_grad across an
in-place reshape; each compared with torch 2.13."""
import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")

W = np.arange(6.).reshape(2, 3).astype(np.float32)


def _grad_through_view_before_reshape(L, view_fn, reshape_fn):
    w = L.tensor(W, requires_grad=True)
    h = w * 1
    a = view_fn(h)          # a view of h taken before h changes shape in place
    reshape_fn(h)           # in the graph: inplace_reshape.reshape_in_graph
    g = L.tensor(np.arange(a.numel(), dtype=np.float32)).reshape(tuple(a.shape))
    (a * g).sum().backward()
    return w.grad.numpy()


@pytest.mark.parametrize("view_fn, reshape_fn", [
    (lambda h: h.view(6), lambda h: h.t_()),                     # wrong gradient (transposed)
    (lambda h: h[0], lambda h: h.t_()),                          # wrong gradient
    (lambda h: h.t(), lambda h: h.transpose_(0, 1)),             # wrong gradient
    (lambda h: h[:, 0], lambda h: h.unsqueeze_(0)),              # ValueError: cannot reshape
    (lambda h: h.view(6), lambda h: h.unsqueeze_(1)),            # ValueError: cannot reshape
], ids=["view6_t_", "row_t_", "t_transpose_", "col_unsqueeze_", "view6_unsqueeze_"])
def test_view_taken_before_inplace_reshape_in_graph(view_fn, reshape_fn):
    want = _grad_through_view_before_reshape(torch, view_fn, reshape_fn)
    got = _grad_through_view_before_reshape(ts, view_fn, reshape_fn)
    np.testing.assert_array_equal(got, want)


def test_addmv_inplace_partial_overlap_is_not_refused():
    # torch's addmv_ / addmm_ are not TensorIterator ops: no partial-overlap refusal (6c16d00 matched)
    def run(L):
        a = L.arange(16.).reshape(4, 4)
        a.view(-1)[1:5].addmv_(a[:4, :4], a.view(-1)[0:4])
        return a.numpy()
    np.testing.assert_array_equal(run(ts), run(torch))


def test_addmm_inplace_partial_overlap_is_not_refused():
    a = torch.arange(16.).reshape(4, 4)
    a[1:].addmm_(a[:3], torch.eye(4))   # torch computes it
    b = ts.arange(16.).reshape(4, 4)
    b[1:].addmm_(b[:3], ts.eye(4))      # HEAD: RuntimeError "some elements of the input tensor ..."


def test_retain_grad_then_unsqueeze_inplace():
    def run(L):
        w = L.tensor(W, requires_grad=True)
        h = w * 1
        h.retain_grad()
        a = h * 2
        h.unsqueeze_(0)
        (a.sum() + h.sum() * 3).backward()
        return h.grad.numpy()
    want, got = run(torch), run(ts)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("op", [lambda w: w.add_(w[0]), lambda w: w[1:].lerp_(w[:-1], 0.5),
                                lambda w: w.t().copy_(w)])
def test_leaf_error_comes_before_overlap_error(op):
    with pytest.raises(RuntimeError) as want:
        op(torch.ones(3, 3, requires_grad=True))
    with pytest.raises(RuntimeError) as got:
        op(ts.ones(3, 3, requires_grad=True))
    assert "leaf Variable" in str(want.value)
    assert "leaf Variable" in str(got.value)


def test_view_before_a_reshape_then_a_write_is_refused_not_wrong():
    w = ts.tensor(W, requires_grad=True)
    h = w * 1
    a = h.view(6)
    h.t_()
    h.mul_(2)   # the view's region of h now reads otherwise: refused with a clear error
    with pytest.raises(RuntimeError, match="taken before an in-place unsqueeze_"):
        (a * 1).sum().backward()
    w2 = ts.tensor(W, requires_grad=True)
    h2 = w2 * 1
    b = h2[0]
    h2.unsqueeze_(0)
    with pytest.raises(RuntimeError, match="taken before an in-place unsqueeze_"):
        b.mul_(3)   # a write through it in the graph


# API.md audit: a PyTorch state dict saves (its tensors as tensors); cat / stack size errors in torch's words
def test_save_a_torch_state_dict_and_load_it_into_ours(tmp_path):
    tm = torch.nn.GRU(3, 4)
    ts.save(tm.state_dict(), tmp_path / "t.pt")
    loaded = ts.load(tmp_path / "t.pt")
    m = ts.nn.GRU(3, 4)
    m.load_state_dict(loaded)
    np.testing.assert_array_equal(m.weight_hh_l0.numpy(), tm.weight_hh_l0.detach().numpy())


@pytest.mark.parametrize("op", ["cat0", "cat1", "catdims", "stack"])
def test_cat_stack_size_errors_are_torchs(op):
    def call(lib):
        a, b = lib.zeros(2, 3), lib.zeros(2, 4) if op != "cat1" else lib.zeros(3, 4)
        if op == "catdims":
            b = lib.zeros(2, 3, 1)
        return lib.stack([a, b]) if op == "stack" else lib.cat([a, b], 1 if op == "cat1" else 0)
    with pytest.raises(RuntimeError) as want:
        call(torch)
    with pytest.raises(RuntimeError) as got:
        call(ts)
    assert str(got.value).startswith(str(want.value))


def test_nodes_of_writes_through_views_and_item_assignment_are_torchs():
    names = []
    for lib in (torch, ts):
        w = lib.ones(3, 2, requires_grad=True)
        outs = lib.zeros(4, 3, 2)
        outs[1] = w * 2          # basic index: CopySlices
        c = w * 1
        c[0].mul_(2)             # a write through a view: the base's CopySlices
        e = w * 1
        e[[0, 2]] = 0.0          # advanced index: IndexPutBackward0
        f = w * 1
        f[f > 1] = 0             # a mask: IndexPutBackward0
        g = w * 1
        v = g[0]
        v.mul_(2)                # the view read again: AsStridedBackward0
        names.append([t.grad_fn.name() for t in (outs, c, e, f, g, v)])
        (outs.sum() + c.sum() + e.sum() + f.sum() + g.sum()).backward()
        names[-1].append(w.grad.tolist())
    assert names[1] == names[0]
