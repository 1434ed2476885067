"""Findings of the 2026-12-05 morning's audits against torch 2.13 (programs round 17, the API
contract re-audit, the grad_fn name sweep), each a small program run under torch and ours."""
import numpy as np
import pytest

import tinygrad_seq as ts

torch = pytest.importorskip("torch")


def test_rsub_as_torch():
    x = np.array([1.0, -2.0, 0.5], np.float32)
    for other, alpha in ((3, 2), (np.array([5.0, 1.0, 2.0], np.float32), 1), (1.5, 0.5)):
        t_other = torch.tensor(other) if isinstance(other, np.ndarray) else other
        o_other = ts.tensor(other) if isinstance(other, np.ndarray) else other
        want = torch.rsub(torch.tensor(x), t_other, alpha=alpha)
        got = ts.rsub(ts.tensor(x), o_other, alpha=alpha)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)


def test_norm_zero_requires_grad_without_a_gradient():
    """x.norm(0) counts non-zeros; torch's result requires grad and its gradient is undefined."""
    for lib in (torch, ts):
        x = lib.tensor([[1.0, 0.0], [2.0, 3.0]], requires_grad=True)
        y = x.norm(0)
        assert y.requires_grad and y.item() == 3.0
        y.backward()
        assert x.grad is None
        np.testing.assert_array_equal(np.asarray(x.norm(0, dim=1).detach().numpy()), [1.0, 2.0])


def test_embedding_from_pretrained_and_weight_share_memory():
    """GloVe-style programs fill OOV rows of the matrix after building the layer; torch's layer
    is a Parameter of the given tensor, so it sees them, and training writes into it."""
    for lib in (torch, ts):
        vectors = np.ones((4, 3), np.float32)
        emb = lib.nn.Embedding.from_pretrained(lib.from_numpy(vectors), freeze=True)
        vectors[1] = 5.0
        np.testing.assert_array_equal(emb(lib.tensor([1])).detach().numpy(), [[5.0, 5.0, 5.0]])
        assert not emb.weight.requires_grad
        w = lib.ones(3, 2)
        emb = lib.nn.Embedding(3, 2, _weight=w, padding_idx=0)
        w.add_(1.0)
        np.testing.assert_array_equal(emb.weight.detach().numpy(), np.full((3, 2), 2.0))   # no zeroed row
        table = lib.zeros(5, 2)
        emb = lib.nn.Embedding.from_pretrained(table, freeze=False)
        opt = lib.optim.SGD(emb.parameters(), lr=1.0)
        emb(lib.tensor([2, 2])).sum().backward()
        opt.step()
        np.testing.assert_array_equal(table.numpy()[2], [-2.0, -2.0])
        with pytest.raises((ValueError, AssertionError)):
            lib.nn.Embedding(3, 3, _weight=lib.ones(3, 2))


def _conv_operands():
    rng = np.random.default_rng(0)
    return rng.standard_normal((2, 3, 7)).astype(np.float32), rng.standard_normal((4, 3, 3)).astype(np.float32)


@pytest.mark.parametrize("kwargs, match", [
    (dict(dilation=0), "dilation"), (dict(stride=0), "stride"), (dict(stride=-1), "stride"),
    (dict(padding=-1), "padding"), (dict(padding="same", stride=2), "same"), (dict(groups=0), "groups"),
    (dict(padding="foo"), "padding")])
def test_conv1d_bad_arguments_are_torchs_runtime_errors(kwargs, match):
    """F.conv1d runs conv2d's argument checks (it had skipped them since it became a 2-D
    convolution of height 1: dilation=0 computed an output, stride=0 divided by zero)."""
    x, w = _conv_operands()
    with pytest.raises(RuntimeError):
        torch.nn.functional.conv1d(torch.tensor(x), torch.tensor(w), **kwargs)
    with pytest.raises(RuntimeError, match=match):
        ts.functional.conv1d(ts.tensor(x), ts.tensor(w), **kwargs)


def test_conv1d_shape_errors_are_runtime_errors():
    x, w = _conv_operands()
    for lib in (torch, ts):
        F = lib.nn.functional
        with pytest.raises(RuntimeError):
            F.conv1d(lib.randn(2, 3, 5, 1), lib.tensor(w))
        with pytest.raises(RuntimeError):
            F.conv1d(lib.tensor(x), lib.ones(4, 1, 3), groups=3)
        with pytest.raises(RuntimeError):
            F.conv1d(lib.tensor(x), lib.ones(4, 3))
        with pytest.raises(RuntimeError):
            lib.nn.Conv1d(3, 4, 3, dilation=0)(lib.tensor(x))
    np.testing.assert_allclose(
        ts.functional.conv1d(ts.tensor(x), ts.tensor(w), padding=(1,), stride=(2,), dilation=[1]).numpy(),
        torch.nn.functional.conv1d(torch.tensor(x), torch.tensor(w), padding=(1,), stride=(2,)).numpy(), rtol=1e-5,
        atol=1e-6)


