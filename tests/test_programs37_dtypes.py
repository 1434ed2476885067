"""Round 37's dtype audit (91,215 generated cases beside torch 2.13): the findings fixed, each
against torch: three-operand promotion (clamp with tensor bounds, addcmul, addcdiv), add / sub
with alpha, 0-d float16 beside 0-d float32, lerp's float16 with a 0-d weight, integer rounding
as a copy, nonzero's layout, full / as_tensor inference, bool masks of the wrong shape."""
import itertools

import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")

DTYPES = ["bool", "uint8", "int8", "int32", "int64", "float16", "float32", "float64"]


def _run(fn):
    out = []
    for lib in (torch, ts):
        try:
            r = fn(lib)
            out.append((str(r.dtype).replace("torch.", ""), np.asarray(r.double().numpy()).round(3).tolist()))
        except Exception as e:   # noqa: BLE001 (the error's kind is compared)
            out.append(("error", isinstance(e, (RuntimeError, NotImplementedError, TypeError, ValueError))))
    return out


@pytest.mark.parametrize("op", ["clamp", "addcmul", "addcdiv"])
@pytest.mark.parametrize("zeros", [(False, False, False), (False, True, False), (False, True, True),
                                   (True, False, True)])
def test_three_operand_promotion_as_torchs(op, zeros):
    bad = []
    for da, db, dc in itertools.product(DTYPES, repeat=3):
        def fn(lib, da=da, db=db, dc=dc):
            mk = lambda dt, zero, v: lib.tensor(v[0] if zero else v).to(getattr(lib, dt))   # noqa: E731
            a, b, c = mk(da, zeros[0], [-5, 0, 6]), mk(db, zeros[1], [-5, 3, 1]), mk(dc, zeros[2], [2, 3, 1])
            return getattr(lib, op)(a, b, c)
        t, o = _run(fn)
        if t != o:
            bad.append((da, db, dc, t, o))
    assert not bad, bad[:5]


def test_add_sub_alpha_promote_first():
    for fn in [lambda L: L.add(L.tensor([1, -2], dtype=L.int8), L.tensor([True, False]), alpha=2),
               lambda L: L.add(L.tensor([3, 4], dtype=L.uint8), L.tensor([1, -2], dtype=L.int8), alpha=2),
               lambda L: L.sub(L.tensor([1, -2], dtype=L.int8), L.tensor([True, False]), alpha=3),
               lambda L: L.sub(L.ones(2), L.tensor([1, -2], dtype=L.int8), alpha=2)]:
        t, o = _run(fn)
        assert t == o


def test_zero_d_half_beside_zero_d_float_promotes():
    for op in ("mul", "div", "true_divide"):
        for dt in ("float32", "float64"):
            t, o = _run(lambda L: getattr(L, op)(L.tensor(-5.5, dtype=L.float16), L.tensor(2.5, dtype=getattr(L, dt))))
            assert t == o
    t, o = _run(lambda L: L.tensor([-5.5], dtype=L.float16) * L.tensor(2.5))
    assert t == o and t[0] == "float16"


def test_lerp_half_with_zero_d_float_weight():
    for w in (0.5, 0.3333333):
        t, o = _run(lambda L: L.lerp(L.tensor([1.0, 2.0], dtype=L.float16), L.tensor([2.0, 3.0], dtype=L.float16),
                                     L.tensor(w)))
        assert t == o


def test_integer_rounding_gives_a_copy():
    for name in ("round", "floor", "ceil", "trunc", "fix"):
        t = ts.tensor([1, 2, 3])
        r = getattr(t, name)()
        r[0] = 99
        assert t.tolist() == [1, 2, 3] and r is not t
        e = ts.tensor([1, 2]).reshape(2, 1).expand(2, 2)
        assert getattr(e, name)().stride() == (2, 1)


def test_nonzero_layout_as_torchs():
    for lib in (torch, ts):
        m = lib.tensor([[1, 0, 2], [0, 3, 0]])
        assert tuple(m.nonzero().stride()) == (1, 3)
        assert tuple(lib.argwhere(m).stride()) == (1, 3)
        assert [tuple(t.stride()) for t in m.nonzero(as_tuple=True)] == [(1,), (1,)]
        assert tuple(lib.where(m > 0)[1].stride()) == (1,)
    assert ts.tensor([[1, 0, 2], [0, 3, 0]]).nonzero().tolist() == [[0, 0], [0, 2], [1, 1]]


def test_full_and_as_tensor_inference():
    for fn in [lambda L: L.full((2,), L.tensor(3)), lambda L: L.full((2,), L.tensor(3.5, dtype=L.float64)),
               lambda L: L.full((2,), L.tensor(True)), lambda L: L.as_tensor([np.float64(1.5)]),
               lambda L: L.as_tensor([np.float16(1.5), 2]), lambda L: L.as_tensor([np.int32(3)]),
               lambda L: L.as_tensor([[1, 2], [3, 4]]), lambda L: L.as_tensor((1, 2.5))]:
        t, o = _run(fn)
        assert t == o


def test_bool_mask_of_another_shape_raises_torchs_index_error():
    x = ts.arange(6.0).reshape(2, 3)
    for mask in ([], [True], [True, False, True]):
        with pytest.raises(IndexError, match="The shape of the mask"):
            x[ts.tensor(mask, dtype=ts.bool)]
    assert x[:, ts.tensor([True, False, True])].shape == (2, 2)


def test_gradient_of_integers_in_the_default_dtype():
    prev = ts.get_default_dtype()
    try:
        ts.set_default_dtype(ts.float64)
        assert ts.gradient(ts.tensor([1, 2, 4]))[0].dtype == np.float64
    finally:
        ts.set_default_dtype(prev)


def test_diag_embed_row_major():
    y = ts.diag_embed(ts.randn(2, 3), offset=1, dim1=0, dim2=2)
    assert y.stride() == (8, 4, 1) and y.view(-1).shape == (32,)


def test_comparison_bitwise_and_integer_pow_layouts_as_torchs():
    got = []
    for lib in (torch, ts):
        a = lib.arange(1, 7).reshape(2, 3).t()
        b = lib.arange(1, 7).reshape(3, 2)
        res = {"pow": a ** 2, "and": a & 2, "eq": a == b, "lt": a.float() < 1.5, "shift": a << 1,
               "and_b": a & b, "xor0d": a ^ lib.tensor(3), "ge": a >= b}
        got.append({k: (tuple(v.stride()), v.tolist()) for k, v in res.items()})
    assert got[1] == got[0]


def test_mixed_layout_binary_functions_keep_torchs_layout():
    got = []
    for lib in (torch, ts):
        a = lib.arange(1, 7).reshape(2, 3).t().float()
        b = lib.arange(1, 7).reshape(3, 2).float()
        res = {"fdiv": a // b, "mod": a % b, "fmod": lib.fmod(a, b), "atan2": lib.atan2(a, b),
               "hypot": lib.hypot(a, b), "xlogy": lib.xlogy(a, b), "logaddexp": lib.logaddexp(a, b),
               "copysign": lib.copysign(a, b), "fmax": lib.fmax(a, b), "trunc": lib.div(a, b, rounding_mode="trunc"),
               "floor": lib.div(a, b, rounding_mode="floor"), "ifdiv": a.long() // b.long(), "imod": a.long() % b.long(),
               "where": lib.where(a > b, a, b), "where_c": lib.where(b > 2, a, b), "where_b": lib.where(b > a, b, a)}
        got.append({k: (tuple(v.stride()), np.round(v.double().numpy(), 5).tolist()) for k, v in res.items()})
    assert got[1] == got[0]
