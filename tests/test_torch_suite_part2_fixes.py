"""Differences from torch 2.13 found by porting the second half of PyTorch's test/test_torch.py,
each checked beside torch: out= tensors that are views and need resizing, the argument checks of
the in-place random fills and torch.normal, the legacy Tensor.new's keywords, cat of legacy
empty tensors along any dim, the out= of the range factories and of multinomial, and torch's
refusal of an out= that partly overlaps an input of an elementwise op."""
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import tinygrad_seq as ts  # noqa: E402


def _quiet(fn, M):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(M)


def _raises_like_torch(fn):
    """fn(M) raises in torch; ours raises the same Python type (or a subclass), with the same
    first line of message."""
    with pytest.raises(Exception) as te:
        _quiet(fn, torch)
    with pytest.raises(Exception) as oe:
        _quiet(fn, ts)
    assert isinstance(oe.value, type(te.value)), (type(te.value), type(oe.value), str(oe.value))
    assert str(oe.value).split("\n")[0] == str(te.value).split("\n")[0]


def _warnings_of(fn, M):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn(M)
    # (torch appends where in its C++ the warning came from)
    return [str(w.message).split(" (Triggered internally")[0] for w in caught if issubclass(w.category, UserWarning)]


# 1. an out= that is a view and must be resized: torch resizes it over its base's memory (the
#    base sees the result's first elements), with its deprecation warning
_RESIZED_VIEWS = {
    "t_view": lambda M: (lambda b: (b, b.t(), lambda o: M.add(M.ones(4), 1, out=o)))(M.zeros(2, 3)),
    "row_view": lambda M: (lambda b: (b, b[0], lambda o: M.add(M.ones(5), 1, out=o)))(M.zeros(4, 3)),
    "sum_slice_view": lambda M: (lambda b: (b, b[:, :2], lambda o: M.sum(M.ones(3, 4), 0, out=o)))(M.zeros(2, 3)),
    "smaller": lambda M: (lambda b: (b, b[1], lambda o: M.add(M.ones(2), 1, out=o)))(M.zeros(4, 3)),
}


@pytest.mark.parametrize("case", sorted(_RESIZED_VIEWS))
def test_out_view_resized_over_its_base(case):
    def run(M):
        base, out, op = _RESIZED_VIEWS[case](M)
        messages = _warnings_of(lambda _: op(out), M)
        out[0] = 7   # still the base's memory
        return base.numpy().copy(), out.numpy().copy(), tuple(out.stride()), messages

    want, got = run(torch), run(ts)
    for w, g in zip(want[:2], got[:2]):
        assert g.shape == w.shape
        np.testing.assert_array_equal(g, w)
    assert got[2] == want[2]
    assert [m for m in got[3] if "was resized" in m] == [m for m in want[3] if "was resized" in m] != []


def test_out_view_resized_randperm():
    def run(M):
        M.manual_seed(0)
        o = M.zeros((2, 3), dtype=M.long).t()
        M.randperm(4, out=o)
        return o

    want, got = _quiet(run, torch), _quiet(run, ts)
    assert tuple(got.shape) == tuple(want.shape) == (4,)
    np.testing.assert_array_equal(np.sort(got.numpy()), np.sort(want.numpy()))


def test_out_resized_under_no_grad_keeps_requires_grad():
    def run(M):
        o = M.zeros(2, requires_grad=True)
        with M.no_grad():
            M.add(M.ones(4), 1, out=o)
        return o

    want, got = _quiet(run, torch), _quiet(run, ts)
    assert got.requires_grad == want.requires_grad
    np.testing.assert_array_equal(got.detach().numpy(), want.detach().numpy())


