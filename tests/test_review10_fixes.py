"""Found by a review of the stop's last commits against torch 2.13: float fills that overflow the
dtype raise on every scalar path (Python ints, numpy scalars, fill_ in the graph, where), a
tensor value is cast instead; matrix_exp scales each matrix of a batch on its own and gives nan
for non-finite input; assert_close's tolerances and exact integers; out= into other integer
dtypes, out that requires grad, int64 indices; chain_matmul's checks; typename of classes;
printouts with sci_mode on an all-zero tensor and with edgeitems=0; triangular_solve's broadcast
coefficient."""
import warnings

import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")


def test_where_with_python_float_overflowing_float32_raises():
    # torch.where(c, f32, 1e39): RuntimeError; ours: [0, inf]
    c = ts.tensor([True, False])
    with pytest.raises(RuntimeError):
        ts.where(c, ts.zeros(2), 1e39)


def test_masked_fill_python_int_overflowing_float16_raises():
    # torch.zeros(2, dtype=half).masked_fill(m, -100000): RuntimeError; ours: [-inf, 0]
    with pytest.raises(RuntimeError):
        ts.zeros(2, dtype=ts.float16).masked_fill(ts.tensor([True, False]), -100000)


def test_full_python_int_overflowing_float16_raises():
    with pytest.raises(RuntimeError):
        ts.full((2,), 100000, dtype=ts.float16)


def test_masked_fill_numpy_float64_scalar_overflowing_float16_raises():
    # type(v) is float misses np.float64 (a float subclass): torch raises, ours fills -inf
    with pytest.raises(RuntimeError):
        ts.ones(3, dtype=ts.float16).masked_fill(ts.tensor([True, False, True]), np.float64(-1e9))


def test_fill_in_graph_overflowing_float16_raises():
    # the _in_graph branch of fill_ (_rebase) skips float_scalar: torch raises, ours gives inf
    leaf = ts.ones(3, dtype=ts.float16, requires_grad=True)
    x = leaf * 1
    with pytest.raises(RuntimeError):
        x.fill_(1e5)


def test_fill_with_0d_tensor_value_converts_like_torch():
    # a tensor value is cast, not checked: torch.zeros(3, dtype=half).fill_(torch.tensor(1e5)) is inf;
    # ours raises InvalidArgument since fill_ calls .item() and then float_scalar
    expected = torch.zeros(3, dtype=torch.float16).fill_(torch.tensor(1e5)).tolist()
    assert ts.zeros(3, dtype=ts.float16).fill_(ts.tensor(1e5)).tolist() == expected


def test_matrix_exp_batch_scales_each_matrix_on_its_own():
    # one squaring count for the whole batch (the largest 1-norm): a small matrix batched with a
    # large one is squared ~12 extra times in float32 and loses 3 digits (alone: 2e-6)
    rng = np.random.default_rng(0)
    small = (rng.normal(size=(4, 4)) * 0.5).astype(np.float32)
    big = np.zeros((4, 4), np.float32)
    big[0, 1], big[1, 0] = 1000.0, -1000.0   # a rotation: exp stays bounded
    A = np.stack([big, small])
    expected = torch.linalg.matrix_exp(torch.tensor(A)).numpy()[1]
    ours = ts.linalg.matrix_exp(ts.tensor(A)).numpy()[1]
    assert np.abs(ours - expected).max() < 1e-5


def test_matrix_exp_non_finite_input_gives_nan_not_overflowerror():
    # torch: all-nan matrix; ours: OverflowError from math.ceil(math.log2(inf)) (linalg.py:411)
    expected = torch.linalg.matrix_exp(torch.tensor([[float("inf"), 0.0], [0.0, 1.0]]))
    out = ts.linalg.matrix_exp(ts.tensor([[float("inf"), 0.0], [0.0, 1.0]]))
    assert np.isnan(out.numpy()).all() and torch.isnan(expected).all()


def test_assert_close_mixed_dtypes_uses_the_looser_tolerance():
    # torch takes the max of both dtypes' tolerances (float32's here); ours promote_types -> float64's
    torch.testing.assert_close(torch.tensor([1.0]), torch.tensor([1.000002], dtype=torch.float64), check_dtype=False)
    ts.testing.assert_close(ts.tensor([1.0]), ts.tensor([1.000002], dtype=ts.float64), check_dtype=False)


def test_assert_close_int64_is_exact():
    # np.isclose goes through float64: 2**62 + 1 == 2**62 there; torch compares integers exactly
    with pytest.raises(AssertionError):
        torch.testing.assert_close(torch.tensor([2 ** 62 + 1]), torch.tensor([2 ** 62]))
    with pytest.raises(AssertionError):
        ts.testing.assert_close(ts.tensor([2 ** 62 + 1]), ts.tensor([2 ** 62]))


def test_assert_close_none():
    torch.testing.assert_close(None, None)
    ts.testing.assert_close(None, None)   # ours: TypeError from np.isclose(None, None)


