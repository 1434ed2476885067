"""Findings of the OpInfo-driven gradient audit (torch 2.13 op_db, float64), each compared with
torch in the same test: 0-d softmax / squeeze / vander / multi_margin_loss, empty prod and
batch_norm, xlogy / margin_ranking_loss / vector norm subgradients, quantile's gradient w.r.t. q,
.to(memory_format=) copies, and double backwards (cosine_similarity, fmax, fmin, copysign,
nextafter, diagonal einsums, negative-ord vector norms, logit(eps=), polygamma, frexp)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
import tinygrad_seq as ts  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore")
A = np.array([[0.3, -1.2, 2.0], [1.5, 0.4, -0.7]])
B = np.array([[1.0, 0.5, -0.2], [-0.3, 2.2, 0.9]])


def _np(t):
    return None if t is None else (t.detach() + 0).numpy()   # (+ 0: torch's ZeroTensor gradients)


def _assert_same(ours, theirs, rtol=1e-9):
    for s, t in zip(ours, theirs):
        if s is None or t is None:
            assert s is None and t is None
        else:
            np.testing.assert_allclose(s, t, rtol=rtol, atol=1e-12)


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_0d_backward(fn):
    out = []
    for m in (torch, ts):
        x = m.tensor(1.5, dtype=m.float64, requires_grad=True)
        g, = m.autograd.grad(getattr(m, fn)(x, 0), x, m.tensor(2.0, dtype=m.float64), create_graph=True)
        out.append(_np(g))
    np.testing.assert_array_equal(out[1], out[0])


@pytest.mark.parametrize("shape,dim", [((3, 0), 1), ((0,), None), ((2, 0, 3), 1)])
def test_prod_empty_create_graph(shape, dim):
    res = []
    for m in (torch, ts):
        x = m.zeros(*shape, dtype=m.float64, requires_grad=True)
        y = x.prod() if dim is None else x.prod(dim)
        g, = m.autograd.grad(y.sum(), x, create_graph=True)
        res.append((tuple(g.shape), _np(g).sum()))
    assert res[1] == res[0]


def test_xlogy_create_graph_grad_at_zero():
    res = []
    for m in (torch, ts):
        x = m.tensor([0.0, 0.0, 1.0, 0.0], dtype=m.float64, requires_grad=True)
        y = m.tensor([0.0, -1.0, 2.0, 3.0], dtype=m.float64, requires_grad=True)
        gx, gy = m.autograd.grad(m.xlogy(x, y).sum(), [x, y], create_graph=True)
        res.append([_np(gx), _np(gy), *map(_np, m.autograd.grad((gx * gx).sum() + gy.sum(), [x, y]))])
    _assert_same(res[1], res[0])


def test_margin_ranking_loss_grad_at_hinge():
    res = []
    for m in (torch, ts):
        a = m.tensor([1.0, 2.0, 0.0], dtype=m.float64, requires_grad=True)
        b = m.tensor([1.0, 3.0, 0.5], dtype=m.float64, requires_grad=True)
        loss = m.nn.functional.margin_ranking_loss(a, b, m.tensor([1.0, 1.0, -1.0], dtype=m.float64), margin=0.5)
        res.append([_np(g) for g in m.autograd.grad(loss, [a, b])])
    _assert_same(res[1], res[0])


@pytest.mark.parametrize("fn", ["quantile", "nanquantile"])
@pytest.mark.parametrize("interpolation", ["linear", "midpoint", "lower", "nearest"])
def test_quantile_grad_wrt_q(fn, interpolation):
    res = []
    for m in (torch, ts):
        x = m.tensor([[1.0, 3.0, 2.0, 7.0], [1.0, np.nan, 2.0, 7.0]], dtype=m.float64, requires_grad=True)
        q = m.tensor([0.3, 0.6], dtype=m.float64, requires_grad=True)
        y = getattr(m, fn)(x, q, dim=1, interpolation=interpolation)
        res.append([_np(y), *map(_np, m.autograd.grad(y.sum(), [x, q], allow_unused=True))])
    _assert_same(res[1], res[0])


def test_quantile_0d_q_double_backward():
    res = []
    for m in (torch, ts):
        x = m.tensor([1.0, 3.0, 2.0, 7.0], dtype=m.float64, requires_grad=True)
        q = m.tensor(0.3, dtype=m.float64, requires_grad=True)
        gq, = m.autograd.grad(m.quantile(x, q) ** 2, q, create_graph=True)
        res.append([_np(gq), *map(_np, m.autograd.grad(gq, [x, q]))])
    _assert_same(res[1], res[0])


def test_cosine_similarity_double_backward():
    res = []
    for m in (torch, ts):
        x, y = m.tensor(A, requires_grad=True), m.tensor(B, requires_grad=True)
        gs = m.autograd.grad(m.nn.functional.cosine_similarity(x, y, dim=1).sum(), [x, y], create_graph=True)
        res.append([_np(g) for g in m.autograd.grad(sum((g * g).sum() for g in gs), [x, y])])
    _assert_same(res[1], res[0], rtol=1e-10)


_GG = {
    "fmax": lambda m, x, y: m.fmax(x, y) ** 3,
    "fmin": lambda m, x, y: m.fmin(x, y) ** 3,
    "copysign": lambda m, x, y: m.copysign(x, y) ** 3,
    "nextafter": lambda m, x, y: m.nextafter(x, y) ** 3,
    "einsum_diagonal": lambda m, x, y: m.einsum("ii->i", x[:, :2]) ** 3,
    "einsum_iji": lambda m, x, y: m.einsum("iji->j", x.reshape(2, 3, 1).expand(2, 3, 2)) ** 3,
    "einsum_iij_jk": lambda m, x, y: m.einsum("iij,jk->ik", x[:, :2].reshape(2, 1, 2).expand(2, 2, 2), y[:, :1]) ** 3,
    "einsum_ii_scalar": lambda m, x, y: m.einsum("ii->", x[:, :2] * y[:, 1:]) ** 2,
    "vector_norm_neg_ord": lambda m, x, y: m.linalg.vector_norm(x, -1, dim=1),
    "vector_norm_neg_frac": lambda m, x, y: m.linalg.vector_norm(x, -2.5) * y.sum(),
    "normalize_neg_p": lambda m, x, y: m.nn.functional.normalize(x, p=-1.0, dim=1) ** 3,
    "pairwise_distance_neg_p": lambda m, x, y: m.nn.functional.pairwise_distance(x, y, p=-1.0) ** 2,
    "logit_eps": lambda m, x, y: m.logit(x.sigmoid(), eps=1e-6) ** 3,
    "logit_eps_clamped": lambda m, x, y: m.logit(x.sigmoid(), eps=0.3) ** 3,
    "polygamma": lambda m, x, y: m.polygamma(1, x.exp()),
    "polygamma_3": lambda m, x, y: m.polygamma(3, y.exp()) * x.sum(),
    "frexp": lambda m, x, y: m.frexp(x * y * 3.0)[0] ** 3,
}


@pytest.mark.parametrize("name", sorted(_GG))
def test_double_backward(name):
    res = []
    for m in (torch, ts):
        x, y = m.tensor(A, requires_grad=True), m.tensor(B, requires_grad=True)
        gs = m.autograd.grad(_GG[name](m, x, y).sum(), [x, y], create_graph=True, allow_unused=True)
        s = sum((g * g * m.tensor(A + 2)).sum() for g in gs if g is not None and g.requires_grad)
        res.append([_np(g) for g in gs] + [_np(g) for g in m.autograd.grad(s, [x, y], allow_unused=True)])
    _assert_same(res[1], res[0])


@pytest.mark.parametrize("name", ["fmax", "fmin", "copysign", "nextafter"])
def test_host_binary_double_backward_at_ties_and_nan(name):
    res = []
    for m in (torch, ts):
        a = m.tensor([1.0, -2.0, 3.0, 0.0], dtype=m.float64, requires_grad=True)
        b = m.tensor([2.0, -2.0, np.nan, -0.5], dtype=m.float64, requires_grad=True)
        gs = m.autograd.grad((getattr(m, name)(a, b) ** 3).sum(), [a, b], create_graph=True)
        res.append([_np(g) for g in gs] + [gs[1].requires_grad] +
                   [_np(g) for g in m.autograd.grad(sum((g * g).sum() for g in gs), [a, b], allow_unused=True)])
    _assert_same(res[1], res[0])


@pytest.mark.parametrize("name", ["copysign", "nextafter"])
def test_zero_gradient_of_b_ignores_a_nan_incoming_gradient(name):
    res = []
    for m in (torch, ts):
        a = m.tensor([1.0, -2.0], dtype=m.float64, requires_grad=True)
        b = m.tensor([2.0, -1.0], dtype=m.float64, requires_grad=True)
        res.append(_np(m.autograd.grad(getattr(m, name)(a, b), b, m.tensor([np.nan, 1.0], dtype=m.float64))[0]))
    np.testing.assert_array_equal(res[1], res[0])


@pytest.mark.parametrize("ord_", [2, 1, 3, 1.5, 0.5, -1, -2.5, np.inf, -np.inf])
@pytest.mark.parametrize("dim,keepdim", [(1, False), (None, False), (1, True)])
def test_vector_norm_double_backward_with_zeros(ord_, dim, keepdim):
    data = np.array([[0.3, -1.2, 2.0], [0.0, 0.0, 0.0], [0.0, 1.0, -2.0], [1.0, -1.0, 0.5]])
    res = []
    for m in (torch, ts):
        x = m.tensor(data, requires_grad=True)
        y = m.linalg.vector_norm(x, ord_, dim=dim, keepdim=keepdim)
        w = m.tensor(np.linspace(0.5, 1.5, y.numel()).reshape(tuple(y.shape)))
        g, = m.autograd.grad((y * w).sum(), x, create_graph=True)
        res.append([_np(g), _np(m.autograd.grad((g * g * m.tensor(data + 1)).sum(), x)[0])])
    _assert_same(res[1], res[0])


@pytest.mark.parametrize("ord_", [0.5, 0.25])
def test_vector_norm_subgradient_at_zero_small_ord(ord_):
    res = []
    for m in (torch, ts):
        x = m.zeros(5, dtype=m.float64, requires_grad=True)
        g, = m.autograd.grad(m.linalg.vector_norm(x, ord_), x, create_graph=True)
        res.append(_np(g))
    np.testing.assert_array_equal(res[1], res[0])


_TO = {
    "to": lambda m, x: x.to(memory_format=m.channels_last),
    "double": lambda m, x: x.double(memory_format=m.channels_last),
    "float": lambda m, x: x.float(memory_format=m.channels_last),
    "to_contiguous": lambda m, x: x.to(memory_format=m.contiguous_format),
    "to_preserve": lambda m, x: x.to(memory_format=m.preserve_format),
    "double_contiguous": lambda m, x: x.double(memory_format=m.contiguous_format),
    "to_device": lambda m, x: x.to("cpu", memory_format=m.channels_last),
    "to_copy": lambda m, x: x.to(copy=True),
    "already_channels_last": lambda m, x: x.to(memory_format=m.channels_last).to(memory_format=m.channels_last),
    "back_to_contiguous": lambda m, x: x.to(memory_format=m.channels_last).to(memory_format=m.contiguous_format),
}


@pytest.mark.parametrize("how", sorted(_TO))
def test_to_memory_format_copies(how):
    res = []
    for m in (torch, ts):
        x = m.ones(1, 2, 3, 3, dtype=m.float64, requires_grad=True)
        y = _TO[how](m, x)
        res.append((y is x, None if y.grad_fn is None else y.grad_fn.name(), tuple(y.stride()), str(y.dtype)[-7:]))
    assert res[1] == res[0]


@pytest.mark.parametrize("how", ["squeeze", "squeeze_neg", "squeeze_list", "squeeze_tuple", "sum_to_size",
                                 "sum_to_size_list"])
def test_0d_view_ops_return_new_node(how):
    res = []
    for m in (torch, ts):
        x = m.tensor(1.0, dtype=m.float64, requires_grad=True)
        y = {"squeeze": lambda: x.squeeze(0), "squeeze_neg": lambda: x.squeeze(-1),
             "squeeze_list": lambda: x.squeeze([0]), "squeeze_tuple": lambda: x.squeeze(()),
             "sum_to_size": lambda: x.sum_to_size(()), "sum_to_size_list": lambda: x.sum_to_size([])}[how]()
        res.append((y is x, y.grad_fn.name(), tuple(y.shape), _np(m.autograd.grad(y * 3, x)[0])))
    assert res[1] == res[0]


def test_sum_to_size_empty_of_a_matrix_is_the_sum():
    res = []
    for m in (torch, ts):
        y = m.ones(2, 3, dtype=m.float64, requires_grad=True).sum_to_size(())
        res.append((y.grad_fn.name(), y.item()))
    assert res[1] == res[0]


@pytest.mark.parametrize("dim", [1, -2])
def test_0d_squeeze_bad_dim(dim):
    with pytest.raises(IndexError):
        torch.tensor(1.0).squeeze(dim)
    with pytest.raises(IndexError):
        ts.tensor(1.0).squeeze(dim)


def test_put_0d():
    t = torch.put(torch.tensor(1.0), torch.tensor(0), torch.tensor(2.0), True)
    s = ts.put(ts.tensor(1.0), ts.tensor(0), ts.tensor(2.0), True)
    assert s.item() == t.item()


@pytest.mark.parametrize("training,stats", [(True, True), (False, True), (True, False)])
def test_batch_norm_empty_1d(training, stats):
    res = []
    for m in (torch, ts):
        z = m.zeros(0, dtype=m.float64, requires_grad=True)
        rm, rv = (m.zeros(0, dtype=m.float64), m.ones(0, dtype=m.float64)) if stats else (None, None)
        out = m.nn.functional.batch_norm(z, rm, rv, training=training)
        res.append((tuple(out.shape), out.grad_fn.name()))
    assert res[1] == res[0]


@pytest.mark.parametrize("target", [0, [0]])
@pytest.mark.parametrize("reduction", ["mean", "none", "sum"])
def test_multi_margin_loss_0d(target, reduction):
    res = []
    for m in (torch, ts):
        x = m.tensor(0.5, dtype=m.float64, requires_grad=True)
        loss = m.nn.functional.multi_margin_loss(x, m.tensor(target), reduction=reduction)
        res.append((loss.tolist(), tuple(loss.shape), loss.grad_fn.name(), _np(m.autograd.grad(loss.sum(), x)[0])))
    assert res[1] == res[0]


@pytest.mark.parametrize("N", [2, 3])
def test_vander_0d(N):
    res = []
    for m in (torch, ts):
        x = m.tensor(2.0, dtype=m.float64, requires_grad=True)
        v = m.linalg.vander(x, N=N)
        res.append([_np(v), _np(m.autograd.grad(v.sum(), x)[0])])
    _assert_same(res[1], res[0])


@pytest.mark.parametrize("x,N", [(2.0, None), (2.0, 1), ([2.0, 3.0], 1), ([2.0], None)])
def test_vander_refuses_N_below_2(x, N):
    for m in (torch, ts):
        with pytest.raises(RuntimeError, match="N must be greater than 1"):
            m.linalg.vander(m.tensor(x), N=N)