# 2. the parameter checks of the random fills and of torch.normal (before the dtype check)
@pytest.mark.parametrize("call", [
    lambda M: M.zeros(3).normal_(0.0, -1.0),
    lambda M: M.zeros(3, dtype=M.float64).normal_(mean=1.0, std=-0.5),
    lambda M: M.zeros(3).normal_(0.0, float("nan")),
    lambda M: M.zeros(3, dtype=M.long).normal_(0, -1),
    lambda M: M.zeros(0).normal_(0.0, -1.0),
    lambda M: M.zeros(3).log_normal_(1.0, -2.0),
    lambda M: M.zeros(3).log_normal_(1.0, 0.0),
    lambda M: M.zeros(3).log_normal_(mean=1.0, std=-0.5),
    lambda M: M.zeros(3).uniform_(2.0, 1.0),
    lambda M: M.zeros(3).uniform_(1.5, 0.25),
    lambda M: M.zeros(3).uniform_(0.0, float("inf")),
    lambda M: M.zeros(3).uniform_(float("nan"), 1.0),
    lambda M: M.zeros(3).uniform_(-3e38, 3e38),
    lambda M: M.zeros(3, dtype=M.float16).uniform_(0, 70000.0),
    lambda M: M.zeros(3, dtype=M.float16).uniform_(-40000, 40000.0),
    lambda M: M.zeros(3).geometric_(0.0),
    lambda M: M.zeros(3).geometric_(1.5),
    lambda M: M.zeros(3).geometric_(1.0),
    lambda M: M.zeros(3).geometric_(p=-1.0),
    lambda M: M.zeros(3, dtype=M.long).geometric_(0.0),
    lambda M: M.zeros(3).exponential_(lambd=0.0),
    lambda M: M.zeros(3).cauchy_(sigma=-1.0),
    lambda M: M.normal(0.0, -1.0, (3,)),
    lambda M: M.normal(0.0, float("nan"), (3,)),
    lambda M: M.normal(M.zeros(3), -0.5),
    lambda M: M.normal(M.zeros(3), M.tensor([1.0, -1.0, 1.0])),
    lambda M: M.normal(0.0, M.tensor(-1.0)),
    lambda M: M.normal(M.zeros(3), M.tensor([float("nan")] * 3)),
])
def test_random_fill_argument_checks(call):
    _raises_like_torch(call)


@pytest.mark.parametrize("call", [
    lambda M: M.zeros(3, dtype=M.long).log_normal_(1.0, 0.0),
    lambda M: M.zeros(3, dtype=M.long).exponential_(0.0),
])
def test_random_fill_parameters_checked_before_dtype(call):
    with pytest.raises(RuntimeError) as te:
        call(torch)
    with pytest.raises(RuntimeError) as oe:
        call(ts)
    assert str(oe.value) == str(te.value)


@pytest.mark.parametrize("call", [
    lambda M: M.zeros(4).uniform_(1.0, 1.0),
    lambda M: M.zeros(4).normal_(0.0, 0.0),
    lambda M: M.zeros(4, dtype=M.float64).uniform_(-3e38, 3e38).abs() <= 3e38,
    lambda M: M.zeros(4).log_normal_(mean=0.0, std=1.0) > 0,
    lambda M: M.zeros(4).geometric_(p=0.5) >= 1,
    lambda M: M.normal(M.zeros(3), 0.0),
])
def test_random_fill_valid_parameters(call):
    want, got = call(torch), call(ts)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_random_fill_keywords_draw_as_positional():
    def run(M, **kw):
        M.manual_seed(3)
        return M.zeros(5, dtype=M.float64).log_normal_(**kw).numpy()

    np.testing.assert_allclose(run(ts, mean=0.5, std=0.25), run(torch, mean=0.5, std=0.25), rtol=1e-12)


# 3. the legacy Tensor.new takes size=, data= and device= (device naming self's type only)
@pytest.mark.parametrize("call", [
    lambda M: M.ones(2).new(2, 3, device="cpu"),
    lambda M: M.ones(2).new(size=(2, 3)),
    lambda M: M.ones(2).new(size=[2, 3], device="cpu"),
    lambda M: M.ones(2).new([1, 2], device="cpu"),
    lambda M: M.ones(2).new(data=[1, 2]),
    lambda M: M.ones(2, dtype=M.float64).new(device=M.device("cpu")),
    lambda M: M.ones(2, dtype=M.long).new(size=(3,)),
])
def test_legacy_new_keywords(call):
    want, got = call(torch), call(ts)   # (torch leaves new(sizes)'s elements uninitialised)
    assert tuple(got.shape) == tuple(want.shape)
    assert str(got.dtype).replace("torch.", "") == str(want.dtype).replace("torch.", "")


def test_legacy_new_data_keywords_values():
    np.testing.assert_array_equal(ts.ones(2).new(data=[1, 2], device="cpu").numpy(),
                                  torch.ones(2).new(data=[1, 2], device="cpu").numpy())


