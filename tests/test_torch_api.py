"""torch's top-level names and Tensor methods, each against torch 2.13 (values and gradients,
float64): dtypes, devices, creation functions, free functions, reductions with indices,
sorting, gathers and scatters, shape ops, conversions, missing-name errors."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts


def tdt(dtype):
    return str(dtype).replace("torch.", "")


def run_both(fn, *arrays, grad=True):
    """fn(lib, *tensors) on ts and torch; compare outputs (tensors or tuples of them) and the
    gradients of sum(out * w) for a fixed random w."""
    results = []
    for lib in (ts, torch):
        ins = [lib.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
        out = fn(lib, *ins)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        loss = None
        for k, o in enumerate(outs):
            if o.dtype.is_floating_point if lib is torch else o.dtype.kind == "f":
                if o.requires_grad:
                    w = np.random.default_rng(k).standard_normal(tuple(o.shape))
                    term = (o * lib.tensor(w)).sum()
                    loss = term if loss is None else loss + term
        if loss is not None:
            loss.backward()
        results.append(([o.detach().numpy().copy() for o in outs], [None if t.grad is None else t.grad.numpy().copy()
                                                                  for t in ins]))
    (o1, g1), (o2, g2) = results
    assert len(o1) == len(o2)
    for a, b in zip(o1, o2):
        assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    for a, b in zip(g1, g2):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4))
P = RNG.uniform(0.5, 2.0, (3, 4))
IDX = np.array([[0, 2, 1, 0], [1, 1, 0, 2]])

UNARY = {
    "tanh": lambda L, x: L.tanh(x), "exp": lambda L, x: L.exp(x), "sigmoid": lambda L, x: L.sigmoid(x),
    "relu": lambda L, x: L.relu(x), "abs": lambda L, x: L.abs(x), "sin": lambda L, x: L.sin(x),
    "cos": lambda L, x: x.cos(), "log1p": lambda L, x: x.abs().log1p(), "expm1": lambda L, x: x.expm1(),
    "floor": lambda L, x: x.floor() + x, "ceil": lambda L, x: x.ceil() * x, "round": lambda L, x: x.round() + x,
    "sign": lambda L, x: x.sign() * x, "reciprocal": lambda L, x: x.reciprocal(), "square": lambda L, x: x.square(),
    "rsqrt": lambda L, x: (x * x + 1).rsqrt(), "pow": lambda L, x: L.pow(x, 3), "rpow": lambda L, x: L.pow(2.0, x),
    "log_sqrt": lambda L, x: L.log(L.sqrt(x * x + 1)), "softmax": lambda L, x: L.softmax(x, 1),
    "log_softmax": lambda L, x: L.log_softmax(x, dim=0), "t_softmax": lambda L, x: x.softmax(-1),
    "t_log_softmax": lambda L, x: x.log_softmax(1), "clamp": lambda L, x: L.clamp(x, -0.5, 0.5),
    "clamp_min": lambda L, x: x.clamp(min=0.1), "clip": lambda L, x: x.clip(max=0.2),
    "sum_dims": lambda L, x: x.sum((0, 1)), "sum_keep": lambda L, x: L.sum(x, 1, keepdim=True),
    "mean": lambda L, x: L.mean(x, dim=0), "prod": lambda L, x: L.prod(x, 1), "prod_all": lambda L, x: x.prod(),
    "std": lambda L, x: L.std(x), "std_dim": lambda L, x: x.std(1, keepdim=True),
    "var_biased": lambda L, x: x.var(0, unbiased=False), "var_corr": lambda L, x: x.var(dim=1, correction=0),
    "norm": lambda L, x: x.norm(), "norm_dim": lambda L, x: L.norm(x, dim=1), "norm_p1": lambda L, x: x.norm(p=1, dim=0),
    "cumsum": lambda L, x: L.cumsum(x, 1), "cumsum0": lambda L, x: x.cumsum(dim=0),
    "cumprod": lambda L, x: x.cumprod(1),
    "max_dim": lambda L, x: L.max(x, 1), "min_dim": lambda L, x: x.min(dim=0, keepdim=True),
    "max_all": lambda L, x: L.max(x), "min_all": lambda L, x: x.min(),
    "max_pair": lambda L, x: L.max(x, x.flip(0)), "maximum": lambda L, x: L.maximum(x, x * 0.5),
    "minimum": lambda L, x: L.minimum(x, x.t().t() * 0.3),
    "topk": lambda L, x: L.topk(x, 2), "topk_small": lambda L, x: x.topk(2, dim=0, largest=False),
    "sort": lambda L, x: L.sort(x, 1), "sort_desc": lambda L, x: x.sort(dim=0, descending=True),
    "argsort": lambda L, x: (x.argsort(1), x), "argmax": lambda L, x: (L.argmax(x, 1), x.argmax(), x.argmin(0)),
    "gather": lambda L, x: L.gather(x, 0, L.tensor(IDX[:, :3])), "gather1": lambda L, x: x.gather(1, L.tensor(IDX[:, :2].T)),
    "index_select": lambda L, x: L.index_select(x, 1, L.tensor([3, 0, 3])),
    "masked_select": lambda L, x: x.masked_select(x > 0), "masked_fill": lambda L, x: L.masked_fill(x, x < 0, 2.0),
    "masked_fill_t": lambda L, x: x.masked_fill(L.tensor([True, False, True, False]), L.tensor(3.0)),
    "where": lambda L, x: L.where(x > 0, x, x * x), "where_scalar": lambda L, x: L.where(x > 0, x, 0.0),
    "t_where": lambda L, x: x.where(x < 0.5, -x),
    "cat": lambda L, x: L.cat([x, x * 2], 1), "stack": lambda L, x: L.stack([x, x.exp()], dim=-1),
    "split": lambda L, x: L.split(x, 3, 1), "split_list": lambda L, x: x.split([1, 2], dim=0),
    "chunk": lambda L, x: L.chunk(x, 2, 1), "unbind": lambda L, x: x.unbind(1),
    "flip": lambda L, x: L.flip(x, [0, 1]), "roll": lambda L, x: x.roll(1, 1), "roll_flat": lambda L, x: x.roll(-5),
    "squeeze": lambda L, x: L.squeeze(x.unsqueeze(0), 0), "unsqueeze": lambda L, x: L.unsqueeze(x, -1),
    "transpose": lambda L, x: L.transpose(x, 0, 1), "permute": lambda L, x: L.permute(x.unsqueeze(0), (2, 0, 1)),
    "reshape": lambda L, x: L.reshape(x, (2, -1)), "flatten": lambda L, x: L.flatten(x.unsqueeze(1), 1),
    "t": lambda L, x: x.t(), "T": lambda L, x: x.T, "narrow": lambda L, x: L.narrow(x, 1, 1, 2),
    "expand": lambda L, x: x[:, :1].expand(3, 5), "expand_as": lambda L, x: x[:1].expand_as(x),
    "expand_neg": lambda L, x: x.unsqueeze(0).expand(2, -1, -1), "view_as": lambda L, x: x.reshape(12).view_as(x),
    "reshape_as": lambda L, x: x.t().reshape_as(x), "repeat": lambda L, x: x.repeat(2, 1, 3),
    "repeat_interleave": lambda L, x: x.repeat_interleave(2, dim=0), "repeat_interleave_flat": lambda L, x: x.repeat_interleave(2),
    "matmul": lambda L, x: L.matmul(x, x.t()), "mm": lambda L, x: L.mm(x.t(), x),
    "bmm": lambda L, x: L.bmm(x.reshape(2, 2, 3), x.reshape(2, 3, 2)), "clone": lambda L, x: L.clone(x) * 2,
    "scatter": lambda L, x: x.scatter(0, L.tensor(IDX[:, :2]), x[:2, :2] * 3),
    "scatter_add": lambda L, x: x.scatter_add(0, L.tensor(IDX), x[:2] * 3),
    "index_fill": lambda L, x: x.index_fill(1, L.tensor([0, 2]), -1.0),
    "add_alpha": lambda L, x: L.add(x, x * x, alpha=2), "sub_alpha": lambda L, x: x.sub(x.exp(), alpha=0.5),
    "div_floor": lambda L, x: x.div(0.7, rounding_mode="trunc") + x, "lerp": lambda L, x: x.lerp(x * x, 0.3),
    "outer": lambda L, x: L.outer(x[0], x[1]), "log_div": lambda L, x: (x.abs() + 1).log() / 2,
    "amax": lambda L, x: x.amax(1), "amin": lambda L, x: L.amin(x, 0),
    "kthvalue": lambda L, x: x.kthvalue(2, 1),
    "index_add": lambda L, x: x.index_add(0, L.tensor([2, 2]), x[:2] * x[1:], alpha=3),
    "index_copy": lambda L, x: (x * 1).index_copy_(1, L.tensor([3, 0]), x[:, 1:3].exp()),
    "triu": lambda L, x: L.triu(x, 1) + x.tril(-1) * 2, "tril_batched": lambda L, x: L.tril(x.reshape(2, 2, 3)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_op_matches_torch(name):
    run_both(UNARY[name], X)


def test_prod_gradient_with_zeros():
    a = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 1.5], [1.0, 2.0, 4.0]])
    run_both(lambda L, x: x.prod(1), a)
    run_both(lambda L, x: x.prod(), a[2:])


def test_integer_reductions_and_logic():
    a = np.array([[1, 0, 3], [0, 0, 2]])
    for fn in (lambda L, x: x.sum(), lambda L, x: x.sum(1), lambda L, x: x.prod(0), lambda L, x: x.all(),
               lambda L, x: x.any(1), lambda L, x: x.all(dim=0), lambda L, x: x.argmax(1), lambda L, x: x.argmin(),
               lambda L, x: L.logical_and(x > 0, x < 3), lambda L, x: L.logical_or(x > 2, x == 0),
               lambda L, x: L.logical_not(x > 0), lambda L, x: (x > 0) & (x < 3), lambda L, x: (x > 0) | (x > 2),
               lambda L, x: ~(x > 0), lambda L, x: x.count_nonzero(), lambda L, x: x.max(1),
               lambda L, x: x.sum(dtype=L.float64), lambda L, x: L.cumsum(x, 1), lambda L, x: x.float().mean(0),
               lambda L, x: L.isnan(x / x), lambda L, x: L.isfinite(x / x), lambda L, x: x.t(), lambda L, x: x.type(L.float32)):
        run_both(fn, a)


# ---------------------------------------------------------------- dtypes and devices
def test_dtype_names_match_torch():
    for name in ("float32", "float", "float64", "double", "float16", "half", "int64", "long", "int32",
                 "int", "int16", "int8", "uint8", "bool"):
        ours = getattr(ts, name)
        assert ts.zeros(2, dtype=ours).dtype == ours
        assert tdt(torch.zeros(2, dtype=getattr(torch, name)).dtype) == str(ours).replace("bool", "bool")
    assert ts.tensor([1.0]).dtype == ts.float32 and ts.tensor([1]).dtype == ts.long
    assert ts.get_default_dtype() == ts.float32


def test_set_default_dtype():
    try:
        ts.set_default_dtype(ts.float64)
        assert ts.tensor([1.5]).dtype == ts.float64 and ts.zeros(2).dtype == ts.float64
        assert ts.randn(2).dtype == ts.float64 and ts.arange(0, 1, 0.5).dtype == ts.float64
    finally:
        ts.set_default_dtype(ts.float32)
    with pytest.raises(TypeError, match="float32 and float64"):
        ts.set_default_dtype(ts.int64)


def test_device_objects():
    d = ts.device("cpu")
    assert d.type == "cpu" and d.index is None and d == "cpu" and str(d) == "cpu"
    assert repr(d) == "device(type='cpu')"
    c = ts.device("cuda:0")
    assert c.type == "cuda" and c.index == 0 and c == "cuda" and str(c) == "cuda:0"
    assert ts.device("cuda", 0).index == 0 and {ts.device("cpu"): 1}["cpu"] == 1
    t = ts.zeros(2, device=ts.device("cpu"))
    assert t.device == "cpu" and t.device.type == "cpu" and t.device == ts.device("cpu")
    assert (t * 2).device.type == "cpu" and t.to(d).device == "cpu" and not t.is_cuda
    with pytest.raises(ValueError, match="unknown device"):
        ts.device("tpu")
    assert isinstance(ts.cuda.is_available(), bool)
    assert ts.cuda.device_count() == (1 if ts.cuda.is_available() else 0)
    ts.cuda.manual_seed(1)
    ts.cuda.manual_seed_all(1)


def test_to_forms():
    x = ts.tensor([1.5, 2.5])
    assert x.to(ts.float64).dtype == ts.float64 and x.to(ts.float64).device == "cpu"
    assert x.to("cpu", ts.float64).dtype == ts.float64 and x.to(dtype=ts.int64).dtype == ts.int64
    assert x.to(ts.tensor([1], dtype=ts.int32)).dtype == ts.int32 and x.to(ts.device("cpu")) is x
    assert x.to(device="cpu", dtype=ts.float16).dtype == ts.float16 and x.to(np.float64).dtype == ts.float64
    assert x.type() == "torch.FloatTensor" and x.long().type() == "torch.LongTensor"
    assert x.type("torch.LongTensor").dtype == ts.long and x.type(ts.float64).dtype == ts.float64
    assert x.double().float().half().dtype == ts.half and x.bool().dtype == ts.bool and x.int().dtype == ts.int32
    with pytest.raises(ValueError, match="unknown device"):
        x.to("tpu")
    y = ts.tensor([1.0, 2.0], requires_grad=True)
    z = y.to(ts.float64) * 3
    z.sum().backward()
    assert y.grad.dtype == ts.float32 and y.grad.tolist() == [3.0, 3.0]


def test_creation_functions_match_torch():
    for fn in (lambda L: L.zeros(2, 3, dtype=L.int64), lambda L: L.ones((2,), dtype=L.float64),
               lambda L: L.full((2, 2), 3), lambda L: L.full((2,), 1.5), lambda L: L.full((1,), True),
               lambda L: L.eye(3), lambda L: L.eye(2, 3, dtype=L.float64), lambda L: L.linspace(0, 1, 5),
               lambda L: L.arange(5), lambda L: L.arange(1, 7, 2), lambda L: L.arange(0, 1, 0.25),
               lambda L: L.arange(3, dtype=L.float32), lambda L: L.empty(2, 3).shape,
               lambda L: L.zeros_like(L.ones(2, dtype=L.int64)), lambda L: L.ones_like(L.zeros(2), dtype=L.float64),
               lambda L: L.full_like(L.zeros(2, 2), 7), lambda L: L.empty_like(L.ones(3)).shape,
               lambda L: L.LongTensor([1, 2]), lambda L: L.FloatTensor([1, 2]), lambda L: L.BoolTensor([True, False]),
               lambda L: L.FloatTensor(2, 3).shape, lambda L: L.tensor([[1, 2]], dtype=L.float64),
               lambda L: L.as_tensor([1.0, 2.0]), lambda L: L.tensor(3.5), lambda L: L.tensor(True)):
        a, b = fn(ts), fn(torch)
        if isinstance(a, tuple):
            assert a == tuple(b)
            continue
        assert tdt(b.dtype) == str(a.dtype), (a.dtype, b.dtype)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-7)
    assert ts.zeros(2, requires_grad=True).requires_grad and ts.randn(2, 3, dtype=ts.float64).dtype == ts.float64
    assert ts.is_tensor(ts.zeros(1)) and not ts.is_tensor(np.zeros(1)) and ts.numel(ts.zeros(2, 3)) == 6


def test_from_numpy_and_as_tensor_share_memory():
    a = np.zeros(3, np.float32)
    t = ts.from_numpy(a)
    t[0] = 5.0
    a[1] = 7.0
    assert t.tolist() == [5.0, 7.0, 0.0] and ts.as_tensor(a).numpy() is a
    i = ts.from_numpy(np.arange(3, dtype=np.int32))
    assert i.dtype == ts.int32
    c = ts.tensor(a)
    c[2] = 1.0
    assert a[2] == 0.0


def test_random_functions_and_generators():
    ts.manual_seed(3)
    a = ts.randn(4)
    ts.manual_seed(3)
    assert ts.equal(a, ts.randn(4))
    g1, g2 = ts.Generator().manual_seed(7), ts.Generator().manual_seed(7)
    assert ts.equal(ts.randperm(10, generator=g1), ts.randperm(10, generator=g2))
    assert ts.equal(ts.randn(3, generator=g1), ts.randn(3, generator=g2))
    assert sorted(ts.randperm(6).tolist()) == list(range(6)) and ts.randperm(6).dtype == ts.long
    r = ts.randint(5, (100,))
    assert r.dtype == ts.long and r.shape == (100,) and 0 <= r.min().item() and r.max().item() < 5
    r = ts.randint(2, 4, (3, 2), dtype=ts.int32)
    assert r.dtype == ts.int32 and r.shape == (3, 2) and set(r.numpy().ravel()) <= {2, 3}
    assert ts.randint(low=1, high=2, size=(2,)).tolist() == [1, 1]
    m = ts.multinomial(ts.tensor([0.0, 1.0, 0.0]), 2, replacement=True)
    assert m.tolist() == [1, 1] and m.dtype == ts.long
    m = ts.multinomial(ts.tensor([[1.0, 1.0, 0.0], [0.0, 3.0, 5.0]]), 2)
    assert m.shape == (2, 2) and set(m[0].tolist()) == {0, 1} and set(m[1].tolist()) == {1, 2}
    assert ts.multinomial(ts.tensor([0.0, 1.0]), 2).tolist() == [1, 0]   # zero weights fill in, as torch's
    with pytest.raises(ValueError, match="without replacement"):
        ts.multinomial(ts.tensor([1.0, 1.0]), 3)
    x = ts.zeros(1000).uniform_(-1, 1)
    assert -1 <= x.min().item() and x.max().item() <= 1
    x.normal_(2.0, 0.1)
    assert abs(x.mean().item() - 2.0) < 0.05


# ---------------------------------------------------------------- methods
def test_small_tensor_methods():
    x = ts.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.size() == (2, 3) and x.size(-1) == 3 and ts.Size([2, 3]) == x.shape and ts.Size([2, 3]).numel() == 6 and x.dim() == 2 and x.numel() == 6 and x.nelement() == 6
    assert x.element_size() == 4 and x.is_contiguous() and x.contiguous() is x and x.is_floating_point()
    assert x.new_zeros(2).tolist() == [0.0, 0.0] and x.new_ones((1, 2)).dtype == ts.float32
    assert x.new_full((2,), 7).tolist() == [7.0, 7.0] and x.new_tensor([1, 2]).dtype == ts.float32
    assert x.new_empty(3).shape == (3,) and x.new_zeros(2, dtype=ts.int64).dtype == ts.int64
    assert x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]] and x[1, 2].item() == 6.0
    y = x.clone().requires_grad_()
    y.retain_grad()
    z = (y * 2).sum()
    z.backward()
    assert y.grad.tolist() == [[2.0] * 3] * 2
    assert x.cpu() is x and x.detach().numpy() is x.numpy()
    w = x.clone()
    w.zero_().fill_(2.0).clamp_(max=1.5)
    assert w.tolist() == [[1.5] * 3] * 2
    m = x.clone()
    m.masked_fill_(m > 3, 0.0)
    m.index_fill_(1, ts.tensor([0]), -1.0)
    assert m.tolist() == [[-1.0, 2.0, 3.0], [-1.0, 0.0, 0.0]]
    s = ts.zeros(2, 3)
    s.scatter_(1, ts.tensor([[2], [0]]), 1.0)
    s.scatter_add_(0, ts.tensor([[1, 1, 1]]), ts.ones(1, 3))
    assert s.tolist() == [[0.0, 0.0, 1.0], [2.0, 1.0, 1.0]]


def test_register_hook_on_non_leaf_and_leaf_matches_torch():
    out = []
    for lib in (ts, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        seen = []
        y.register_hook(lambda g: seen.append(g.numpy().copy()))
        y.register_hook(lambda g: g * 10)
        h = x.register_hook(lambda g: g + 1)
        (y * y).sum().backward()
        h.remove()
        out.append((x.grad.numpy().copy(), seen[0]))
    np.testing.assert_allclose(out[0][0], out[1][0])
    np.testing.assert_allclose(out[0][1], out[1][1])


def test_missing_names_say_so():
    with pytest.raises(AttributeError, match="tinygrad_seq does not have torch.einsum_typo yet"):
        ts.einsum_typo
    with pytest.raises(AttributeError, match="does not have torch.fft yet; instead use numpy.fft"):
        ts.fft
    with pytest.raises(AttributeError, match=r"does not have torch.Tensor.storage yet; instead use t.array"):
        ts.zeros(2).storage
    with pytest.raises(AttributeError, match="does not have torch.autograd.forward_ad yet"):
        ts.autograd.forward_ad
    with pytest.raises(AttributeError, match="does not have torch.fft yet"):
        ts.fft.rfft(ts.zeros(2))
    assert not hasattr(ts, "fft")   # code that checks first takes its other branch
    assert not hasattr(ts.zeros(1), "definitely_not_a_method")
    # the submodules a program reaches into say so too, with the alternative where one exists
    import tinygrad_seq.nn.functional as F
    for get, message in [
        (lambda: ts.optim.Rprop_typo, r"does not have torch.optim.Rprop_typo yet$"),
        (lambda: ts.optim.lr_scheduler.SWALR, "torch.optim.lr_scheduler.SWALR yet; instead use optim.swa_utils.SWALR"),
        (lambda: ts.nn.BatchNorm3d, "does not have torch.nn.BatchNorm3d yet; instead use nn.BatchNorm2d"),
        (lambda: F.fractional_max_pool2d, "does not have torch.nn.functional.fractional_max_pool2d yet"),
        (lambda: ts.nn.init.kaiming_typo_, "does not have torch.nn.init.kaiming_typo_ yet"),
        (lambda: ts.nn.utils.prune_typo, r"does not have torch.nn.utils.prune_typo yet$"),
        (lambda: ts.nn.FractionalMaxPool2d, r"does not have torch.nn.FractionalMaxPool2d yet$"),
    ]:
        with pytest.raises(AttributeError, match=message):
            get()
    assert not hasattr(F, "fractional_max_pool2d") and hasattr(ts.nn, "LSTM")


def test_grad_mode_functions():
    x = ts.ones(2, requires_grad=True)
    with ts.no_grad():
        assert not ts.is_grad_enabled() and not (x * 2).requires_grad
        with ts.enable_grad():
            assert (x * 2).requires_grad
    with ts.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert ts.is_grad_enabled()
    ts.set_grad_enabled(False)
    assert not ts.is_grad_enabled()
    ts.set_grad_enabled(True)
    with ts.inference_mode():
        assert not (x * 2).requires_grad

    @ts.no_grad()
    def f():
        return (x * 2).requires_grad

    @ts.no_grad
    def g():
        return (x * 2).requires_grad

    assert f() is False and g() is False and (x * 2).requires_grad


def test_leaf_hook_sees_each_backwards_increment_like_torch():
    out = []
    for lib in (ts, torch):
        x = lib.tensor([1.0, -2.0], requires_grad=True)
        seen = []
        x.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 2)
        (x * 3).sum().backward()
        (x * x).sum().backward()
        out.append((x.grad.numpy().copy(), np.stack(seen)))
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b)


@pytest.mark.cuda
@pytest.mark.parametrize("name", ["cumsum", "sort", "topk", "gather", "scatter_add", "prod", "sin",
                                  "floor", "log1p", "max_dim", "index_select", "roll", "split", "where",
                                  "masked_fill", "norm_dim", "std_dim", "softmax", "argsort"])
def test_op_on_cuda_matches_cpu(name):
    if not ts.cuda.is_available():
        pytest.skip("no CUDA GPU and NUMBA_ENABLE_CUDASIM is not set")
    fn = UNARY[name]
    outs = []
    for dev in ("cpu", "cuda"):
        x = ts.tensor(X, device=dev, requires_grad=True)
        out = fn(_OnDevice(dev), x)
        res = out if isinstance(out, (tuple, list)) else (out,)
        loss = sum((o * (k + 1.5)).sum() for k, o in enumerate(res) if o.dtype.kind == "f")
        loss.backward()
        outs.append(([o.numpy() for o in res], x.grad.numpy()))
    for a, b in zip(outs[0][0], outs[1][0]):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(outs[0][1], outs[1][1], rtol=1e-10, atol=1e-14)


class _OnDevice:
    """ts's namespace with tensor() creating on one device (for the UNARY table on "cuda")."""
    def __init__(self, device):
        self.device = device

    def tensor(self, data, **kw):
        return ts.tensor(data, device=self.device, **kw)

    def __getattr__(self, name):
        return getattr(ts, name)


def test_startup_flags_and_rng_state():
    ts.backends.cudnn.deterministic = True
    ts.backends.cudnn.benchmark = False
    assert not ts.backends.mps.is_available() and not ts.backends.cudnn.is_available()
    state = ts.get_rng_state()
    a = ts.randn(3)
    ts.set_rng_state(state)
    assert ts.equal(a, ts.randn(3))
    with pytest.raises(AttributeError, match="does not have torch.cuda.graphs yet"):
        ts.cuda.graphs


def test_numeric_constants_and_type_info():
    assert ts.finfo(ts.float32).eps == torch.finfo(torch.float32).eps
    assert ts.finfo(ts.float64).min == torch.finfo(torch.float64).min
    assert ts.iinfo(ts.int64).max == torch.iinfo(torch.int64).max
    assert ts.inf == torch.inf and ts.pi == torch.pi and ts.e == torch.e and np.isnan(ts.nan)
