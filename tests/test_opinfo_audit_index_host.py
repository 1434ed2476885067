"""Findings of the OpInfo-sample audit against torch 2.13 about index / scatter ops and the ops
computed on the host: 0-d integer and bool results keeping shape (), the index / scatter family
on a 0-d self, take_along_dim's negative indices, index_fill's and index_put(accumulate=True)'s
gradients, diff (bool, n=0, n<0), integer products with float alpha / beta and bool addr,
combinations with r too large, as_strided's storage offset on a view, nextafter's gradient, and
the arguments torch refuses (logcumsumexp's dim, roll, narrow, renorm, cov's weights). Each
compares with real torch."""
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")
from torch_compare import T, raises_like_torch, same  # noqa: E402


# 1. 0-d integer / bool elementwise results keep shape ()
@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
                                  "bitwise_right_shift", "fmax", "fmin", "gcd", "lcm", "heaviside"])
def test_0d_int_binary_keeps_0d(name):
    a, b = torch.tensor(12), torch.tensor(3)
    same(getattr(ts, name)(T(a), T(b)), getattr(torch, name)(a, b))


def test_0d_int_operators_keep_0d():
    a, b = torch.tensor(12), torch.tensor(3)
    same(T(a) & T(b), a & b)
    same(T(a) | T(b), a | b)
    same(T(a) ^ T(b), a ^ b)
    same(T(a) << 1, a << 1)
    same(T(a) >> 1, a >> 1)


@pytest.mark.parametrize("name", ["gcd_", "lcm_", "bitwise_and_", "bitwise_or_", "bitwise_xor_", "heaviside_"])
def test_0d_inplace_host_ops(name):
    a, b = torch.tensor(12), torch.tensor(8)
    oa = T(a)
    assert getattr(oa, name)(T(b)) is oa
    same(oa, getattr(a.clone(), name)(b))


@pytest.mark.parametrize("name", ["isreal", "signbit"])
def test_0d_unary_predicates_keep_0d(name):
    x = torch.tensor(-2.5)
    same(getattr(ts, name)(T(x)), getattr(torch, name)(x))


def test_0d_fmax_bool_and_heaviside_float():
    t = torch.tensor(True)
    same(ts.fmax(T(t), T(t)), torch.fmax(t, t))
    x, v = torch.tensor(-2.0), torch.tensor(0.5)
    same(ts.heaviside(T(x), T(v)), torch.heaviside(x, v))


def test_nd_int_and_float_host_binaries_unchanged():
    a, b = torch.tensor([[12, 7], [5, 0]]), torch.tensor([3, 2])
    for name in ("bitwise_and", "gcd", "lcm", "fmax", "fmin"):
        same(getattr(ts, name)(T(a), T(b)), getattr(torch, name)(a, b))
    x, y = torch.tensor([1.5, float("nan"), -2.0]), torch.tensor([float("nan"), 1.0, 3.0])
    same(ts.fmax(T(x), T(y)), torch.fmax(x, y))
    same(ts.signbit(T(x)), torch.signbit(x))


# 2. the index / scatter family on a 0-d self: one element along dim 0 / -1
def test_0d_index_add_copy_fill():
    x, i, v = torch.tensor(2.5), torch.tensor([0]), torch.tensor(7.0)
    same(ts.index_add(T(x), 0, T(i), T(v)), torch.index_add(x, 0, i, v))
    same(ts.index_add(T(x), -1, T(i), T(v), alpha=2), torch.index_add(x, -1, i, v, alpha=2))
    same(ts.index_copy(T(x), 0, T(i), T(v)), torch.index_copy(x, 0, i, v))
    same(ts.index_fill(T(x), 0, T(i), 3.0), torch.index_fill(x, 0, i, 3.0))
    same(ts.index_fill(T(x), 0, T(torch.tensor([-1])), 3.0), torch.index_fill(x, 0, torch.tensor([-1]), 3.0))