def test_gru_repr_shows_reset_after():
    assert repr(ts.nn.GRU(3, 4, reset_after=False)) == "GRU(3, 4, reset_after=False)"
    assert repr(ts.nn.GRU(3, 4)) == repr(torch.nn.GRU(3, 4))


@pytest.mark.parametrize("p", [-1, -2, -0.5, 0.5, 1.5, 3, None])
def test_tensor_norm_any_order(p):
    a = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]])
    got, want = [], []
    for lib, out in ((torch, want), (ts, got)):
        x = lib.tensor(a, requires_grad=True)
        y = x.norm(p=p)
        y.backward()
        out += [y.item(), x.grad.numpy().copy(), x.detach().norm(p, dim=1).numpy()]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)


def test_cumprod_of_an_empty_dim_and_round_decimals_in_place():
    assert tuple(ts.zeros(0, 3).cumprod(0).shape) == tuple(torch.zeros(0, 3).cumprod(0).shape)
    a, b = ts.tensor([1.234, 5.678]), torch.tensor([1.234, 5.678])
    a.round_(decimals=1)
    b.round_(decimals=1)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_dynamic_quantization_refuses_non_finite_input():
    q = ts.ao.quantization.quantize_dynamic(ts.nn.Sequential(ts.nn.Linear(3, 2)), {ts.nn.Linear})
    with pytest.raises(RuntimeError, match="inf or nan"):
        q(ts.tensor([[float("nan"), 1.0, 1.0]]))


def test_no_submodule_shadows_a_function_of_the_same_name():
    """Importing a submodule binds it on the package: a module named like one of torch's functions
    (scatter_reduce.py, layer_norm.py) replaced ts.scatter_reduce / ts.layer_norm with the module
    at its first lazy import. Every library module is imported here; no public name may become a
    module that was a function."""
    import importlib
    import os
    import types
    folder = os.path.dirname(ts.__file__)
    before = {n: v for n, v in vars(ts).items() if callable(v) and not isinstance(v, types.ModuleType)}
    for f in sorted(os.listdir(folder)):
        if f.endswith(".py") and f != "__init__.py" and f[:-3] != "__main__":
            importlib.import_module(f"tinygrad_seq.{f[:-3]}")
    shadowed = [n for n, v in before.items() if isinstance(getattr(ts, n), types.ModuleType)]
    assert not shadowed, shadowed
    a = ts.arange(12.0).reshape(3, 4)
    i = ts.tensor([[0, 1, 2, 0]])
    for _ in range(2):
        assert ts.scatter_reduce(a, 0, i, a, reduce="sum").shape == (3, 4)
        assert ts.layer_norm(a, (4,)).shape == (3, 4)


def test_load_state_dict_writes_into_the_parameters_memory():
    for lib in (torch, ts):
        w = lib.ones(5, 3)
        emb = lib.nn.Embedding.from_pretrained(w)
        alias = emb.weight.data
        emb.load_state_dict({"weight": lib.zeros(5, 3)})
        assert w.abs().sum().item() == 0 and alias.abs().sum().item() == 0


def test_embedding_from_an_integer_table():
    for lib in (torch, ts):
        emb = lib.nn.Embedding.from_pretrained(lib.tensor([[1, 2], [3, 4]]))
        np.testing.assert_array_equal(emb(lib.tensor([1])).numpy(), [[3, 4]])
        assert not emb.weight.requires_grad
        p = lib.nn.Parameter(lib.tensor([1, 2]), requires_grad=False)
        assert p.dtype == (torch.int64 if lib is torch else np.int64)
        with pytest.raises(RuntimeError):
            lib.nn.Parameter(lib.tensor([1, 2]))


def test_aten_losses_unreduced_by_default():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((4, 5)).astype(np.float32), rng.random((4, 5)).astype(np.float32)
    for name, args in (("kl_div", (a, b)), ("binary_cross_entropy_with_logits", (a, b)),
                       ("hinge_embedding_loss", (a, np.sign(b - 0.5).astype(np.float32)))):
        want = getattr(torch, name)(*map(torch.tensor, args))
        got = getattr(ts, name)(*map(ts.tensor, args))
        assert tuple(got.shape) == tuple(want.shape)
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-6)


def test_histogram_refuses_non_finite_and_1d_histogramdd():
    for lib in (torch, ts):
        with pytest.raises(RuntimeError):
            lib.histogram(lib.tensor([1.0, float("nan")]), 3)
        with pytest.raises(RuntimeError):
            lib.histogram(lib.tensor([1.0, float("inf")]), 3)
        with pytest.raises(RuntimeError):
            lib.histogramdd(lib.randn(20), 4)


