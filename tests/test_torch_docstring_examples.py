"""Examples from PyTorch's own docstrings, asserted of tinygrad_seq as `torch` (found by running
every docstring example of the names tinygrad_seq has): Size, torch.return_types, view(dtype),
out=, signed zeros of fmod / remainder, post-accumulate hooks, scatter_ multiply, einsum's
sublist form, take_along_dim without dim."""
import math

import pytest

import tinygrad_seq as torch


# F1 torch.Size: Tensor.size() / .shape (torch.Size.numel, Tensor.size, Tensor.view, matmul, nn.Linear, F.pad ...)
def test_f1_size_repr_and_numel():
    x = torch.ones(10, 10)
    s = x.size()
    assert repr(s) == "torch.Size([10, 10])"
    assert s.numel() == 100 and x.shape == (10, 10)   # .shape stays a plain tuple (API.md)
    assert repr(torch.Size([2, 3])) == "torch.Size([2, 3])"
    assert repr(torch.matmul(torch.ones(3), torch.ones(3)).size()) == "torch.Size([])"


# F2 torch.return_types (topk, max(dim), sort, kthvalue, aminmax docstrings)
def test_f2_return_types_repr():
    r = torch.topk(torch.arange(1., 6.), 3)
    assert type(r).__name__ == "topk"
    assert repr(r) == "torch.return_types.topk(\nvalues=tensor([5., 4., 3.]),\nindices=tensor([4, 3, 2]))"
    assert type(torch.ones(2, 2).max(dim=1)).__name__ == "max"
    assert type(torch.ones(3).sort()).__name__ == "sort"
    assert type(torch.kthvalue(torch.arange(1., 6.), 4)).__name__ == "kthvalue"
    assert repr(torch.aminmax(torch.tensor([1, -3, 5]))) == \
        "torch.return_types.aminmax(\nmin=tensor(-3),\nmax=tensor(5))"


# F3 Tensor.view(dtype) keeps the requested dtype (Tensor.view docstring)
def test_f3_view_dtype():
    x = torch.ones(4, 4)
    y = x.view(torch.int32)
    assert y.dtype == torch.int32
    assert y[0, 0].item() == 1065353216
    z = x.view(torch.uint8)
    assert z.dtype == torch.uint8 and tuple(z.shape) == (4, 16)


# F4 logical_and/or/xor/not accept out= (their docstrings)
@pytest.mark.parametrize("name", ["logical_and", "logical_or", "logical_xor"])
def test_f4_logical_out(name):
    a = torch.tensor([True, False, True, False])
    b = torch.tensor([True, True, False, False])
    out = torch.empty(4, dtype=torch.bool)
    r = getattr(torch, name)(a, b, out=out)
    exp = {"logical_and": [True, False, False, False], "logical_or": [True, True, True, False],
           "logical_xor": [False, True, True, False]}[name]
    assert r.tolist() == exp and out.tolist() == exp


def test_f4_logical_not_out_int16():
    out = torch.empty(3, dtype=torch.int16)
    r = torch.logical_not(torch.tensor([0., 1., -10.], dtype=torch.double), out=out)
    assert r.dtype == torch.int16 and r.tolist() == [1, 0, 0]


# F5 sign of zero in fmod / remainder (fmod, remainder docstrings)
def test_f5_signed_zero():
    f = torch.fmod(torch.tensor([-3., -2, -1, 1, 2, 3]), 2)
    assert repr(f) == "tensor([-1., -0., -1.,  1.,  0.,  1.])"
    assert math.copysign(1.0, f[1].item()) == -1.0
    r = torch.remainder(torch.tensor([-3., -2, -1, 1, 2, 3]), 2)
    assert repr(r) == "tensor([1., -0., 1., 1., 0., 1.])"
    r2 = torch.remainder(torch.tensor([1, 2, 3, 4, 5]), -1.5)
    assert math.copysign(1.0, r2[2].item()) == 1.0


# F6 post-accumulate-grad hooks run outside grad mode (register_post_accumulate_grad_hook docstring)
def test_f6_post_accumulate_grad_hook():
    v = torch.tensor([0., 0., 0.], requires_grad=True)
    lr = 0.01
    v.register_post_accumulate_grad_hook(lambda p: p.add_(p.grad, alpha=-lr))
    v.backward(torch.tensor([1., 2., 3.]))
    assert torch.allclose(v.detach(), torch.tensor([-0.01, -0.02, -0.03]))


# F7 scatter_(reduce='multiply') (Tensor.scatter_ docstring)
def test_f7_scatter_multiply():
    r = torch.full((2, 4), 2.).scatter_(1, torch.tensor([[2], [3]]), 1.23, reduce='multiply')
    assert torch.allclose(r, torch.tensor([[2., 2., 2.46, 2.], [2., 2., 2., 2.46]]))


# F8 einsum sublist format (einsum docstring)
def test_f8_einsum_sublist():
    A = torch.arange(6.).reshape(2, 3)
    B = torch.arange(12.).reshape(3, 4)
    r = torch.einsum(A, [0, 1], B, [1, 2], [0, 2])
    assert torch.allclose(r, A @ B)
    As = torch.ones(3, 2, 5)
    Bs = torch.ones(3, 5, 4)
    assert tuple(torch.einsum(As, [..., 0, 1], Bs, [..., 1, 2], [..., 0, 2]).shape) == (3, 2, 4)


# F9 take_along_dim without dim works on the flattened input (take_along_dim docstring)
def test_f9_take_along_dim_no_dim():
    t = torch.tensor([[10, 30, 20], [60, 40, 50]])
    max_idx = torch.argmax(t)
    assert torch.take_along_dim(t, max_idx).tolist() == [60]


# from blog-style programs: the legacy Tensor.new, and the dtype as torch prints it
def test_legacy_new_and_dtype_spelling():
    w = torch.nn.LSTM(3, 4).weight_ih_l0.data
    h = w.new(2, 5, 4).zero_()
    assert h.shape == (2, 5, 4) and h.dtype == w.dtype
    assert torch.zeros(2, 3, dtype=torch.float64).new([1, 2]).tolist() == [1.0, 2.0]
    assert w.new().shape == (0,)
    assert repr(torch.tensor([1, 2], dtype=torch.int32)) == "tensor([1, 2], dtype=torch.int32)"
