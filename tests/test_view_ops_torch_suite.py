"""Views, indexing and their errors as PyTorch's test/test_indexing.py and test/test_view_ops.py
check them, each against torch: del t[i], t[True] as a copy, ravel, view's stride rule,
view(dtype)'s checks, split / movedim errors, unsqueeze's strides."""
import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")

VIEW_SIZE = "view size is not compatible with input tensor's size and stride"


def raises_as_torch(run_torch, run_ours):
    """Both raise RuntimeError with the same message."""
    with pytest.raises(RuntimeError) as want:
        run_torch()
    with pytest.raises(RuntimeError) as got:
        run_ours()
    assert str(got.value) == str(want.value)


# ---------------------------------------------------------------- test_indexing
def test_delitem_is_type_error():
    for M in (torch, ts):
        t = M.ones(3)
        with pytest.raises(TypeError, match="does not support deleting items"):
            del t[0]
        with pytest.raises(TypeError):
            del t[0:1]


@pytest.mark.parametrize("idx", [True, False, (None, True), (True, None), (0, True), (True, slice(None), 1),
                                 (Ellipsis, True), (True, [0, 1]), (slice(None), False)])
def test_bool_index_is_a_copy(idx):
    # test_index_getitem_copy_bools_slices: a Python bool indexes as an index tensor, so a copy
    results = []
    for M in (torch, ts):
        t = M.arange(25.0).reshape(5, 5)
        v = t[idx]
        if v.numel():
            v.view(-1)[0] = 100.0
        results.append((tuple(v.shape), t.sum().item()))
    assert results[0] == results[1] == (results[0][0], 300.0)


def test_true_index_is_a_copy():
    for M in (torch, ts):
        t = M.ones(5, 5)
        v = t[True]
        v[0, 0, 1] = 0
        assert t[0, 1].item() == 1.0


def test_bool_index_gradient_and_assignment():
    grads, sums = [], []
    for M in (torch, ts):
        x = M.arange(6.0).requires_grad_()
        y = x.reshape(2, 3)[True, :, 1] * 2
        assert y.grad_fn.name() == "MulBackward0" and x[True].grad_fn.name() == "IndexBackward0"
        y.sum().backward()
        grads.append(x.grad.tolist())
        t = M.ones(3, 3)
        t[True] = 5.0
        t[False] = 7.0
        sums.append(t.sum().item())
    assert grads[0] == grads[1] and sums[0] == sums[1] == 45.0


# ---------------------------------------------------------------- test_view_ops
def test_ravel_of_noncontiguous_is_contiguous_copy():
    for M in (torch, ts):
        s = M.ones(10)
        r = s[::2].ravel()
        assert r.is_contiguous() and tuple(r.shape) == (5,)
        r[0] = 5
        assert s[0].item() == 1.0


def test_ravel_of_contiguous_is_a_view():
    for M in (torch, ts):
        s = M.arange(12.0).reshape(4, 3)[1:3]
        r = s.ravel()
        r[0] = -1.0
        assert s[0, 0].item() == -1.0
        assert M.ones(2, 3).t().ravel().tolist() == [1.0] * 6


@pytest.mark.parametrize("make, shape", [
    (lambda M: M.ones(2, 3).expand(2, 2, 3), (4, 3)),
    (lambda M: M.ones(2, 3, 4).unsqueeze(1).expand(2, 5, 3, 4), (10, 12)),
    (lambda M: M.ones(3, 1).expand(3, 4), (12,)),
    (lambda M: M.ones(1, 4).expand(3, 4), (12,)),
    (lambda M: M.arange(12.0).reshape(3, 4).t(), (-1,)),
    (lambda M: M.arange(24.0).reshape(4, 6)[:, :3], (12,)),
])
def test_view_that_must_copy_raises(make, shape):
    raises_as_torch(lambda: make(torch).view(shape), lambda: make(ts).view(shape))
    assert make(ts).reshape(shape).tolist() == make(torch).reshape(shape).tolist()   # reshape copies


@pytest.mark.parametrize("make, shape", [
    (lambda M: M.ones(2, 3).expand(2, 2, 3), (2, 6)),
    (lambda M: M.ones(2, 3).expand(2, 2, 3), (2, 2, 3, 1)),
    (lambda M: M.ones(1, 4).expand(3, 4), (3, 2, 2)),
    (lambda M: M.arange(24.0).reshape(4, 6)[1:3], (12,)),
    (lambda M: M.arange(24.0).reshape(2, 3, 4).permute(1, 0, 2), (3, 2, 2, 2)),
])
def test_view_that_fits_the_strides_shares_memory(make, shape):
    src = make(ts)
    want, got = make(torch).view(shape), src.view(shape)
    assert tuple(got.stride()) == want.stride() and got.tolist() == want.tolist()
    assert np.shares_memory(got.numpy(), src.numpy())