def test_0d_index_ops_refuse_what_torch_refuses():
    x, i, v = torch.tensor(2.5), torch.tensor([0]), torch.tensor(7.0)
    with pytest.raises(IndexError):
        torch.index_add(x, 1, i, v)
    with pytest.raises(IndexError):
        ts.index_add(T(x), 1, T(i), T(v))
    raises_like_torch(lambda: torch.index_add(x, 0, i, torch.tensor([7.0])),
                      lambda: ts.index_add(T(x), 0, T(i), ts.tensor([7.0])))
    with pytest.raises(IndexError):
        torch.index_fill(x, 0, torch.tensor([1]), 3.0)
    with pytest.raises(IndexError):
        ts.index_fill(T(x), 0, ts.tensor([1]), 3.0)


def test_0d_index_add_gradients():
    x = torch.tensor(2.5, requires_grad=True)
    v = torch.tensor(7.0, requires_grad=True)
    tg = torch.autograd.grad(torch.index_add(x, 0, torch.tensor([0]), v, alpha=3) * 2, (x, v))
    ox, ov = T(x, True), T(v, True)
    og = ts.autograd.grad(ts.index_add(ox, 0, ts.tensor([0]), ov, alpha=3) * 2, (ox, ov))
    same(og[0], tg[0])
    same(og[1], tg[1])


def test_0d_index_reduce():
    x, i, v = torch.tensor(2.5), torch.tensor([0]), torch.tensor(7.0)
    for reduce in ("amax", "prod", "mean"):
        same(ts.index_reduce(T(x), 0, T(i), T(v), reduce), torch.index_reduce(x, 0, i, v, reduce))


def test_0d_scatter_add_reduce_and_inplace_scatter():
    x, i, v = torch.tensor(2.5), torch.tensor(0), torch.tensor(7.0)
    same(ts.scatter_add(T(x), 0, T(i), T(v)), torch.scatter_add(x, 0, i, v))
    same(ts.scatter_reduce(T(x), 0, T(i), T(v), "amax"), torch.scatter_reduce(x, 0, i, v, "amax"))
    ox = T(x)
    ox.scatter_(0, T(i), T(v))
    same(ox, x.clone().scatter_(0, i, v))
    same(ts.scatter(T(x), 0, T(i), 5.0), torch.scatter(x, 0, i, 5.0))
    same(ts.scatter_add(T(x), 0, ts.tensor([0]), ts.tensor([7.0])),
         torch.scatter_add(x, 0, torch.tensor([0]), torch.tensor([7.0])))


def test_0d_scatter_add_gradient():
    x = torch.tensor(2.5, requires_grad=True)
    v = torch.tensor(7.0, requires_grad=True)
    tg = torch.autograd.grad(torch.scatter_add(x, 0, torch.tensor(0), v) * 3, (x, v))
    ox, ov = T(x, True), T(v, True)
    og = ts.autograd.grad(ts.scatter_add(ox, 0, ts.tensor(0), ov) * 3, (ox, ov))
    same(og[0], tg[0])
    same(og[1], tg[1])


def test_0d_masked_select_and_unfold():
    x = torch.tensor(2.5)
    same(ts.masked_select(T(x), T(torch.tensor(True))), torch.masked_select(x, torch.tensor(True)))
    same(ts.masked_select(T(x), T(torch.tensor(False))), torch.masked_select(x, torch.tensor(False)))
    same(T(x).unfold(0, 1, 1), x.unfold(0, 1, 1))
    same(T(x).unfold(-1, 1, 2), x.unfold(-1, 1, 2))
    with pytest.raises(IndexError):
        x.unfold(1, 1, 1)
    with pytest.raises(IndexError):
        T(x).unfold(1, 1, 1)


# 3. take_along_dim wraps negative indices
def test_take_along_dim_negative_index():
    x = torch.arange(10.).reshape(2, 5)
    i = torch.tensor([[-1, 0], [-2, 4]])
    same(ts.take_along_dim(T(x), T(i), 1), torch.take_along_dim(x, i, 1))
    same(ts.take_along_dim(T(x), T(i[:1]), 1), torch.take_along_dim(x, i[:1], 1))   # broadcast rows


