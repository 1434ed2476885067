"""Findings of the OpInfo-sample audit against torch 2.13 about shapes and argument values:
softmax over an empty dim, logspace / linspace with tensor bounds, group_norm of an empty batch,
memory_format= on the dtype conversions, tensordot's broadcast size-1 contracted dim, and the
arguments torch refuses (diagonal's dims, linalg.cross, prelu, embedding, isclose, multinomial,
the 1-d pools, triplet_margin_loss, rrelu). Each compares with real torch."""
import pytest

import tinygrad_seq as ts
import tinygrad_seq.nn.functional as F

torch = pytest.importorskip("torch")
from torch_compare import T, raises_like_torch, same  # noqa: E402
TF = torch.nn.functional


# 6. softmax family over a dim of size 0: the empty tensor, and a backward that runs
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
def test_softmax_over_empty_dim(name):
    x = torch.zeros(2, 0)
    same(getattr(F, name)(T(x), -1), getattr(TF, name)(x, -1))


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("shape,dim", [((2, 0), -1), ((0, 3), 0), ((2, 0, 3), 1), ((0, 3), 1)])
def test_softmax_empty_backward_and_node(name, shape, dim):
    xt = torch.zeros(*shape, requires_grad=True)
    yt = getattr(TF, name)(xt, dim)
    yt.sum().backward()
    xo = ts.zeros(*shape, requires_grad=True)
    yo = getattr(F, name)(xo, dim)
    same(yo, yt)
    assert yo.grad_fn.name() == yt.grad_fn.name()
    yo.sum().backward()
    same(xo.grad, xt.grad)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_methods_over_empty_dim(name):
    x = torch.zeros(3, 0, dtype=torch.float64)
    same(getattr(T(x), name)(1), getattr(x, name)(1))
    same(getattr(ts, name)(T(x), 1), getattr(torch, name)(x, 1))


def test_softmax_non_empty_unchanged():
    x = torch.randn(4, 5, dtype=torch.float64)
    for name in ("softmax", "log_softmax", "softmin"):
        same(getattr(F, name)(T(x), 1), getattr(TF, name)(x, 1), 1e-12, 1e-12)


# 8. logspace / linspace with 0-d tensor bounds
def test_logspace_tensor_start():
    same(ts.logspace(ts.tensor(0.0), 1.0, 5), torch.logspace(torch.tensor(0.0), 1.0, 5))


def test_linspace_tensor_start_int_dtype():
    same(ts.linspace(ts.tensor(0.0), 4.0, 5, dtype=ts.int64),
         torch.linspace(torch.tensor(0.0), 4.0, 5, dtype=torch.int64))


def test_linspace_logspace_tensor_bounds_more():
    same(ts.linspace(ts.tensor(0), ts.tensor(4.5), 4), torch.linspace(torch.tensor(0), torch.tensor(4.5), 4))
    same(ts.logspace(ts.tensor(0.0), ts.tensor(2), 3, dtype=ts.int64),
         torch.logspace(torch.tensor(0.0), torch.tensor(2), 3, dtype=torch.int64))
    raises_like_torch(lambda: torch.linspace(torch.tensor([0.5]), 4, 5),
                      lambda: ts.linspace(ts.tensor([0.5]), 4, 5))
    raises_like_torch(lambda: torch.logspace(0, torch.ones(2), 5), lambda: ts.logspace(0, ts.ones(2), 5))


@pytest.mark.parametrize("start,end,steps,base", [(1.5, 3, 4, 2), (0.5, 2.7, 5, 10), (-1.5, 2, 4, 2)])
def test_logspace_integer_dtype_truncates_bounds(start, end, steps, base):
    same(ts.logspace(start, end, steps, base=base, dtype=ts.int64),
         torch.logspace(start, end, steps, base=base, dtype=torch.int64))


