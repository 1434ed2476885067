"""numpy's axis= alias for dim=, which torch's native functions take (torch.max(Y, axis=1),
Y.argmax(axis=1)), and torch.var_mean / torch.std_mean: values, gradients, and the errors,
against real torch."""
import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")

X = np.random.RandomState(0).randn(3, 4, 5)
IDX = np.random.RandomState(1).randint(0, 4, (3, 4, 5))


def _first(r):
    return r[0] if isinstance(r, tuple) else r


# name -> (call(lib, x, **dim_kw), differentiable): the dim given as dim=1 or axis=1
CASES = {
    "argmax": (lambda L, x, **k: x.argmax(**k), False),
    "argmin": (lambda L, x, **k: L.argmin(x, **k), False),
    "max": (lambda L, x, **k: L.max(x, **k), True),
    "min": (lambda L, x, **k: L.min(x, **k), True),
    "max_method": (lambda L, x, **k: x.max(**k), True),
    "softmax": (lambda L, x, **k: x.softmax(**k), True),
    "torch.softmax": (lambda L, x, **k: L.softmax(x, **k), True),
    "log_softmax": (lambda L, x, **k: L.log_softmax(x, **k), True),
    "special.softmax": (lambda L, x, **k: L.special.softmax(x, **k), True),
    "special.logsumexp": (lambda L, x, **k: L.special.logsumexp(x, **k), True),
    "cumsum": (lambda L, x, **k: x.cumsum(**k), True),
    "cumprod": (lambda L, x, **k: L.cumprod(x, **k), True),
    "prod": (lambda L, x, **k: x.prod(**k), True),
    "std": (lambda L, x, **k: x.std(**k), True),
    "var": (lambda L, x, **k: L.var(x, **k), True),
    "all": (lambda L, x, **k: (x > 0).all(**k), False),
    "any": (lambda L, x, **k: L.any(x > 1, **k), False),
    "logsumexp": (lambda L, x, **k: x.logsumexp(**k), True),
    "topk": (lambda L, x, **k: x.topk(2, **k), True),
    "sort": (lambda L, x, **k: L.sort(x, **k), True),
    "argsort": (lambda L, x, **k: x.argsort(**k), False),
    "median": (lambda L, x, **k: x.median(**k), True),
    "nanmedian": (lambda L, x, **k: L.nanmedian(x, **k), True),
    "mode": (lambda L, x, **k: x.round().mode(**k), False),
    "count_nonzero": (lambda L, x, **k: (x > 0).count_nonzero(**k), False),
    "nansum": (lambda L, x, **k: x.nansum(**k), True),
    "nanmean": (lambda L, x, **k: L.nanmean(x, **k), True),
    "squeeze": (lambda L, x, **k: x[:, :1].squeeze(**k), True),
    "unsqueeze": (lambda L, x, **k: L.unsqueeze(x, **k), True),
    "stack": (lambda L, x, **k: L.stack([x, x * 2], **k), True),
    "cat": (lambda L, x, **k: L.cat([x, x * 2], **k), True),
    "gather": (lambda L, x, **k: x.gather(index=L.tensor(IDX), **k), True),
    "index_select": (lambda L, x, **k: L.index_select(x, index=L.tensor([2, 0]), **k), True),
    "chunk": (lambda L, x, **k: x.chunk(2, **k), True),
    "unbind": (lambda L, x, **k: x.unbind(**k), True),
    "narrow": (lambda L, x, **k: x.narrow(start=1, length=2, **k), True),
    "select": (lambda L, x, **k: x.select(index=3, **k), True),
    "kthvalue": (lambda L, x, **k: x.kthvalue(2, **k), True),
    "cummax": (lambda L, x, **k: x.cummax(**k), True),
    "cummin": (lambda L, x, **k: L.cummin(x, **k), True),
    "diff": (lambda L, x, **k: x.diff(**k), True),
    "take_along_dim": (lambda L, x, **k: x.take_along_dim(L.tensor(IDX), **k), True),
    "repeat_interleave": (lambda L, x, **k: x.repeat_interleave(2, **k), True),
    "aminmax": (lambda L, x, **k: L.aminmax(x, **k), False),
    "logcumsumexp": (lambda L, x, **k: x.logcumsumexp(**k), True),
    "quantile": (lambda L, x, **k: x.quantile(0.3, **k), True),
    "nanquantile": (lambda L, x, **k: L.nanquantile(x, 0.3, **k), True),
    "tensor_split": (lambda L, x, **k: x.tensor_split(3, **k), True),
    "amax": (lambda L, x, **k: x.amax(**k), True),
    "sum": (lambda L, x, **k: L.sum(x, **k), True),
    "cosine_similarity": (lambda L, x, **k: L.nn.functional.cosine_similarity(x, x + 1, **k), True),
    "trapezoid": (lambda L, x, **k: L.trapezoid(x, **k), True),
    "cumulative_trapezoid": (lambda L, x, **k: L.cumulative_trapezoid(x, **k), True),
    "var_mean": (lambda L, x, **k: L.var_mean(x, **k), True),
    "std_mean": (lambda L, x, **k: L.std_mean(x, **k), True),
    # dims positional or required in the signature (dim_alias.takes_axis)
    "scatter": (lambda L, x, **k: x.scatter(index=L.tensor(IDX[:, :2]), src=x[:, :2] * 2, **k), True),
    "scatter_": (lambda L, x, **k: (x * 1).scatter_(index=L.tensor(IDX[:, :2]), value=0.5, **k), True),
    "scatter_add": (lambda L, x, **k: L.scatter_add(x, index=L.tensor(IDX[:, :2]), src=x[:, :2] * 2, **k), True),
    "scatter_reduce": (lambda L, x, **k: x.scatter_reduce(index=L.tensor(IDX[:, :2]), src=x[:, :2] * 2, reduce="amax",
                                                          **k), True),
    "index_add": (lambda L, x, **k: L.index_add(x, index=L.tensor([2, 0]), source=x[:, :2] * 3, **k), True),
    "index_add_": (lambda L, x, **k: (x * 1).index_add_(index=L.tensor([2, 0]), source=x[:, :2], **k), True),
    "index_fill": (lambda L, x, **k: x.index_fill(index=L.tensor([1]), value=-1.0, **k), True),
    "index_copy": (lambda L, x, **k: x.index_copy(index=L.tensor([3, 0]), source=x[:, :2] * 3, **k), True),
    "renorm": (lambda L, x, **k: x.renorm(p=2, maxnorm=1.0, **k), True),
    "cross": (lambda L, x, **k: L.cross(x[:, :3], x[:, 1:] * 2, **k), True),
    "linalg.cross": (lambda L, x, **k: L.linalg.cross(x[:, :3], x[:, 1:] * 2, **k), True),
    "select_scatter": (lambda L, x, **k: L.select_scatter(x, x[:, 0] * 2, index=1, **k), True),
    "slice_scatter": (lambda L, x, **k: x.slice_scatter(x[:, :1] * 2, start=1, end=2, **k), True),
    "linalg.vector_norm": (lambda L, x, **k: L.linalg.vector_norm(x, 3, **k), True),
    "linalg.norm": (lambda L, x, **k: L.linalg.norm(x, **k), True),
    "linalg.vecdot": (lambda L, x, **k: L.linalg.vecdot(x, x * 2, **k), True),
}