def test_take_along_dim_negative_index_gradient():
    x = torch.randn(2, 5, dtype=torch.float64, requires_grad=True)
    i = torch.tensor([[-1, -1], [-5, 2]])
    (tg,) = torch.autograd.grad(torch.take_along_dim(x, i, 1).sum(), x)
    ox = T(x, True)
    (og,) = ts.autograd.grad(ts.take_along_dim(ox, T(i), 1).sum(), ox)
    same(og, tg)


# 4. index_fill: a tensor value's gradient counts each filled element once
def test_index_fill_value_grad_duplicate_indices():
    x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    v = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    idx = torch.tensor([1, 1, 3])
    g = torch.randn(3, 4, dtype=torch.float64)
    tg = torch.autograd.grad(torch.index_fill(x, 1, idx, v), (x, v), g)
    ox, ov = T(x, True), T(v, True)
    og = ts.autograd.grad(ts.index_fill(ox, 1, T(idx), ov), (ox, ov), T(g))
    same(og[0], tg[0], 1e-12, 1e-12)
    same(og[1], tg[1], 1e-12, 1e-12)


def test_index_fill_negative_and_repeated_indices_forward():
    x, idx = torch.randn(3, 4), torch.tensor([-1, 3, 0, 0])
    same(ts.index_fill(T(x), 1, T(idx), T(torch.tensor(2.0))), torch.index_fill(x, 1, idx, torch.tensor(2.0)))
    raises_like_torch(lambda: torch.index_fill(x, 1, torch.tensor([-5]), 1.0),
                      lambda: ts.index_fill(T(x), 1, ts.tensor([-5]), 1.0))


# 5. index_put(accumulate=True) differentiates values
def test_index_put_accumulate_values_grad():
    x = torch.zeros(5, 3)
    v = torch.randn(2, 3, requires_grad=True)
    i = torch.tensor([1, 1])
    y = torch.index_put(x, (i,), v, accumulate=True)
    g = torch.randn(5, 3)
    (tg,) = torch.autograd.grad(y, v, g)
    ov = T(v, True)
    oy = ts.index_put(T(x), (T(i),), ov, accumulate=True)
    same(oy, y)
    (og,) = ts.autograd.grad(oy, ov, T(g))
    same(og, tg)


def test_index_put_accumulate_two_indices_broadcast_values_and_self_grad():
    x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    v = torch.randn(1, dtype=torch.float64, requires_grad=True)
    i, j = torch.tensor([0, 2, 0]), torch.tensor([1, 3, 1])
    g = torch.randn(3, 4, dtype=torch.float64)
    y = torch.index_put(x, (i, j), v, accumulate=True)
    tg = torch.autograd.grad(y, (x, v), g)
    ox, ov = T(x, True), T(v, True)
    oy = ts.index_put(ox, (T(i), T(j)), ov, accumulate=True)
    same(oy, y, 1e-12, 1e-12)
    og = ts.autograd.grad(oy, (ox, ov), T(g))
    same(og[0], tg[0], 1e-12, 1e-12)
    same(og[1], tg[1], 1e-12, 1e-12)


def test_index_put_accumulate_without_grad_int():
    x, i, v = torch.zeros(4, dtype=torch.long), torch.tensor([3, 3, 0]), torch.tensor([1, 2, 5])
    ox = T(x)
    ox.index_put_((T(i),), T(v), accumulate=True)
    same(ox, x.clone().index_put_((i,), v, accumulate=True))


# 7. diff
def test_diff_bool():
    m = torch.tensor([True, True, False, True])
    same(ts.diff(T(m)), torch.diff(m))
    same(ts.diff(T(m), n=2), torch.diff(m, n=2))
    p = torch.tensor([1, 0])
    same(ts.diff(T(m), prepend=T(p)), torch.diff(m, prepend=p))


def test_diff_n0_ignores_prepend_append():
    x, p = torch.arange(6.).reshape(2, 3), torch.zeros(1, 3)
    same(ts.diff(T(x), n=0, dim=0, prepend=T(p)), torch.diff(x, n=0, dim=0, prepend=p))
    ox = T(x)
    assert ts.diff(ox, n=0) is not ox   # a new tensor, as torch's


