"""PyTorch idioms that run in both libraries must give the same answer: values, dtypes and
shapes of ~100 small expressions (promotion, integer division, ties, empty reductions,
indexing forms, conversions), each compared with torch 2.13. (One documented difference:
integer numpy arrays other than int64 become int64, API.md's rule; torch keeps their dtype.)"""
import warnings

import numpy as np
import pytest
import torch

import tinygrad_seq as ts

CASES = {
 "x[None]": lambda L: L.arange(6).reshape(2,3)[None],
 "x[...,0]": lambda L: L.arange(6).reshape(2,3)[..., 0],
 "x[:,None,1]": lambda L: L.arange(6).reshape(2,3)[:, None, 1],
 "bool idx": lambda L: L.arange(6)[L.arange(6) % 2 == 0],
 "int idx neg": lambda L: L.arange(6)[L.tensor([-1, 0])],
 "float*int": lambda L: L.tensor([1.5]) * L.tensor([2]),
 "double+float": lambda L: L.tensor([1.5], dtype=L.float64) + L.tensor([2.0]),
 "float16+float": lambda L: L.tensor([1.5], dtype=L.float16) + L.tensor([2.0]),
 "int32+int64": lambda L: L.tensor([1], dtype=L.int32) + L.tensor([2]),
 "int32+pyint": lambda L: L.tensor([1], dtype=L.int32) + 2,
 "int32*pyfloat": lambda L: L.tensor([1], dtype=L.int32) * 2.5,
 "bool+bool": lambda L: L.tensor([True]) + L.tensor([True]),
 "uint8 sum": lambda L: L.tensor([200, 100], dtype=L.uint8).sum(),
 "int max": lambda L: L.tensor([3, 1]).max(),
 "argmax ties": lambda L: L.tensor([1, 3, 3]).argmax(),
 "max dim ties": lambda L: L.tensor([[1., 3, 3]]).max(1)[1],
 "min dim ties": lambda L: L.tensor([[1., 1, 3]]).min(1)[1],
 "argmin ties": lambda L: L.tensor([1., 1, 3]).argmin(),
 "std 1 elem": lambda L: L.tensor([1.0]).std(),
 "mean empty dim": lambda L: L.zeros(2, 3).mean((0, 1)),
 "sum keepdim tuple": lambda L: L.ones(2, 3, 4).sum((0, 2), keepdim=True),
 "cat int float": lambda L: L.cat([L.tensor([1]), L.tensor([2.5])]),
 "stack bool": lambda L: L.stack([L.tensor([True]), L.tensor([False])]),
 "pow int neg": lambda L: L.tensor([2.0]) ** -1,
 "rpow": lambda L: 2 ** L.tensor([3]),
 "div int int": lambda L: L.tensor([7]) / L.tensor([2]),
 "floordiv neg": lambda L: L.tensor([-7]) // L.tensor([2]),
 "fmod-like": lambda L: L.tensor([-7.5]) % L.tensor([2.0]),
 "comparison float int": lambda L: L.tensor([1.5]) > L.tensor([1]),
 "eq int float": lambda L: L.tensor([2]) == 2.0,
 "abs int": lambda L: L.tensor([-2]).abs(),
 "neg bool": lambda L: L.tensor([3]).neg(),
 "clamp int": lambda L: L.tensor([-2, 5]).clamp(0, 3),
 "clamp int float": lambda L: L.tensor([-2, 5]).clamp(min=0.5),
 "sqrt int": lambda L: L.tensor([4]).sqrt(),
 "exp int": lambda L: L.tensor([1]).exp(),
 "softmax int": lambda L: L.tensor([1., 2]).softmax(0),
 "where mix": lambda L: L.where(L.tensor([True, False]), L.tensor([1]), L.tensor([2.5])),
 "where scalar": lambda L: L.where(L.tensor([True, False]), 1.0, 0.0),
 "masked_fill int": lambda L: L.tensor([1, 2]).masked_fill(L.tensor([True, False]), 9),
 "squeeze no-1": lambda L: L.zeros(2, 3).squeeze(0),
 "T 3d": lambda L: L.arange(24).reshape(2, 3, 4).permute(2, 1, 0),
 "flatten 0d": lambda L: L.tensor(3.0).flatten(),
 "view -1": lambda L: L.arange(6).view(-1, 2),
 "unsqueeze neg": lambda L: L.arange(3).unsqueeze(-2),
 "topk int": lambda L: L.tensor([3, 1, 2]).topk(2)[0],
 "sort stable": lambda L: L.tensor([2, 1, 2, 1]).sort(stable=True)[1],
 "item bool": lambda L: L.tensor([True]).item(),
 "tolist": lambda L: L.tensor([[1, 2]]).tolist(),
 "sum bool": lambda L: L.tensor([True, True]).sum(),
 "mean float64": lambda L: L.tensor([1., 2], dtype=L.float64).mean(),
 "arange float step": lambda L: L.arange(0, 1, 0.3),
 "arange neg": lambda L: L.arange(5, 0, -2),
 "linspace": lambda L: L.linspace(0, 1, 3, dtype=L.float64),
 "full bool": lambda L: L.full((2,), False),
 "zeros int shape": lambda L: L.zeros([2, 1]),
 "ones tuple": lambda L: L.ones((2,)),
 "tensor list of tensors": lambda L: L.tensor([L.tensor(1.0), L.tensor(2.0)]),
 "tensor nested int": lambda L: L.tensor([[1], [2]]),
 "from float64 np": lambda L: L.tensor(np.array([1.5])),
 "bitwise not bool": lambda L: ~L.tensor([True, False]),
 "any": lambda L: L.tensor([0, 1]).any(),
 "all dim": lambda L: L.tensor([[1, 0], [1, 1]]).all(1),
 "chunk uneven": lambda L: L.arange(5).chunk(3)[-1],
 "split uneven": lambda L: L.arange(5).split(2)[-1],
 "repeat": lambda L: L.arange(2).repeat(2, 2),
 "expand -1": lambda L: L.arange(2).reshape(2, 1).expand(-1, 3),
 "index_select": lambda L: L.arange(6).reshape(2, 3).index_select(0, L.tensor([1, 1])),
 "gather": lambda L: L.arange(6).reshape(2, 3).gather(1, L.tensor([[2], [0]])),
 "sum int dtype": lambda L: L.tensor([1, 2]).sum(dtype=L.float32),
 "prod bool": lambda L: L.tensor([True, False]).prod(),
 "norm int": lambda L: L.tensor([3., 4]).norm(),
 "round half": lambda L: L.tensor([0.5, 1.5, 2.5]).round(),
 "sign": lambda L: L.tensor([-2., 0, 3]).sign(),
 "max elementwise int": lambda L: L.max(L.tensor([1, 5]), L.tensor([3, 2])),
 "minimum mix": lambda L: L.minimum(L.tensor([1, 5]), L.tensor([3.5, 2])),
 "lt scalar": lambda L: L.tensor([1, 2]) < 1.5,
 "logical_and": lambda L: L.logical_and(L.tensor([1, 0]), L.tensor([1, 1])),
 "cumsum bool": lambda L: L.tensor([True, True]).cumsum(0),
 "isnan": lambda L: L.tensor([float('nan'), 1.0]).isnan(),
 "float()": lambda L: L.tensor([1]).float(),
 "half": lambda L: L.tensor([1.0]).half(),
 "long of float": lambda L: L.tensor([1.7, -1.7]).long(),
 "int of float": lambda L: L.tensor([2.9]).int(),
 "bool of float": lambda L: L.tensor([0.0, 0.1]).bool(),
 "new_full": lambda L: L.tensor([1]).new_full((2,), 3.7),
 "t 1d": lambda L: L.arange(3).t(),
 "matmul 1d": lambda L: L.arange(3.).matmul(L.arange(3.)),
 "matmul int": lambda L: L.arange(4).reshape(2, 2) @ L.arange(4).reshape(2, 2),
 "mv": lambda L: L.ones(2, 3) @ L.ones(3),
 "unbind": lambda L: L.arange(4).reshape(2, 2).unbind(1)[1],
 "scalar tensor add": lambda L: L.tensor(2) + L.tensor([1.5]),
 "div trunc int": lambda L: L.tensor([-7, 7]).div(L.tensor([2]), rounding_mode="trunc"),
 "div trunc float": lambda L: L.tensor([-7.5]).div(2, rounding_mode="trunc"),
 "div floor int": lambda L: L.tensor([-7]).div(2, rounding_mode="floor"),
 "var unbiased positional": lambda L: L.tensor([1., 2, 4]).var(False),
 "std dim unbiased": lambda L: L.tensor([[1., 2, 4]]).std(1, False),
 "0d int * float tensor": lambda L: L.tensor(2) * L.tensor([1.5], dtype=L.float64),
}


