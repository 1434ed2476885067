"""Differences from torch 2.13 found by porting the last third of PyTorch's test/test_torch.py,
each checked beside torch: histc / bincount / renorm argument errors, the strides of the *_like
tensors of a non-contiguous source (and where their random draws land), index_copy_'s rank
check, the grad_fn names of pdist and the trapezoid rules, bool inputs torch's kernels refuse,
sort's keyword-only stable=, and the memory-overlap refusals of item assignment and of the
in-place addcmul_ / addcdiv_."""
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import tinygrad_seq as ts  # noqa: E402


def _raises_like_torch(fn, same_message=True):
    """fn(M) raises in torch; ours raises the same Python type (or a subclass), with the same
    first line of message when same_message."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as te:
            fn(torch)
        with pytest.raises(Exception) as oe:
            fn(ts)
    assert isinstance(oe.value, type(te.value)), (type(te.value), type(oe.value), str(oe.value))
    if same_message:
        assert str(oe.value).split("\n")[0] == str(te.value).split("\n")[0]


def _same_result(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want, got = fn(torch), fn(ts)
    assert str(got.dtype).replace("torch.", "") == str(want.dtype).replace("torch.", "")
    np.testing.assert_array_equal(got.numpy(), want.numpy())


# 1. histc: torch's RuntimeErrors (numpy's ValueError before)
@pytest.mark.parametrize("case", ["bins_neg", "bins_zero", "inf", "neg_inf", "inf2", "nan", "both_inf",
                                  "min_nan", "min_gt_max", "int_input"])
def test_histc_errors_like_torch(case):
    fns = {
        "bins_neg": lambda M: M.histc(M.tensor([1.0]), bins=-1),
        "bins_zero": lambda M: M.histc(M.tensor([1.0, 2.0]), bins=0),
        "inf": lambda M: M.histc(M.tensor([float("inf")])),          # [3.40282e+38, inf]
        "neg_inf": lambda M: M.histc(M.tensor([float("-inf")], dtype=M.float64)),
        "inf2": lambda M: M.histc(M.tensor([1.0, 2.0, float("inf")])),
        "nan": lambda M: M.histc(M.tensor([float("nan")])),
        "both_inf": lambda M: M.histc(M.tensor([1.0, float("-inf"), float("inf")])),
        "min_nan": lambda M: M.histc(M.tensor([1.0]), bins=4, min=float("nan"), max=1),
        "min_gt_max": lambda M: M.histc(M.tensor([1.0]), min=3, max=1),
        "int_input": lambda M: M.histc(M.tensor([1, 2])),
    }
    _raises_like_torch(fns[case])


def test_histc_values_unchanged():
    _same_result(lambda M: M.histc(M.tensor([2.5]), bins=4))
    _same_result(lambda M: M.histc(M.tensor([1.0, 2.0, 1.0, 7.0]), bins=5, min=0, max=6))
    _same_result(lambda M: M.histc(M.tensor([1.0, float("inf")]), bins=3, min=0, max=3))


# 2. bincount: torch's errors for a negative minlength, a weights length mismatch, a bool input
@pytest.mark.parametrize("case", ["minlength_neg", "minlength_neg_2d", "weights_len", "bool_input",
                                  "bool_minlength_neg", "float_input", "half_input", "two_d", "negative"])
def test_bincount_errors_like_torch(case):
    fns = {
        "minlength_neg": lambda M: M.bincount(M.tensor([1, 3]), M.tensor([0.2, 0.2]), minlength=-1),
        "minlength_neg_2d": lambda M: M.bincount(M.tensor([[1]]), minlength=-1),
        "weights_len": lambda M: M.bincount(M.tensor([1, 0]), M.tensor([1.0, 0.3, 0.5])),
        "bool_input": lambda M: M.bincount(M.tensor([True, False, True])),
        "bool_minlength_neg": lambda M: M.bincount(M.tensor([True]), minlength=-1),
        "float_input": lambda M: M.bincount(M.tensor([1.0])),
        "half_input": lambda M: M.bincount(M.tensor([1.0], dtype=M.float16)),
        "two_d": lambda M: M.bincount(M.tensor([[1]])),
        "negative": lambda M: M.bincount(M.tensor([-1])),
    }
    _raises_like_torch(fns[case])


def test_bincount_small_integer_inputs_count():
    _same_result(lambda M: M.bincount(M.tensor([1, 1, 3], dtype=M.uint8)))
    _same_result(lambda M: M.bincount(M.tensor([0, 2], dtype=M.int8), minlength=4))
    _same_result(lambda M: M.bincount(M.tensor([1]), M.tensor([True])))


# 3. renorm: torch's argument checks, in its order
@pytest.mark.parametrize("case", ["p_neg", "p_zero", "p_nan", "maxnorm_neg", "maxnorm_frac", "maxnorm_nan",
                                  "int_input", "bool_input", "int_p_neg", "one_d", "dim_range", "inplace_p_neg"])
def test_renorm_argument_checks(case):
    x = np.arange(1.0, 7.0, dtype=np.float32).reshape(2, 3)
    fns = {
        "p_neg": lambda M: M.tensor(x).renorm(-1, 0, 1.0),
        "p_zero": lambda M: M.tensor(x).renorm(0, 0, 1.0),
        "p_nan": lambda M: M.tensor(x).renorm(float("nan"), 0, 1.0),
        "maxnorm_neg": lambda M: M.tensor(x).renorm(2, 0, -1.0),
        "maxnorm_frac": lambda M: M.tensor(x).renorm(2, 0, -0.5),
        "maxnorm_nan": lambda M: M.tensor(x).renorm(2, 0, float("nan")),
        "int_input": lambda M: M.tensor([[1, 2], [3, 4]]).renorm(2, 0, 1),
        "bool_input": lambda M: M.tensor([[True]]).renorm(2, 0, 1),
        "int_p_neg": lambda M: M.tensor([[1]]).renorm(-1, 0, 1),
        "one_d": lambda M: M.tensor([1.0, 2.0]).renorm(2, 0, 1),
        "dim_range": lambda M: M.tensor([[1]]).renorm(2, 5, 1),
        "inplace_p_neg": lambda M: M.tensor(x).renorm_(-1, 0, 1.0),
    }
    _raises_like_torch(fns[case])


def test_renorm_values_unchanged():
    x = np.arange(1.0, 7.0, dtype=np.float32).reshape(2, 3)
    for p in (0.5, 2, float("inf")):
        want, got = torch.tensor(x).renorm(p, 0, 3.0), ts.tensor(x).renorm(p, 0, 3.0)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


# 4. *_like of a non-contiguous source: torch's strides (memory_format=preserve_format), its draws in
# the new tensor's memory order (randn_like: normal_'s one-by-one path of a non-contiguous tensor)
_LIKE = {
    "empty_like": lambda M, x, **kw: M.empty_like(x, **kw),
    "zeros_like": lambda M, x, **kw: M.zeros_like(x, **kw),
    "ones_like": lambda M, x, **kw: M.ones_like(x, **kw),
    "full_like": lambda M, x, **kw: M.full_like(x, 7, **kw),
    "rand_like": lambda M, x, **kw: M.rand_like(x, **kw),
    "randn_like": lambda M, x, **kw: M.randn_like(x, **kw),
    "randint_like": lambda M, x, **kw: M.randint_like(x, 3, 10, **kw),
}
_SOURCES = {
    "t": lambda M: M.zeros(4, 5).t(),
    "t_small": lambda M: M.zeros(2, 3).t(),
    "permute": lambda M: M.zeros(2, 3, 4).permute(2, 0, 1),
    "gapped": lambda M: M.zeros(4, 6).t()[::2],
    "gapped_t": lambda M: M.zeros(4, 6)[:, ::2].t(),
    "expanded": lambda M: M.zeros(3, 1).expand(3, 4),
    "expanded_t": lambda M: M.zeros(1, 3).expand(4, 3).t(),
    "nhwc": lambda M: M.zeros(2, 3, 4, 5).permute(0, 2, 3, 1),
    "contiguous": lambda M: M.zeros(4, 5),
    "int64_t": lambda M: M.zeros(4, 5, dtype=M.int64).t(),
}


@pytest.mark.parametrize("source", list(_SOURCES))
@pytest.mark.parametrize("name", list(_LIKE))
def test_like_strides_and_draws_match_torch(name, source):
    results = []
    for M in (torch, ts):
        M.manual_seed(0)
        try:
            y = _LIKE[name](M, _SOURCES[source](M))
        except Exception as e:  # noqa: BLE001  (rand_like of an int64 tensor: both refuse)
            results.append(type(e))
            continue
        results.append((tuple(y.stride()), y.is_contiguous(), str(y.dtype).replace("torch.", ""),
                        None if name == "empty_like" else y.numpy()))
    if isinstance(results[0], type):
        assert issubclass(results[1], results[0])
        return
    assert results[1][:3] == results[0][:3]
    if name != "empty_like":   # (randn's vectorised path for a contiguous float32 tensor: within an ulp)
        np.testing.assert_allclose(results[1][3], results[0][3], rtol=2e-7, atol=0)


@pytest.mark.parametrize("fmt", ["contiguous_format", "channels_last", "preserve_format"])
def test_like_memory_format_argument(fmt):
    def run(M, src):
        M.manual_seed(0)
        y = M.rand_like(src, memory_format=getattr(M, fmt))
        return tuple(y.stride()), y.numpy().tolist()
    assert run(ts, ts.zeros(2, 3, 4, 5)) == run(torch, torch.zeros(2, 3, 4, 5))
    if fmt != "channels_last":
        assert run(ts, ts.zeros(4, 5).t()) == run(torch, torch.zeros(4, 5).t())
    else:   # a rank-2 source has no channels-last layout
        _raises_like_torch(lambda M: M.zeros_like(M.zeros(4, 5).t(), memory_format=M.channels_last))


@pytest.mark.parametrize("name", list(_LIKE))
def test_like_of_transpose_refuses_a_flat_view(name):
    _raises_like_torch(lambda M: _LIKE[name](M, M.zeros(3, 4).t()).view(12), same_message=False)


@pytest.mark.parametrize("name", ["zeros_like", "randn_like"])
def test_like_requires_grad_of_strided_result(name):
    for M in (torch, ts):
        y = _LIKE[name](M, M.zeros(4, 5).t(), requires_grad=True)
        assert y.requires_grad and y.is_leaf and y.grad_fn is None and tuple(y.stride()) == (1, 5)
    _raises_like_torch(lambda M: M.zeros_like(M.zeros(4, 5, dtype=M.int64).t(), requires_grad=True),
                       same_message=False)


# 5. index_copy_: torch's IndexError for ranks that differ, checked before the dtypes
@pytest.mark.parametrize("case", ["rank_lower", "rank_higher", "rank_and_dtype", "functional", "scalar_source",
                                  "index_2d"])
def test_index_copy_rank_checks(case):
    fns = {
        "rank_lower": lambda M: M.randn(3, 5).index_copy_(dim=1, index=M.tensor([3]), source=M.zeros(3)),
        "rank_higher": lambda M: M.randn(3, 5).index_copy_(1, M.tensor([3]), M.zeros(3, 1, 1)),
        "rank_and_dtype": lambda M: M.randn(3, 5).index_copy_(1, M.tensor([3]), M.zeros(3, dtype=M.float64)),
        "functional": lambda M: M.index_copy(M.randn(3, 5), 1, M.tensor([3]), M.zeros(3)),
        "scalar_source": lambda M: M.randn(3).index_copy_(0, M.tensor([0, 1]), M.tensor(2.0)),
        "index_2d": lambda M: M.randn(3).index_copy_(0, M.tensor([[0]]), M.tensor([2.0])),
    }
    _raises_like_torch(fns[case])


def test_index_copy_scalar_forms_still_work():
    _same_result(lambda M: M.zeros(3).index_copy_(0, M.tensor([1]), M.tensor(2.0)))
    _same_result(lambda M: M.tensor(3.0).index_copy_(0, M.tensor([0]), M.tensor([2.0])))


# 6. grad_fn names of pdist and the trapezoid rules
@pytest.mark.parametrize("case", ["pdist", "pdist_p0", "pdist_inf", "trapz", "trapz_dx", "trapezoid_dim",
                                  "trapezoid_x", "cumulative_x", "cumulative_dx"])
def test_grad_fn_names(case):
    fns = {
        "pdist": lambda M: M.pdist(M.ones(3, 2, requires_grad=True)),
        "pdist_p0": lambda M: M.pdist(M.ones(3, 2, requires_grad=True), p=0),
        "pdist_inf": lambda M: M.pdist(M.ones(3, 2, requires_grad=True), p=float("inf")),
        "trapz": lambda M: M.trapz(M.ones(3, requires_grad=True)),
        "trapz_dx": lambda M: M.trapz(M.ones(3, requires_grad=True), dx=2),
        "trapezoid_dim": lambda M: M.trapezoid(M.ones(2, 3, requires_grad=True), dim=1),
        "trapezoid_x": lambda M: M.trapezoid(M.ones(3, requires_grad=True), M.arange(3.0)),
        "cumulative_x": lambda M: M.cumulative_trapezoid(M.ones(3, requires_grad=True), M.arange(3.0)),
        "cumulative_dx": lambda M: M.cumulative_trapezoid(M.ones(3, requires_grad=True), dx=2),
    }
    want, got = fns[case](torch), fns[case](ts)
    assert got.grad_fn.name() == want.grad_fn.name()
    assert repr(got) == repr(want)


def test_trapezoid_gradients_unchanged():
    y = np.array([[1.0, 4.0, 2.0], [0.5, -1.0, 3.0]])
    x = np.array([0.0, 0.5, 2.0])
    grads = []
    for M in (torch, ts):
        yt = M.tensor(y, requires_grad=True)
        (M.trapezoid(yt, M.tensor(x)).sum() + M.trapz(yt, dx=0.5).sum()).backward()
        grads.append(yt.grad.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12)


def test_trapezoid_of_no_samples_is_zeros_of_y_dtype():
    _same_result(lambda M: M.trapezoid(M.ones(0, dtype=M.bool)))
    _same_result(lambda M: M.trapezoid(M.ones(0, 3, dtype=M.int32), dim=0))
    _same_result(lambda M: M.trapezoid(M.ones(0), M.ones(0, dtype=M.bool)))
    assert not ts.trapezoid(ts.ones(0, 3, requires_grad=True), dim=0).requires_grad


# 7. bool inputs torch's kernels refuse, and sort's keyword-only stable=
@pytest.mark.parametrize("case", ["kthvalue", "kthvalue_dim", "addcmul", "addcmul_0d", "addcmul_", "trapezoid",
                                  "trapz", "trapezoid_x", "trapezoid_dx", "cumulative", "cumulative_empty",
                                  "cumulative_x", "linspace", "logspace", "linspace_out"])
def test_bool_dtype_refused_like_torch(case):
    fns = {
        "kthvalue": lambda M: M.tensor([True, False, True]).kthvalue(2),
        "kthvalue_dim": lambda M: M.tensor([[True, False]]).kthvalue(1, 1),
        "addcmul": lambda M: M.addcmul(M.tensor([True]), M.tensor([True]), M.tensor([False])),
        "addcmul_0d": lambda M: M.addcmul(M.tensor(True), M.tensor(True), M.tensor(True)),
        "addcmul_": lambda M: M.tensor([True]).addcmul_(M.tensor([True]), M.tensor([True])),
        "trapezoid": lambda M: M.trapezoid(M.tensor([True, False, True])),
        "trapz": lambda M: M.trapz(M.tensor([True, False, True])),
        "trapezoid_x": lambda M: M.trapezoid(M.tensor([1.0, 2.0]), M.tensor([True, False])),
        "trapezoid_dx": lambda M: M.trapezoid(M.ones(2), dx=True),
        "cumulative": lambda M: M.cumulative_trapezoid(M.tensor([True, False])),
        "cumulative_empty": lambda M: M.cumulative_trapezoid(M.ones(0, dtype=M.bool)),
        "cumulative_x": lambda M: M.cumulative_trapezoid(M.ones(2), M.ones(2, dtype=M.bool)),
        "linspace": lambda M: M.linspace(0, 5, 4, dtype=M.bool),
        "logspace": lambda M: M.logspace(0, 5, 4, dtype=M.bool),
        "linspace_out": lambda M: M.linspace(0, 5, 3, out=M.empty(3, dtype=M.bool)),
    }
    _raises_like_torch(fns[case])


def test_bool_forms_torch_takes():
    _same_result(lambda M: M.tensor(True).kthvalue(1).values)
    _same_result(lambda M: M.addcmul(M.tensor([True]), M.tensor([True]), M.tensor([2])))
    _same_result(lambda M: M.addcmul(M.tensor([1.0]), M.tensor([True]), M.tensor([False])))
    for steps in (0, 1):
        _same_result(lambda M: M.linspace(0, 5, steps, dtype=M.bool))
        _same_result(lambda M: M.logspace(0, 5, steps, dtype=M.bool))
    _raises_like_torch(lambda M: M.tensor(True).kthvalue(2), same_message=False)
    _raises_like_torch(lambda M: M.addcmul(M.tensor([True, False]), M.tensor([True] * 3), M.tensor([True])),
                       same_message=False)   # the shape error comes first


@pytest.mark.parametrize("case", ["method", "function", "with_descending", "three_positional", "stable_false"])
def test_sort_stable_is_keyword_only(case):
    fns = {
        "method": lambda M: M.tensor([[3, 1]]).sort(1, stable=True),
        "function": lambda M: M.sort(M.tensor([[3, 1]]), 1, stable=True),
        "with_descending": lambda M: M.tensor([[3, 1]]).sort(1, True, stable=True),
        "three_positional": lambda M: M.tensor([[3, 1]]).sort(1, True, True),
        "stable_false": lambda M: M.tensor([[3, 1]]).sort(1, stable=False),
    }
    _raises_like_torch(fns[case], same_message=False)


def test_sort_forms_torch_takes():
    x = np.array([[3, 1, 2, 1]])
    for call in (lambda M, t: t.sort(1, True), lambda M, t: t.sort(dim=1, descending=True, stable=True),
                 lambda M, t: M.sort(t, stable=True, dim=1), lambda M, t: t.sort(1, descending=True),
                 lambda M, t: t.sort(), lambda M, t: M.tensor(3.0).sort(0), lambda M, t: t.sort(axis=1)):
        want, got = call(torch, torch.tensor(x)), call(ts, ts.tensor(x))
        assert got.values.tolist() == want.values.tolist() and got.indices.tolist() == want.indices.tolist()


# 8. item assignment reading the memory it writes: index_put_ refuses any overlap of value or index
# with the region written, masked_fill_ (one bool mask, a one-element value) a partial overlap with
# the mask, copy_ (a basic index) a partial overlap with value
def _setitem(make, index, value):
    def run(M):
        y = make(M)
        y[index(M, y)] = value(M, y)
        return y
    return run


_ASSIGN = {
    "long_index_value_part": (lambda M: M.arange(6.0), lambda M, y: M.tensor([3, 4, 5]), lambda M, y: y[:3]),
    "long_index_value_same_place": (lambda M: M.arange(6.0), lambda M, y: M.tensor([0, 1, 2]), lambda M, y: y[:3]),
    "long_index_value_whole": (lambda M: M.arange(3.0), lambda M, y: M.tensor([0, 1, 2]), lambda M, y: y),
    "long_index_value_0d": (lambda M: M.arange(4.0), lambda M, y: M.tensor([1, 2]), lambda M, y: y[1]),
    "list_index": (lambda M: M.arange(4.0), lambda M, y: [1, 2], lambda M, y: y[2:]),
    "index_is_self": (lambda M: M.tensor([0, 1, 2, 3]), lambda M, y: y, lambda M, y: 5),
    "index_part_of_self": (lambda M: M.tensor([0, 1, 2, 3]), lambda M, y: y[:2], lambda M, y: 5),
    "slice_and_index": (lambda M: M.arange(6.0).reshape(2, 3), lambda M, y: (slice(None), M.tensor([0, 1])),
                        lambda M, y: y[0, 2]),
    "int_and_index": (lambda M: M.arange(6.0).reshape(2, 3), lambda M, y: (0, M.tensor([0, 1])),
                      lambda M, y: y[0, 1:]),
    "mask_many_values": (lambda M: M.tensor([True, False, True]), lambda M, y: y,
                         lambda M, y: M.tensor([False, False])),
    "mask_value_of_self": (lambda M: M.arange(4.0), lambda M, y: M.tensor([True, False, True, False]),
                           lambda M, y: y[1:3]),
    "mask_2d_value_of_self": (lambda M: M.arange(6.0).reshape(2, 3),
                              lambda M, y: M.tensor([[True, False, True], [False, False, False]]),
                              lambda M, y: y[1, :2]),
    "basic_shifted": (lambda M: M.arange(6.0), lambda M, y: slice(1, None), lambda M, y: y[:-1]),
    "basic_shifted_inner": (lambda M: M.arange(6.0), lambda M, y: slice(1, 4), lambda M, y: y[2:5]),
    "basic_transposed": (lambda M: M.arange(4.0).reshape(2, 2), lambda M, y: slice(None), lambda M, y: y.t()),
    "basic_leading_one": (lambda M: M.arange(4.0), lambda M, y: slice(1, None), lambda M, y: y[:-1].view(1, 3)),
    "grad_index_put": (lambda M: M.arange(4.0, requires_grad=True).clone(), lambda M, y: M.tensor([1, 2]),
                       lambda M, y: y[:2]),
    "grad_basic": (lambda M: M.arange(4.0, requires_grad=True).clone(), lambda M, y: slice(1, None),
                   lambda M, y: y[:-1]),
}


@pytest.mark.parametrize("case", list(_ASSIGN))
def test_item_assignment_overlap_refused(case):
    _raises_like_torch(_setitem(*_ASSIGN[case]))


def test_mask_partly_over_self_refused():
    def run(M):
        m = M.tensor([True, False, True, True])
        m[1:][m[:-1]] = False
    _raises_like_torch(run)


_ALLOWED = {
    "mask_is_self": (lambda M: M.tensor([True, False, True]), lambda M, y: y, lambda M, y: False),
    "mask_is_self_one_value": (lambda M: M.tensor([True, False, True]), lambda M, y: y,
                               lambda M, y: M.tensor([False])),
    "mask_one_value_of_self": (lambda M: M.arange(4.0), lambda M, y: M.tensor([True, False, True, False]),
                               lambda M, y: y[1:2]),
    "mask_0d_value_of_self": (lambda M: M.arange(4.0), lambda M, y: M.tensor([True, False, True, False]),
                              lambda M, y: y[1]),
    "mask_clone": (lambda M: M.tensor([True, False, True]), lambda M, y: y.clone(), lambda M, y: False),
    "index_elsewhere": (lambda M: M.arange(4), lambda M, y: (slice(2, None),), lambda M, y: 1),
    "zero_d_index": (lambda M: M.arange(4.0), lambda M, y: M.tensor(1), lambda M, y: y[2]),
    "int_then_index_other_row": (lambda M: M.arange(6.0).reshape(2, 3), lambda M, y: (1, M.tensor([0, 1])),
                                 lambda M, y: y[0, 1:]),
    "int_then_index_same_row": (lambda M: M.arange(6.0).reshape(2, 3), lambda M, y: (0, M.tensor([0, 1])),
                                lambda M, y: y[1, :2]),
    "basic_whole": (lambda M: M.arange(6.0), lambda M, y: slice(None), lambda M, y: y),
    "basic_ellipsis": (lambda M: M.arange(6.0), lambda M, y: Ellipsis, lambda M, y: y),
    "basic_none": (lambda M: M.arange(4.0), lambda M, y: None, lambda M, y: y),
    "basic_whole_leading_one": (lambda M: M.arange(4.0), lambda M, y: slice(None), lambda M, y: y.view(1, 4)),
    "basic_disjoint": (lambda M: M.arange(6.0), lambda M, y: slice(None, 3), lambda M, y: y[3:]),
    "basic_0d_fill": (lambda M: M.arange(4.0), lambda M, y: slice(1, 3), lambda M, y: y[2]),
    "basic_broadcast": (lambda M: M.arange(4.0), lambda M, y: slice(1, 3), lambda M, y: y[2:3]),
    "basic_row": (lambda M: M.arange(6.0).reshape(2, 3), lambda M, y: 0, lambda M, y: y[1]),
}


@pytest.mark.parametrize("case", list(_ALLOWED))
def test_item_assignment_without_overlap_writes_as_torch(case):
    _same_result(_setitem(*_ALLOWED[case]))


def test_index_elsewhere_of_a_slice():
    def run(M):
        y = M.arange(4)
        y[2:][y[:2]] = 1
        return y
    _same_result(run)


# 9. addcmul_ / addcdiv_ with tensor1 or tensor2 part of self
@pytest.mark.parametrize("case", ["addcmul_t1", "addcmul_t2", "addcdiv_t1", "addcdiv_t2"])
def test_addc_inplace_partial_overlap_refused(case):
    fns = {
        "addcmul_t1": lambda M, x: x[1:].addcmul_(x[:-1], M.ones(9)),
        "addcmul_t2": lambda M, x: x[1:].addcmul_(M.ones(9), x[:-1]),
        "addcdiv_t1": lambda M, x: x[1:].addcdiv_(x[:-1], M.ones(9)),
        "addcdiv_t2": lambda M, x: x[1:].addcdiv_(M.ones(9), x[:-1]),
    }
    _raises_like_torch(lambda M: fns[case](M, M.arange(1.0, 11.0)))


def test_addc_inplace_whole_or_disjoint_operands_allowed():
    def whole(M):
        x = M.arange(10.0)
        return x.addcmul_(x, x)

    def disjoint(M):
        x = M.arange(1.0, 11.0)
        x[:5].addcdiv_(x[5:], x[5:])
        return x
    _same_result(whole)
    _same_result(disjoint)