# 9. diagonal's dims out of range
def test_diagonal_dim_out_of_range_raises():
    x = torch.randn(3, 4)
    with pytest.raises(IndexError):
        torch.diagonal(x, 0, 0, 5)
    with pytest.raises(IndexError):
        ts.diagonal(T(x), 0, 0, 5)


def test_diagonal_dims_more():
    x = torch.randn(3, 4)
    for args in ((0, -3, 1), (0, 1, 1), (0, 0, -2)):
        raises_like_torch(lambda: torch.diagonal(x, *args), lambda: ts.diagonal(T(x), *args))
    raises_like_torch(lambda: x.diagonal(0, 0, 5), lambda: T(x).diagonal(0, 0, 5))
    raises_like_torch(lambda: torch.linalg.diagonal(x, dim1=0, dim2=5),
                      lambda: ts.linalg.diagonal(T(x), dim1=0, dim2=5))
    raises_like_torch(lambda: torch.diagonal(torch.randn(3)), lambda: ts.diagonal(ts.randn(3)))
    same(ts.diagonal(T(x), 1, -1, -2), torch.diagonal(x, 1, -1, -2))


# 10. argument shapes torch refuses
def test_linalg_cross_size1_dim_raises():
    a, b = torch.randn(2, 3), torch.randn(2, 1)
    raises_like_torch(lambda: torch.linalg.cross(a, b), lambda: ts.linalg.cross(T(a), T(b)))


def test_linalg_cross_batch_broadcast_still_works():
    a, b = torch.randn(2, 3), torch.randn(1, 3)
    same(ts.linalg.cross(T(a), T(b)), torch.linalg.cross(a, b), 1e-6, 1e-6)
    a, b = torch.randn(3, 2), torch.randn(3, 1)   # a size-1 batch dim broadcasts, the vector dim is 0
    same(ts.linalg.cross(T(a), T(b), dim=0), torch.linalg.cross(a, b, dim=0), 1e-6, 1e-6)
    raises_like_torch(lambda: torch.linalg.cross(a, b), lambda: ts.linalg.cross(T(a), T(b)))


def test_prelu_2d_weight_raises():
    x, w = torch.randn(2, 3), torch.randn(1, 3)
    raises_like_torch(lambda: TF.prelu(x, w), lambda: F.prelu(T(x), T(w)))


@pytest.mark.parametrize("xs,ws", [((3,), (3,)), ((2, 3), (2,)), ((2, 3, 4), (4,)), ((), (2,))])
def test_prelu_weight_count_raises(xs, ws):
    x, w = torch.randn(xs), torch.randn(ws)
    raises_like_torch(lambda: TF.prelu(x, w), lambda: F.prelu(T(x), T(w)))


@pytest.mark.parametrize("xs,ws", [((2, 3), (3,)), ((2, 3, 4), (3,)), ((2, 3), (1,)), ((2, 3), ())])
def test_prelu_valid_weights(xs, ws):
    x, w = torch.randn(xs), torch.randn(ws)
    same(F.prelu(T(x), T(w)), TF.prelu(x, w))


def test_embedding_1d_weight_raises():
    raises_like_torch(lambda: TF.embedding(torch.tensor([0, 1]), torch.randn(5)),
                      lambda: F.embedding(ts.tensor([0, 1]), ts.randn(5)))
    raises_like_torch(lambda: TF.embedding(torch.tensor([0, 1]), torch.randn(5, 2, 2)),
                      lambda: F.embedding(ts.tensor([0, 1]), ts.randn(5, 2, 2)))


# 11. argument values torch refuses
def test_isclose_negative_tolerance_raises():
    x = torch.randn(3)
    raises_like_torch(lambda: torch.isclose(x, x, rtol=-0.4), lambda: ts.isclose(T(x), T(x), rtol=-0.4))