def test_diff_negative_n_and_bad_dim_raise():
    x = torch.randn(3, 4)
    raises_like_torch(lambda: torch.diff(x, -1), lambda: ts.diff(T(x), -1))
    raises_like_torch(lambda: torch.diff(x, 1, 2), lambda: ts.diff(T(x), 1, 2))
    raises_like_torch(lambda: torch.diff(torch.tensor(1.)), lambda: ts.diff(ts.tensor(1.)))


def test_diff_float_with_prepend_append_and_grad():
    x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    p, a = torch.randn(3, 1, dtype=torch.float64), torch.randn(3, 2, dtype=torch.float64)
    y = torch.diff(x, n=2, dim=-1, prepend=p, append=a)
    (tg,) = torch.autograd.grad(y.sum(), x)
    ox = T(x, True)
    oy = ts.diff(ox, n=2, dim=-1, prepend=T(p), append=T(a))
    same(oy, y, 1e-12, 1e-12)
    (og,) = ts.autograd.grad(oy.sum(), ox)
    same(og, tg, 1e-12, 1e-12)


# 9 (logcumsumexp). dim out of range raises IndexError
def test_logcumsumexp_dim_out_of_range_raises():
    x = torch.randn(3, 4)
    for dim in (3, -3):
        with pytest.raises(IndexError):
            torch.logcumsumexp(x, dim)
        with pytest.raises(IndexError):
            ts.logcumsumexp(T(x), dim)
    same(ts.logcumsumexp(T(x), -2), torch.logcumsumexp(x, -2), 1e-5, 1e-6)


# 10 (roll, narrow, renorm). argument shapes torch refuses
def test_roll_shifts_dims_mismatch_raises():
    x = torch.randn(3, 4)
    raises_like_torch(lambda: torch.roll(x, (1, 2), (0,)), lambda: ts.roll(T(x), (1, 2), (0,)))
    raises_like_torch(lambda: torch.roll(x, (1, 2)), lambda: ts.roll(T(x), (1, 2)))
    same(ts.roll(T(x), (1,), ()), torch.roll(x, (1,), ()))
    same(ts.roll(T(x), (1, -1), (0, 1)), torch.roll(x, (1, -1), (0, 1)))


def test_narrow_1d_tensor_start_raises():
    x = torch.randn(3, 4)
    raises_like_torch(lambda: torch.narrow(x, 0, torch.tensor([1]), 1),
                      lambda: ts.narrow(T(x), 0, ts.tensor([1]), 1))
    raises_like_torch(lambda: torch.narrow(x, 0, torch.tensor(1.), 1),
                      lambda: ts.narrow(T(x), 0, ts.tensor(1.), 1))
    same(ts.narrow(T(x), 0, ts.tensor(1), 2), torch.narrow(x, 0, torch.tensor(1), 2))


def test_renorm_below_2d_raises():
    raises_like_torch(lambda: torch.renorm(torch.tensor(1.), 2, 0, 1.),
                      lambda: ts.renorm(ts.tensor(1.), 2, 0, 1.))
    raises_like_torch(lambda: torch.renorm(torch.tensor([3., 4.]), 2, 0, 1.),
                      lambda: ts.renorm(ts.tensor([3., 4.]), 2, 0, 1.))
    x = torch.randn(3, 4) * 3
    same(ts.renorm(T(x), 2, 1, 1.5), torch.renorm(x, 2, 1, 1.5), 1e-5, 1e-6)


# 11 (cov). weights torch refuses
def test_cov_bad_fweights_raise():
    x = torch.randn(3, 4)
    raises_like_torch(lambda: torch.cov(x, fweights=torch.tensor([1, -1, 1, 1])),
                      lambda: ts.cov(T(x), fweights=ts.tensor([1, -1, 1, 1])))
    raises_like_torch(lambda: torch.cov(x, fweights=torch.tensor([1., 1, 1, 1])),
                      lambda: ts.cov(T(x), fweights=ts.tensor([1., 1, 1, 1])))