def test_out_uint8_from_an_int_result():
    # torch allows any integral -> integral out (int32 max into uint8 out); np.can_cast(int32,
    # uint8, "same_kind") is False, so ours raises
    a = torch.tensor([1, 2], dtype=torch.int32)
    o = torch.zeros(2, dtype=torch.uint8)
    torch.maximum(a, a, out=o)
    b = ts.tensor([1, 2], dtype=ts.int32)
    p = ts.zeros(2, dtype=ts.uint8)
    ts.maximum(b, b, out=p)
    assert p.tolist() == o.tolist()


def test_out_that_requires_grad_is_refused():
    # torch: "functions with out=... arguments don't support automatic differentiation";
    # ours writes into the graph tensor and keeps requires_grad (its history gets a zero gradient)
    x = ts.tensor([1.0, 2.0], requires_grad=True)
    o = x * 2
    with pytest.raises(RuntimeError):
        ts.add(ts.tensor([1.0, 1.0]), ts.tensor([1.0, 1.0]), out=o)


def test_max_dim_out_indices_must_be_int64():
    # torch: "Expected out tensor to have dtype long int, but got float instead"; ours writes float indices
    with pytest.raises(RuntimeError):
        ts.max(ts.tensor([[1.0, 2.0]]), 1, out=(ts.zeros(1), ts.zeros(1)))


def test_chain_matmul_single_matrix_writes_out():
    x = np.arange(6.0).reshape(2, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        o = torch.zeros(1, dtype=torch.float64)
        torch.chain_matmul(torch.tensor(x), out=o)
        p = ts.zeros(1, dtype=ts.float64)
        r = ts.chain_matmul(ts.tensor(x), out=p)
    assert r is p and p.tolist() == o.tolist()


def test_chain_matmul_refuses_1d():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError):
            torch.chain_matmul(torch.ones(3), torch.ones(3, 2))
        with pytest.raises(RuntimeError):
            ts.chain_matmul(ts.ones(3), ts.ones(3, 2))


def test_typename_of_a_class_and_a_function():
    assert ts.typename(ts.nn.Linear).split(".")[-1] == torch.typename(torch.nn.Linear).split(".")[-1]   # 'Linear'
    assert ts.typename(len) == torch.typename(len)   # 'len'


@pytest.fixture
def printoptions():
    yield
    ts.set_printoptions(precision=4, threshold=1000, edgeitems=3, linewidth=80, sci_mode=None)
    torch.set_printoptions(precision=4, threshold=1000, edgeitems=3, linewidth=80, sci_mode=None)


def test_repr_sci_mode_true_all_zero_or_non_finite(printoptions):
    # torch's _Formatter returns before applying PRINT_OPTS.sci_mode when no value is non-zero and
    # finite: tensor([0., nan]); ours tensor([0.0000e+00, nan])
    torch.set_printoptions(sci_mode=True)
    ts.set_printoptions(sci_mode=True)
    for v in ([0.0, 0.0], [0.0, float("nan")], [-0.0], 0.0):
        assert repr(ts.tensor(v)) == repr(torch.tensor(v))


def test_repr_edgeitems_zero_adds_size_suffix(printoptions):
    # torch's _str_intern: `if not PRINT_OPTS.edgeitems: suffixes.append("size=...")`
    torch.set_printoptions(edgeitems=0, threshold=5)
    ts.set_printoptions(edgeitems=0, threshold=5)
    v = np.arange(7.0, dtype=np.float32)
    assert repr(ts.tensor(v)) == repr(torch.tensor(v))          # tensor([...], size=(7,))
    assert repr(ts.tensor(1.5)) == repr(torch.tensor(1.5))      # tensor(1.5000, size=())


def test_triangular_solve_cloned_coefficient_is_broadcast():
    rng = np.random.default_rng(0)
    A = np.triu(rng.normal(size=(3, 3))) + 3 * np.eye(3)
    B = rng.normal(size=(2, 3, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = torch.triangular_solve(torch.tensor(B), torch.tensor(A)).cloned_coefficient
        ours = ts.triangular_solve(ts.tensor(B), ts.tensor(A)).cloned_coefficient
    assert tuple(ours.shape) == tuple(expected.shape)   # (2, 3, 3); ours (3, 3)


def test_item_assignment_and_index_fill_of_an_overflowing_number_as_torchs():
    results = []
    for L in (ts, torch):
        row = []
        for dt in (L.float16, L.float32, L.float64):
            for v in (1e5, 1e39):
                for how in ("setitem", "index_fill"):
                    x = L.zeros(3, dtype=dt)
                    try:
                        if how == "setitem":
                            x[1] = v
                        else:
                            x.index_fill_(0, L.tensor([1]), v)
                        row.append(float(x[1].item()))
                    except RuntimeError:
                        row.append("raises")
        results.append(row)
    assert results[0] == results[1]