def test_legacy_new_other_device_type_refused():
    with pytest.raises(RuntimeError) as te:
        torch.ones(2).new(2, device="meta")
    with pytest.raises(RuntimeError, match="legacy constructor expects device type: cpu"):
        ts.ones(2).new(2, device="cuda")
    assert "legacy constructor expects device type: cpu" in str(te.value)


@pytest.mark.parametrize("call", [
    lambda M: M.ones(2).new(2, 3, dtype=M.long),
    lambda M: M.ones(2).new(2, foo=1),
    lambda M: M.ones(2).new(2, size=(2, 3)),
])
def test_legacy_new_refused_keywords(call):
    with pytest.raises(TypeError):
        call(torch)
    with pytest.raises(TypeError):
        call(ts)


# 4. cat of legacy empty (0,) tensors only: torch takes any dim and gives (0,)
@pytest.mark.parametrize("dim", [1, 5, -3])
def test_cat_all_legacy_empty_any_dim(dim):
    want = torch.cat([torch.tensor([]), torch.tensor([], dtype=torch.long)], dim=dim)
    got = ts.cat([ts.tensor([]), ts.tensor([], dtype=ts.long)], dim=dim)
    assert tuple(got.shape) == tuple(want.shape) == (0,)
    assert str(got.dtype) == str(want.dtype).replace("torch.", "")
    assert tuple(ts.cat([ts.tensor([])], dim=2).shape) == tuple(torch.cat([torch.tensor([])], dim=2).shape)


def test_cat_legacy_empty_4d_dim1():
    x = np.random.RandomState(0).randn(4, 3, 2, 2).astype("f4")
    want = torch.cat([torch.tensor(x), torch.tensor([])], dim=1)
    got = ts.cat([ts.tensor(x), ts.tensor([])], dim=1)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    with pytest.raises(IndexError):
        ts.cat([ts.zeros(0, 3), ts.zeros(0, 3)], dim=2)


# 5. the range factories' out= of the result's element count keeps its shape (filled in element
#    order, a transposed out too); another count makes it 1-D (arange warns when it had elements)
_RANGES = {
    "arange": lambda M, o: M.arange(6, out=o),
    "arange_float": lambda M, o: M.arange(0, 6, 1.0, out=o),
    "linspace": lambda M, o: M.linspace(0, 1, 6, out=o),
    "logspace": lambda M, o: M.logspace(0, 5, 6, out=o),
    "range": lambda M, o: M.range(0, 5, out=o),
}


@pytest.mark.parametrize("fn", sorted(_RANGES))
@pytest.mark.parametrize("layout", ["same_count", "transposed", "other_count", "empty"])
def test_range_out_shapes(fn, layout):
    def run(M):
        dtype = M.long if fn == "arange" else M.float32
        o = {"same_count": lambda: M.zeros(3, 2, dtype=dtype), "transposed": lambda: M.zeros(3, 2, dtype=dtype).t(),
             "other_count": lambda: M.zeros(2, 2, dtype=dtype), "empty": lambda: M.zeros(0, dtype=dtype)}[layout]()
        messages = _warnings_of(lambda _: _RANGES[fn](M, o), M)
        return o, [m for m in messages if "deprecated" not in m or "resized" in m]

    (want, want_warnings), (got, got_warnings) = run(torch), run(ts)
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    assert got_warnings == want_warnings


# 6. multinomial's out=: int64 only (checked before the weights), resized silently
def test_multinomial_out():
    def run(M):
        M.manual_seed(0)
        o = M.empty(2, dtype=M.long)
        r = M.multinomial(M.tensor([0.2, 0.3, 0.5]), 2, out=o)
        return r is o, o.numpy().tolist()

    assert run(ts) == run(torch)


def test_multinomial_out_resized_silently():
    def run(M):
        M.manual_seed(1)
        o = M.zeros(5, dtype=M.long)
        messages = _warnings_of(lambda _: M.multinomial(M.ones(3, 4), 2, out=o), M)
        return tuple(o.shape), o.numpy().tolist(), messages

    assert run(ts) == run(torch)