def test_isclose_allclose_tolerances_more():
    x = torch.randn(3)
    raises_like_torch(lambda: torch.isclose(x, x, atol=-1e-3), lambda: ts.isclose(T(x), T(x), atol=-1e-3))
    raises_like_torch(lambda: torch.isclose(x, x, atol=float("nan")),
                      lambda: ts.isclose(T(x), T(x), atol=float("nan")))
    raises_like_torch(lambda: torch.allclose(x, x, rtol=-1), lambda: ts.allclose(T(x), T(x), rtol=-1))
    raises_like_torch(lambda: x.isclose(x, rtol=-1), lambda: T(x).isclose(T(x), rtol=-1))
    same(ts.isclose(T(x), T(x), rtol=0.0, atol=0.0), torch.isclose(x, x, rtol=0.0, atol=0.0))


def test_multinomial_zero_samples_raises():
    p = torch.rand(3, 4)
    raises_like_torch(lambda: torch.multinomial(p, 0), lambda: ts.multinomial(T(p), 0))
    raises_like_torch(lambda: torch.multinomial(p[0], -1), lambda: ts.multinomial(T(p[0]), -1))
    assert tuple(ts.multinomial(T(p), 2).shape) == (3, 2)


def test_max_pool1d_bad_dilation_padding_raise():
    x = torch.randn(1, 2, 8)
    raises_like_torch(lambda: TF.max_pool1d(x, 2, dilation=0), lambda: F.max_pool1d(T(x), 2, dilation=0))
    raises_like_torch(lambda: TF.max_pool1d(x, 2, padding=-1), lambda: F.max_pool1d(T(x), 2, padding=-1))
    raises_like_torch(lambda: TF.avg_pool1d(x, 2, padding=-1), lambda: F.avg_pool1d(T(x), 2, padding=-1))


@pytest.mark.parametrize("kw", [dict(kernel_size=0), dict(kernel_size=2, stride=0), dict(kernel_size=2, stride=-1),
                                dict(kernel_size=2, padding=2), dict(kernel_size=2, dilation=-1),
                                dict(kernel_size=-1, stride=1)])
def test_pool1d_bad_arguments_raise(kw):
    x = torch.randn(1, 2, 8)
    raises_like_torch(lambda: TF.max_pool1d(x, **kw), lambda: F.max_pool1d(T(x), **kw))
    raises_like_torch(lambda: TF.max_pool1d(x, **kw, return_indices=True),
                      lambda: F.max_pool1d(T(x), **kw, return_indices=True))
    if "dilation" not in kw:
        raises_like_torch(lambda: TF.avg_pool1d(x, **kw), lambda: F.avg_pool1d(T(x), **kw))


def test_pool1d_valid_arguments_unchanged():
    x = torch.randn(1, 2, 9)
    same(F.max_pool1d(T(x), 3, 2, 1, 2), TF.max_pool1d(x, 3, 2, 1, 2))
    same(F.avg_pool1d(T(x), 3, 2, 1), TF.avg_pool1d(x, 3, 2, 1))


def test_triplet_margin_negative_and_rrelu_bounds_raise():
    x = torch.randn(3, 4)
    raises_like_torch(lambda: TF.triplet_margin_loss(x, x, x, margin=-1.0),
                      lambda: F.triplet_margin_loss(T(x), T(x), T(x), margin=-1.0))
    raises_like_torch(lambda: TF.rrelu(x, 0.5, 0.1, training=True),
                      lambda: F.rrelu(T(x), 0.5, 0.1, training=True))


def test_triplet_margin_zero_and_aten_form():
    a, p, n = torch.randn(3, 4), torch.randn(3, 4), torch.randn(3, 4)
    raises_like_torch(lambda: TF.triplet_margin_loss(a, p, n, margin=0.0),
                      lambda: F.triplet_margin_loss(T(a), T(p), T(n), margin=0.0))
    # torch's top-level (ATen) form has no margin check
    same(ts.triplet_margin_loss(T(a), T(p), T(n), -0.5, 2.0, 1e-6, False, 0),
         torch.triplet_margin_loss(a, p, n, -0.5, 2.0, 1e-6, False, 0), 1e-5, 1e-6)