def test_cov_bad_aweights_raise_and_good_weights_match():
    x = torch.randn(3, 4)
    raises_like_torch(lambda: torch.cov(x, aweights=torch.tensor([1., -1, 1, 1])),
                      lambda: ts.cov(T(x), aweights=ts.tensor([1., -1, 1, 1])))
    raises_like_torch(lambda: torch.cov(x, aweights=torch.tensor([1, 1, 1, 1])),
                      lambda: ts.cov(T(x), aweights=ts.tensor([1, 1, 1, 1])))
    fw, aw = torch.tensor([1, 2, 0, 3]), torch.tensor([0.5, 1.0, 2.0, 1.5])
    same(ts.cov(T(x), fweights=T(fw), aweights=T(aw)), torch.cov(x, fweights=fw, aweights=aw), 1e-5, 1e-6)


# 12. integer products with float alpha / beta (truncated, as torch), addr on bool
def test_int_addmv_float_alpha_beta():
    M, v, i = torch.arange(6).reshape(2, 3), torch.arange(3), torch.tensor([1, 2])
    same(ts.addmv(T(i), T(M), T(v), beta=0.6, alpha=0.2), torch.addmv(i, M, v, beta=0.6, alpha=0.2))
    same(ts.addmv(T(i), T(M), T(v), beta=-1.6, alpha=2.7), torch.addmv(i, M, v, beta=-1.6, alpha=2.7))
    oi = T(i)
    oi.addmv_(T(M), T(v), beta=1.6, alpha=2.7)
    same(oi, i.clone().addmv_(M, v, beta=1.6, alpha=2.7))


def test_int_addmm_baddbmm_addbmm_float_alpha():
    M, i = torch.arange(6).reshape(2, 3), torch.tensor([[1], [2]])
    same(ts.addmm(T(i), T(M), T(M.T), beta=0.6, alpha=0.2), torch.addmm(i, M, M.T, beta=0.6, alpha=0.2))
    b = torch.arange(12).reshape(2, 2, 3)
    c = torch.ones(2, 2, 2, dtype=torch.long)
    same(ts.baddbmm(T(c), T(b), T(b.transpose(1, 2)), alpha=0.5),
         torch.baddbmm(c, b, b.transpose(1, 2), alpha=0.5))
    oc = T(c)
    oc.baddbmm_(T(b), T(b.transpose(1, 2)), beta=1.6, alpha=2.7)
    same(oc, c.clone().baddbmm_(b, b.transpose(1, 2), beta=1.6, alpha=2.7))
    d = torch.ones(2, 2, dtype=torch.long)
    same(ts.addbmm(T(d), T(b), T(b.transpose(1, 2)), beta=1.6, alpha=2.7),
         torch.addbmm(d, b, b.transpose(1, 2), beta=1.6, alpha=2.7))


def test_int_product_nan_beta_raises_and_float_path_unchanged():
    M, v, i = torch.arange(6).reshape(2, 3), torch.arange(3), torch.tensor([1, 2])
    raises_like_torch(lambda: torch.addmv(i, M, v, beta=float("nan")),
                      lambda: ts.addmv(T(i), T(M), T(v), beta=float("nan")))
    Mf, vf, jf = M.double(), v.double(), i.double()
    same(ts.addmv(T(jf), T(Mf), T(vf), beta=0.6, alpha=0.2), torch.addmv(jf, Mf, vf, beta=0.6, alpha=0.2), 1e-12)
    same(ts.addmm(T(jf[:, None]), T(Mf), T(Mf.T), beta=1.6, alpha=2.7),
         torch.addmm(jf[:, None], Mf, Mf.T, beta=1.6, alpha=2.7), 1e-12)


def test_addr_bool():
    M = torch.zeros(2, 3, dtype=torch.bool)
    v1, v2 = torch.tensor([True, False]), torch.tensor([True, True, False])
    same(ts.addr(T(M), T(v1), T(v2)), torch.addr(M, v1, v2))
    ones = torch.ones(2, 3, dtype=torch.bool)
    same(ts.addr(T(ones), T(v1), T(v2), beta=0), torch.addr(ones, v1, v2, beta=0))
    same(ts.addr(T(ones), T(v1), T(v2), beta=False, alpha=True), torch.addr(ones, v1, v2, beta=False, alpha=True))
    raises_like_torch(lambda: torch.addr(ones, v1, v2, alpha=0.5), lambda: ts.addr(T(ones), T(v1), T(v2), alpha=0.5))