@pytest.mark.parametrize("call", [
    lambda M: M.multinomial(M.ones(1, 2, dtype=M.double), 2, out=M.empty(1, 2, dtype=M.double)),
    lambda M: M.multinomial(M.ones(1, 2), 2, out=M.empty(1, 2, dtype=M.int32)),
    lambda M: M.multinomial(-M.ones(1, 2), 2, out=M.empty(1, 2, dtype=M.double)),
    lambda M: M.multinomial(M.ones(1, 2, dtype=M.long), 2, out=M.empty(1, 2, dtype=M.double)),
])
def test_multinomial_out_wrong_dtype(call):
    _raises_like_torch(call)


# 7. an out= that is part of an input (not the input itself) of an elementwise op of several
#    inputs, or of a cumulative op, is refused; cat / stack refuse any overlap
_BINARY = ("add sub subtract mul multiply div divide true_divide floor_divide remainder fmod pow atan2 arctan2 "
           "hypot xlogy fmax fmin maximum minimum logaddexp logaddexp2 copysign nextafter ldexp heaviside eq ne gt "
           "ge lt le greater less logical_and logical_or logical_xor clamp_min clamp_max").split()


@pytest.mark.parametrize("name", _BINARY)
def test_binary_out_partial_overlap_refused(name):
    _raises_like_torch(lambda M: (lambda x: getattr(M, name)(x[1:], x[:-1], out=x[:-1]))(M.arange(1.0, 7.0)))


@pytest.mark.parametrize("name", ["bitwise_and", "bitwise_or", "bitwise_xor"])
def test_bitwise_out_partial_overlap_refused(name):
    _raises_like_torch(lambda M: (lambda x: getattr(M, name)(x[1:], x[:-1], out=x[:-1]))(M.arange(1, 7)))


@pytest.mark.parametrize("call", [
    lambda M, x: M.add(x[1:], 1, out=x[:-1]),
    lambda M, x: M.add(1, x[1:], out=x[:-1]),
    lambda M, x: M.add(x[1:], x[0], out=x[:-1]),
    lambda M, x: M.add(x[1:4], 1, out=x[:2]),
    lambda M, x: M.add(x.view(2, 3), 1, out=x.view(2, 3).t()),
    lambda M, x: M.clamp(x[1:], 1, 3, out=x[:-1]),
    lambda M, x: M.clamp(x[:3], min=x[1:4], out=x[:3]),
    lambda M, x: M.where(x[1:] > 2, x[1:], x[:-1], out=x[:-1]),
    lambda M, x: M.cumsum(x[1:], 0, out=x[:-1]),
    lambda M, x: M.cumprod(x[1:], 0, out=x[:-1]),
    lambda M, x: M.logcumsumexp(x[1:], 0, out=x[:-1]),
    lambda M, x: M.cat([x[1:3], x[3:5]], out=x[:-2]),
    lambda M, x: M.cat([x[:3]], out=x[:3]),
    lambda M, x: M.stack([x[:3]], out=x[:3].view(1, 3)),
    lambda M, x: M.float_power(x[1:].double(), 2, out=x[:-1]),
])
def test_out_overlap_refused(call):
    _raises_like_torch(lambda M: call(M, M.arange(1.0, 7.0)))


@pytest.mark.parametrize("call", [
    lambda M, x: M.add(x[:-1], x[:-1], out=x[:-1]),
    lambda M, x: M.add(x[::2], 1, out=x[1::2]),
    lambda M, x: M.mul(x, 2, out=x),
    lambda M, x: M.where(x > 2, x, x, out=x),
    lambda M, x: M.cumsum(x, 0, out=x),
    lambda M, x: M.sum(x[1:], 0, out=x[:1]),
    lambda M, x: M.softmax(x[1:], 0, out=x[:-1]),
    lambda M, x: M.cat([x[:2], x[2:4]], out=M.zeros(4)),
])
def test_out_overlap_allowed(call):
    def run(M):
        x = M.arange(1.0, 7.0)
        call(M, x)
        return x

    np.testing.assert_allclose(_quiet(run, ts).numpy(), _quiet(run, torch).numpy(), rtol=1e-6)


def test_out_overlapping_a_broadcast_input_allowed():
    # torch does not look into an expanded (not dense) input; its values then depend on the order
    # the kernel writes, so only the absence of an error is compared
    for M in (torch, ts):
        x = M.arange(1.0, 7.0)
        M.add(x[:3], x[:1].expand(3), out=x[:3])
        assert x[0].item() == 2.0