def _run(fn, lib):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(lib)
        except Exception as e:   # both must raise, or neither
            return e


@pytest.mark.parametrize("name", sorted(CASES))
def test_idiom_matches_torch(name):
    a, b = _run(CASES[name], ts), _run(CASES[name], torch)
    assert isinstance(a, Exception) == isinstance(b, Exception), (a, b)
    if isinstance(a, Exception):
        return
    if isinstance(a, (bool, int, float, list)):
        assert a == b and type(a) is type(b)
        return
    an, bn = a.numpy(), b.numpy()
    assert str(an.dtype) == str(bn.dtype) and an.shape == bn.shape
    np.testing.assert_allclose(an.astype(float), bn.astype(float), rtol=1e-6, equal_nan=True)


def test_accumulating_a_loss_in_place_from_a_python_zero():
    # `loss = 0; loss += criterion(...)`: the first += makes a 0-d tensor (a numpy scalar inside),
    # the second writes into it in place; gradients must still reach both terms, as in torch
    def run(lib):
        w = lib.tensor([1.5, -2.0], dtype=lib.float64, requires_grad=True)
        loss = 0
        for k in range(3):
            loss += (w * (k + 1)).sum() ** 2
        loss.backward()
        return float(loss.item()), w.grad.numpy().copy()
    ours, theirs = run(ts), run(torch)
    assert ours[0] == pytest.approx(theirs[0], rel=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)