def test_addr_int_float_scalars_raise_and_promotions_match():
    ones = torch.ones(2, 3, dtype=torch.long)
    a, b = torch.tensor([1, 0]), torch.tensor([1, 1, 0])
    raises_like_torch(lambda: torch.addr(ones, a, b, beta=1.5), lambda: ts.addr(T(ones), T(a), T(b), beta=1.5))
    same(ts.addr(T(ones), T(a.bool()), T(b.bool())), torch.addr(ones, a.bool(), b.bool()))
    same(ts.addr(T(ones), T(a), T(b.float()), alpha=0.5), torch.addr(ones, a, b.float(), alpha=0.5))


# 13. combinations with r larger than the input: shape (0, r)
def test_combinations_r_too_large_shape():
    x = torch.tensor([1.0, 2.0])
    same(ts.combinations(T(x), 3), torch.combinations(x, 3))
    same(ts.combinations(T(x), 3, with_replacement=True), torch.combinations(x, 3, with_replacement=True))
    same(ts.combinations(ts.tensor([]), 2), torch.combinations(torch.tensor([]), 2))
    assert ts.combinations(T(x, True), 3).requires_grad


# 14. as_strided with an explicit storage_offset on a view counts from the storage start
def test_as_strided_explicit_offset_on_view():
    b = torch.arange(12.)
    ob = ts.arange(12.)
    same(ts.as_strided(ob[2:], (2, 2), (1, 2), 0), torch.as_strided(b[2:], (2, 2), (1, 2), 0))
    same(ts.as_strided(ob[2:], (2, 2), (1, 2), 3), torch.as_strided(b[2:], (2, 2), (1, 2), 3))
    same(ts.as_strided(ob[2:], (2, 2), (1, 2)), torch.as_strided(b[2:], (2, 2), (1, 2)))
    same(ts.as_strided(ob.reshape(3, 4).t(), (2, 2), (1, 2), 0),
         torch.as_strided(b.reshape(3, 4).t(), (2, 2), (1, 2), 0))
    same(ts.as_strided_copy(ob[2:], (2, 2), (1, 2)), torch.as_strided_copy(b[2:], (2, 2), (1, 2)))


def test_as_strided_offset_gradient():
    b = torch.arange(12., dtype=torch.float64, requires_grad=True)
    (tg,) = torch.autograd.grad(torch.as_strided(b[2:] * 1, (2, 2), (1, 2), 1).sum(), b)
    ob = T(b, True)
    (og,) = ts.autograd.grad(ts.as_strided(ob[2:] * 1, (2, 2), (1, 2), 1).sum(), ob)
    same(og, tg)


# 17. nextafter's gradient: 1 for input, 0 for other
def test_nextafter_grad():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = torch.tensor([3.0, 0.0], requires_grad=True)
    tg = torch.autograd.grad(torch.nextafter(a, b).sum(), (a, b))
    oa, ob = T(a, True), T(b, True)
    og = ts.autograd.grad(ts.nextafter(oa, ob).sum(), (oa, ob))
    same(og[0], tg[0])
    same(og[1], tg[1])


def test_nextafter_broadcast_grad_and_values():
    a = torch.tensor([[1.0, 0.0], [-2.0, float("inf")]], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    g = torch.randn(2, 2, dtype=torch.float64)
    y = torch.nextafter(a, b)
    tg = torch.autograd.grad(y, (a, b), g)
    oa, ob = T(a, True), T(b, True)
    oy = ts.nextafter(oa, ob)
    same(oy, y, 0, 0)
    og = ts.autograd.grad(oy, (oa, ob), T(g))
    same(og[0], tg[0])
    same(og[1], tg[1])
    same(ts.nextafter(ts.tensor(1.0), ts.tensor(2.0)), torch.nextafter(torch.tensor(1.0), torch.tensor(2.0)), 0, 0)