def test_small_review_findings():
    for lib in (torch, ts):
        F = lib.nn.functional
        assert F.multilabel_margin_loss(lib.tensor(1.0), lib.tensor(0)).item() == 0.0
        with pytest.raises(RuntimeError):
            F.multilabel_margin_loss(lib.tensor([[1.0, 2, 3, 4, 5]]), lib.tensor([[7, -1, 0, 0, 0]]))
        assert lib.scalar_tensor(lib.tensor(1.5)).item() == 1.5
        with lib.autocast("cpu", dtype=lib.bfloat16):
            assert lib.is_autocast_enabled("cpu") and lib.get_autocast_dtype("cpu") == lib.bfloat16
            with lib.autocast("cpu", enabled=False):
                assert not lib.is_autocast_enabled("cpu")
        assert not lib.is_autocast_enabled("cpu")


@pytest.mark.parametrize("steps", [0, 1, 2, 5, 16, 48, 97, 1000, 4097])
def test_linspace_float32_bit_equal_to_torch(steps):
    for a, b in ((-1.0, 1.0), (0.3, 7.9), (5.0, -2.5)):
        np.testing.assert_array_equal(ts.linspace(a, b, steps).numpy(), torch.linspace(a, b, steps).numpy())


def test_affine_grid_identity_bit_equal_and_stn_gradient():
    """The PyTorch STN tutorial starts at the identity: every sample point sits on a pixel centre,
    where a 1-ulp difference in the base grid flips bilinear sampling's kink."""
    theta = np.tile(np.float32([[[1, 0, 0], [0, 1, 0]]]), (2, 1, 1))
    x = np.random.default_rng(0).standard_normal((2, 1, 16, 48)).astype(np.float32)
    w = np.random.default_rng(1).standard_normal((2, 1, 16, 48)).astype(np.float32)
    out = []
    for lib in (torch, ts):
        F = lib.nn.functional
        for ac in (False, True):
            grid = F.affine_grid(lib.tensor(theta), [2, 1, 16, 48], align_corners=ac)
            out.append(grid.detach().numpy())
        th = lib.tensor(theta, requires_grad=True)
        grid = F.affine_grid(th, [2, 1, 16, 48], align_corners=False)
        (F.grid_sample(lib.tensor(x), grid, align_corners=False) * lib.tensor(w)).sum().backward()
        out.append(th.grad.numpy())
    for o, t in zip(out[3:5], out[:2]):
        np.testing.assert_array_equal(o, t)
    np.testing.assert_allclose(out[5], out[2], rtol=1e-4, atol=1e-4)


def test_torch_submodule_import_paths():
    """The import lines of DDP scripts and custom layers (`import torch.backends.cudnn as cudnn`,
    `import torch.multiprocessing as mp`, `from torch.utils.data.distributed import ...`)."""
    import importlib
    for path in ("utils.data.distributed", "utils.data._utils.collate", "nn.modules.utils", "nn.modules.lazy",
                 "utils.hooks", "backends.cudnn", "multiprocessing"):
        importlib.import_module(f"tinygrad_seq.{path}")
    from tinygrad_seq.nn.modules.utils import _pair, consume_prefix_in_state_dict_if_present
    from tinygrad_seq.utils.data.distributed import DistributedSampler
    import tinygrad_seq.backends.cudnn as cudnn
    assert _pair(3) == (3, 3) and DistributedSampler is ts.utils.data.DistributedSampler
    sd = {"module.w": 1, "b": 2}
    consume_prefix_in_state_dict_if_present(sd, "module.")
    assert sd == {"w": 1, "b": 2}
    cudnn.benchmark = True
    assert ts.backends.cudnn.benchmark
    cudnn.benchmark = False


def test_tensor_of_a_size_is_its_sizes():
    x = ts.zeros(4, 3)
    for make in (ts.tensor, ts.as_tensor):
        t = make(x.size())
        assert t.tolist() == [4, 3] and t.dtype == np.int64
    assert tuple(ts.Tensor(x.size()).shape) == (4, 3)   # the legacy constructor: a shape, as torch's


def test_autocast_block_off_where_torch_turns_it_off_and_negative_linspace():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lib in (torch, ts):
            with lib.autocast("cuda"):
                assert not lib.is_autocast_enabled("cuda")
            with lib.autocast("cpu", dtype=lib.float32):
                assert not lib.is_autocast_enabled("cpu")
    for lib in (torch, ts):
        with pytest.raises(RuntimeError):
            lib.linspace(0, 1, -1)