def test_view_of_a_random_layout_matches_torch():
    # every view shape of tensors laid out by slicing, permuting and expanding: a view where torch has one
    rng = np.random.default_rng(0)
    for _ in range(60):
        shape = tuple(int(s) for s in rng.integers(1, 4, size=rng.integers(2, 4)))
        order = tuple(int(i) for i in rng.permutation(len(shape)))
        step = tuple(slice(None, None, int(rng.integers(1, 3))) for _ in shape)
        a = torch.arange(float(np.prod(shape))).reshape(shape)[step].permute(order)
        b = ts.arange(float(np.prod(shape))).reshape(shape)[step].permute(order)
        n = a.numel()
        for new in [(n,), (1, n)] + [(k, n // k) for k in range(2, n) if n % k == 0]:
            try:
                want = a.view(new).stride()
            except RuntimeError:
                with pytest.raises(RuntimeError, match="view size is not compatible"):
                    b.view(new)
                continue
            got = b.view(new)
            assert got.tolist() == a.view(new).tolist() and np.shares_memory(got.numpy(), b.numpy())
            assert all(s == w for s, w, k in zip(got.stride(), want, new) if k != 1)


def test_view_dtype_zero_dim_keeps_shape():
    assert tuple(torch.tensor(1.0).view(torch.int32).shape) == ()
    assert tuple(ts.tensor(1.0).view(ts.int32).shape) == ()
    assert ts.tensor(1.0).view(ts.int32).item() == torch.tensor(1.0).view(torch.int32).item()


@pytest.mark.parametrize("make, dtype", [
    (lambda M: M.arange(6.0).reshape(2, 3)[:, 1:], "float64"),
    (lambda M: M.arange(8.0).reshape(2, 4)[:, 1:3], "float64"),
    (lambda M: M.arange(8.0).reshape(2, 4)[:, 0:3], "float64"),
    (lambda M: M.arange(6.0).reshape(3, 2).t(), "float64"),
    (lambda M: M.arange(6.0).reshape(3, 2).t(), "float16"),
    (lambda M: M.arange(8.0).reshape(2, 4)[:, ::2], "float64"),
    (lambda M: M.arange(8.0).reshape(2, 4)[:, ::2], "float16"),
    (lambda M: M.zeros(8, dtype=M.float64).reshape(4, 2).t(), "float32"),
    (lambda M: M.zeros(8).reshape(4, 2)[:, :1], "float64"),
    (lambda M: M.tensor(1.0), "float64"),
    (lambda M: M.tensor(1.0), "float16"),
])
def test_view_dtype_size_checks(make, dtype):
    # test_view_dtype_upsize_errors / downsize errors: torch's checks and messages
    raises_as_torch(lambda: make(torch).view(getattr(torch, dtype)), lambda: make(ts).view(getattr(ts, dtype)))


@pytest.mark.parametrize("make, dtype", [
    (lambda M: M.arange(8.0).reshape(2, 4)[:, 2:], "float64"),
    (lambda M: M.arange(8.0).reshape(2, 4)[:, 2:], "float16"),
    (lambda M: M.arange(8.0).reshape(2, 4)[:, 2:], "uint8"),
    (lambda M: M.arange(6.0).reshape(3, 2).t(), "int32"),
    (lambda M: M.zeros(8, dtype=M.float64).reshape(4, 2)[1:, :1], "float32"),
    (lambda M: M.ones(8, dtype=M.float64).reshape(4, 2).expand(3, 4, 2), "float32"),
])
def test_view_dtype_of_a_view_shares_memory(make, dtype):
    src_t, src = make(torch), make(ts)
    want, got = src_t.view(getattr(torch, dtype)), src.view(getattr(ts, dtype))
    assert tuple(got.shape) == tuple(want.shape) and tuple(got.stride()) == want.stride()
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert np.shares_memory(got.numpy(), src.numpy())


@pytest.mark.parametrize("run", [
    lambda M: M.arange(28.0).reshape(7, 4).split(0, 0),
    lambda M: M.arange(28.0).reshape(7, 4).split(-1, 0),
    lambda M: M.zeros(0, 3).split(-1, 0),
    lambda M: M.arange(28.0).reshape(7, 4).split([3, -1, 5], 0),
    lambda M: M.arange(28.0).reshape(7, 4).split([3, 3], 0),
    lambda M: M.ones(2, 3).movedim((0, 0), (1, 0)),
    lambda M: M.ones(2, 3).movedim((0, -2), (1, 0)),
    lambda M: M.ones(2, 3).movedim((0, 1), (-1, 1)),
])
def test_shape_op_errors_are_runtime_errors(run):
    raises_as_torch(lambda: run(torch), lambda: run(ts))


def test_split_zero_of_an_empty_dim():
    want, got = torch.zeros(0, 3).split(0, 0), ts.zeros(0, 3).split(0, 0)
    assert len(got) == len(want) == 1 and tuple(got[0].shape) == (0, 3)


@pytest.mark.parametrize("make", [
    lambda M: M.ones(2, 3)[:, ::2],
    lambda M: M.ones(2, 3).t(),
    lambda M: M.ones(2, 3).expand(4, 2, 3),
    lambda M: M.arange(16.0).reshape(4, 4)[:1, ::2],
    lambda M: M.arange(16.0).reshape(2, 2, 4)[:, :1, 1:],
    lambda M: M.ones(2, 3, 4).permute(2, 0, 1),
    lambda M: M.ones(5, 2),
])
def test_unsqueeze_strides(make):
    # the new dim's stride is size * stride of the dim it goes before, 1 at the end
    a, b = make(torch), make(ts)
    for d in range(a.dim() + 1):
        assert tuple(b.unsqueeze(d).stride()) == a.unsqueeze(d).stride()
    assert np.shares_memory(b.unsqueeze(b.dim()).numpy(), b.numpy())   # still a view of b's memory


def test_unsqueeze_keeps_storage_offset():
    for M in (torch, ts):
        base = M.arange(12.0).reshape(3, 4)
        v = base[1:, 1::2].unsqueeze(2)
        assert v.storage_offset() == 5 and tuple(v.stride()) == (4, 2, 1)
        v[0, 0, 0] = -1.0
        assert base[1, 1].item() == -1.0