def _run(lib, name, **kw):
    x = lib.tensor(X, requires_grad=True)
    out = CASES[name][0](lib, x, **kw)
    return x, out


@pytest.mark.parametrize("name", sorted(CASES))
def test_axis_means_dim(name):
    """axis=1 gives torch's values (and gradients), and the same as dim=1 in ours."""
    tx, tout = _run(torch, name, axis=1)
    ox, oout = _run(ts, name, axis=1)
    _, odim = _run(ts, name, dim=1)
    touts = tout if isinstance(tout, tuple) else (tout,)
    oouts = oout if isinstance(oout, tuple) else (oout,)
    douts = odim if isinstance(odim, tuple) else (odim,)
    assert len(touts) == len(oouts)
    for t, o, d in zip(touts, oouts, douts):
        assert tuple(o.shape) == tuple(t.shape)
        np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(d.detach().numpy(), o.detach().numpy())
    if CASES[name][1]:
        weights = [np.random.RandomState(i).randn(*t.shape) for i, t in enumerate(touts)]
        sum(((t * torch.tensor(w)).sum() for t, w in zip(touts, weights) if t.is_floating_point())).backward()
        sum(((o * ts.tensor(w)).sum() for o, w in zip(oouts, weights) if o.dtype.kind == "f")).backward()
        np.testing.assert_allclose(ox.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_dim_and_axis_together_is_a_type_error(name):
    """torch refuses dim= with axis= (a TypeError); so do we (dim=2: not a default of any of them)."""
    with pytest.raises(TypeError):
        _run(torch, name, dim=2, axis=1)
    with pytest.raises(TypeError, match="axis"):
        _run(ts, name, dim=2, axis=1)


@pytest.mark.parametrize("call", [
    lambda L, x: x.softmax(), lambda L, x: x.cumsum(), lambda L, x: x.unsqueeze(), lambda L, x: x.gather(1),
    lambda L, x: x.narrow(1, 0), lambda L, x: x.select(1), lambda L, x: x.index_select(0)])
def test_missing_dim_or_index_is_a_type_error(call):
    x = ts.tensor(X)
    with pytest.raises(TypeError):
        call(torch, torch.tensor(X))
    with pytest.raises(TypeError, match="missing"):
        call(ts, x)


def test_size_stride_and_matrix_norm_take_axis():
    x = np.zeros((2, 3, 4))
    for lib in (torch, ts):
        t = lib.tensor(x)
        assert (t.size(axis=1), t.size(axis=-1), t.stride(axis=0)) == (3, 4, 12)
    np.testing.assert_allclose(ts.linalg.matrix_norm(ts.tensor(X), axis=(0, 2)).numpy(),
                               torch.linalg.matrix_norm(torch.tensor(X), axis=(0, 2)).numpy(), rtol=1e-12)
    with pytest.raises(TypeError, match="axis"):
        ts.tensor(x).size(0, axis=1)


def test_positional_dims_still_work():
    x = ts.tensor(X)
    t = torch.tensor(X)
    np.testing.assert_array_equal(x.argmax(1).numpy(), t.argmax(1).numpy())
    np.testing.assert_allclose(x.softmax(-1).numpy(), t.softmax(-1).numpy())
    np.testing.assert_allclose(x.gather(2, ts.tensor(IDX)).numpy(), t.gather(2, torch.tensor(IDX)).numpy())
    np.testing.assert_allclose(x.narrow(0, 1, 2).numpy(), t.narrow(0, 1, 2).numpy())
    np.testing.assert_allclose(ts.max(x, 2)[0].numpy(), torch.max(t, 2)[0].numpy())
    assert x.sort(-1).values.shape == (3, 4, 5) and x.unsqueeze(0).shape == (1, 3, 4, 5)


def test_d2l_style_calls():
    """d2l.ai's `Y.argmax(axis=1)` and `torch.max(Y, axis=1)` with keepdims=."""
    y = np.random.RandomState(2).randn(6, 10).astype(np.float32)
    np.testing.assert_array_equal(ts.tensor(y).argmax(axis=1).numpy(), torch.tensor(y).argmax(axis=1).numpy())
    ov, oi = ts.max(ts.tensor(y), axis=1, keepdims=True)
    tv, ti = torch.max(torch.tensor(y), axis=1, keepdims=True)
    np.testing.assert_array_equal(ov.numpy(), tv.numpy())
    np.testing.assert_array_equal(oi.numpy(), ti.numpy())
    assert ov.dtype == ts.float32


def test_python_level_functions_refuse_axis_as_torch():
    """torch's python-level functions (F.softmax, Tensor.split, Tensor.norm) take no axis=."""
    x = ts.tensor(X)
    for call in (lambda: ts.nn.functional.softmax(x, axis=1), lambda: x.split(2, axis=1), lambda: x.norm(axis=1)):
        with pytest.raises(TypeError):
            call()
    t = torch.tensor(X)
    for call in (lambda: torch.nn.functional.softmax(t, axis=1), lambda: t.split(2, axis=1), lambda: t.norm(axis=1)):
        with pytest.raises(TypeError):
            call()


MOMENT_CALLS = [
    lambda L, x: L.var_mean(x), lambda L, x: L.std_mean(x), lambda L, x: L.var_mean(x, True),
    lambda L, x: L.std_mean(x, False), lambda L, x: L.var_mean(x, unbiased=False),
    lambda L, x: L.var_mean(x, 1, True, True), lambda L, x: L.std_mean(x, 1, False, True),
    lambda L, x: L.var_mean(x, [0, 2]), lambda L, x: L.std_mean(x, (0, 1), keepdim=True),
    lambda L, x: L.var_mean(x, dim=2, correction=0), lambda L, x: L.std_mean(x, 1, correction=2),
    lambda L, x: L.var_mean(x, 1, unbiased=False, keepdim=True)]


@pytest.mark.parametrize("i", range(len(MOMENT_CALLS)))
def test_var_mean_std_mean_match_torch(i):
    call = MOMENT_CALLS[i]
    tx = torch.tensor(X, requires_grad=True)
    ox = ts.tensor(X, requires_grad=True)
    (tv, tm), (ov, om) = call(torch, tx), call(ts, ox)
    for o, t in ((ov, tv), (om, tm)):
        assert tuple(o.shape) == tuple(t.shape)
        np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-12)
    w1, w2 = np.random.RandomState(3).randn(*tv.shape), np.random.RandomState(4).randn(*tm.shape)
    ((tv * torch.tensor(w1)).sum() + (tm * torch.tensor(w2)).sum()).backward()
    ((ov * ts.tensor(w1)).sum() + (om * ts.tensor(w2)).sum()).backward()
    np.testing.assert_allclose(ox.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_var_mean_dtypes_gradcheck_and_errors():
    xf = np.random.RandomState(5).randn(4, 3).astype(np.float32)
    v, m = ts.var_mean(ts.tensor(xf), 0)
    assert v.dtype == ts.float32 and m.dtype == ts.float32
    x = ts.tensor(np.random.RandomState(6).randn(3, 4), requires_grad=True)
    assert ts.gradcheck(lambda a: ts.std_mean(a, 1, correction=0), (x,))
    with pytest.raises(RuntimeError):
        torch.var_mean(torch.tensor([1, 2, 3]))
    with pytest.raises(RuntimeError, match="floating"):
        ts.var_mean(ts.tensor([1, 2, 3]))
    with pytest.raises(TypeError):
        ts.var_mean(ts.tensor(X), 1, True, unbiased=True)
    assert not hasattr(torch.Tensor, "var_mean") and not hasattr(ts.Tensor, "var_mean")