def test_rrelu_bounds_eval_and_inplace():
    x = torch.randn(3, 4)
    raises_like_torch(lambda: TF.rrelu(x, 0.5, 0.1), lambda: F.rrelu(T(x), 0.5, 0.1))
    raises_like_torch(lambda: TF.rrelu_(x.clone(), 0.5, 0.1), lambda: F.rrelu_(T(x), 0.5, 0.1))
    same(F.rrelu(T(x), 0.2, 0.2), TF.rrelu(x, 0.2, 0.2))


# 15. group_norm of an empty batch
def test_group_norm_empty_batch():
    x = torch.zeros(0, 4, 3)
    same(F.group_norm(T(x), 2), TF.group_norm(x, 2))


@pytest.mark.parametrize("shape", [(0, 4, 3), (0, 4), (0, 4, 2, 0)])
def test_group_norm_empty_backward(shape):
    xt, wt, bt = (torch.zeros(*s, requires_grad=True) for s in (shape, (4,), (4,)))
    yt = TF.group_norm(xt, 2, wt, bt)
    yt.sum().backward()
    xo, wo, bo = (ts.zeros(*s, requires_grad=True) for s in (shape, (4,), (4,)))
    yo = F.group_norm(xo, 2, wo, bo)
    same(yo, yt)
    same(F.group_norm(ts.zeros(2, 4, 0), 2), TF.group_norm(torch.zeros(2, 4, 0), 2))   # empty groups
    yo.sum().backward()
    for o, t in ((xo, xt), (wo, wt), (bo, bt)):
        same(o.grad, t.grad)


# 16. dtype conversions take memory_format=
@pytest.mark.parametrize("name", ["float", "double", "long", "int", "bool", "half", "byte", "char", "short"])
def test_conversion_methods_take_memory_format(name):
    x = torch.randn(2, 3)
    same(getattr(T(x), name)(memory_format=ts.preserve_format),
         getattr(x, name)(memory_format=torch.preserve_format))
    raises_like_torch(lambda: getattr(x, name)(torch.preserve_format),
                      lambda: getattr(T(x), name)(ts.preserve_format))


# 18. tensordot: a size-1 contracted dim broadcasts
def test_tensordot_size1_contracted_dim_broadcasts():
    a, b = torch.ones(1, 2), torch.ones(3, 2)
    same(ts.tensordot(T(a), T(b), dims=([0], [0])), torch.tensordot(a, b, dims=([0], [0])))


def test_tensordot_broadcast_values_grads_and_errors():
    a = torch.randn(1, 2, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    for dims in (([0], [0]), ([0, 1], [0, 1])):
        yt = torch.tensordot(b, a, dims=dims)
        g = torch.randn(yt.shape, dtype=torch.float64)
        tg = torch.autograd.grad(yt, (a, b), g)
        oa, ob = T(a, True), T(b, True)
        yo = ts.tensordot(ob, oa, dims=dims)
        same(yo, yt, 1e-12, 1e-12)
        og = ts.autograd.grad(yo, (oa, ob), T(g))
        same(og[0], tg[0], 1e-12, 1e-12)
        same(og[1], tg[1], 1e-12, 1e-12)
    i, j = torch.arange(2, dtype=torch.int32).reshape(1, 2), torch.arange(6, dtype=torch.int32).reshape(3, 2)
    same(ts.tensordot(T(i), T(j), dims=([0], [0])), torch.tensordot(i, j, dims=([0], [0])))
    x, y = torch.ones(2, 3), torch.ones(3, 2)
    raises_like_torch(lambda: torch.tensordot(x, y, ([5], [0])), lambda: ts.tensordot(T(x), T(y), ([5], [0])))
    raises_like_torch(lambda: torch.tensordot(torch.ones(2, 2), torch.ones(3, 2), dims=([0], [0])),
                      lambda: ts.tensordot(ts.ones(2, 2), ts.ones(3, 2), dims=([0], [0])))
