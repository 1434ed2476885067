"""PyTorch 2.13's behaviour, asserted of tinygrad_seq written as a torch program (`torch` below is
tinygrad_seq): max-pool gradients to each window's first maximum, ceil_mode / return_indices /
count_include_pad, the encoder's zeros at padded positions in eval, printing of empty tensors
and -0., swa_utils.AveragedModel with an EMA, torch._foreach_* (found by an audit of programs)."""
import numpy as np
import pytest

import tinygrad_seq as torch

nn = torch.nn
F = torch.nn.functional


# 1. max-pool gradients at ties go to one index (the first max in each window), not split
def test_max_pool1d_tie_gradient_goes_to_first_max():
    x = torch.tensor([[[1., 3., 3., 0., 2., 2.]]], dtype=torch.float64, requires_grad=True)
    F.max_pool1d(x, 3, 1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy().ravel(), [0., 2., 1., 0., 1., 0.])


def test_adaptive_max_pool1d_tie_gradient_goes_to_first_max():
    x = torch.tensor([[[1., 3., 3., 0.]]], dtype=torch.float64, requires_grad=True)
    nn.AdaptiveMaxPool1d(1)(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy().ravel(), [0., 1., 0., 0.])


def test_maxpool_module_tie_gradient():
    x = torch.tensor([[[2., 2., 5., 5.]]], dtype=torch.float64, requires_grad=True)
    nn.MaxPool1d(2)(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy().ravel(), [1., 0., 1., 0.])


# 2. pooling options torch has
def test_max_pool1d_ceil_mode():
    y = F.max_pool1d(torch.arange(8.).view(1, 1, 8), 3, ceil_mode=True)
    assert y.tolist() == [[[2.0, 5.0, 7.0]]]


def test_max_pool1d_return_indices():
    v, i = nn.MaxPool1d(2, return_indices=True)(torch.tensor([[[1., 3., 2., 5.]]]))
    assert v.tolist() == [[[3.0, 5.0]]] and i.tolist() == [[[1, 3]]]


def test_avg_pool1d_count_include_pad_false():
    y = F.avg_pool1d(torch.arange(6.).view(1, 1, 6), 3, 2, 1, count_include_pad=False)
    assert y.tolist() == [[[0.5, 2.0, 4.0]]]


def test_adaptive_max_pool1d_return_indices():
    v, i = F.adaptive_max_pool1d(torch.tensor([[[1., 3., 2., 5.]]]), 1, return_indices=True)
    assert v.tolist() == [[[5.0]]] and i.tolist() == [[[3]]]


# 3. TransformerEncoder in eval under no_grad with src_key_padding_mask: padded positions are 0
def test_transformer_encoder_eval_padded_positions_zero():
    torch.manual_seed(0)
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True), 1)
    enc.eval()
    x = torch.tensor(np.random.RandomState(0).randn(2, 3, 8).astype(np.float32))
    pad = torch.tensor([[False, False, True], [False, False, False]])
    with torch.no_grad():
        y = enc(x, src_key_padding_mask=pad)
    np.testing.assert_array_equal(y[0, 2].numpy(), np.zeros(8, np.float32))
    assert np.abs(y[0, :2].numpy()).sum() > 0


def _r(t):
    return repr(t).replace("torch.", "")


# 4. empty int64 / bool tensors name their dtype
def test_repr_empty_long_and_bool():
    assert _r(torch.tensor([], dtype=torch.long)) == "tensor([], dtype=int64)"
    assert _r(torch.tensor([], dtype=torch.bool)) == "tensor([], dtype=bool)"
    assert _r(torch.zeros(2, 0, dtype=torch.long)) == "tensor([], size=(2, 0), dtype=int64)"


# 5. -0.0 does not widen the columns
def test_repr_negative_zero_width():
    assert _r(torch.tensor([-0.0, 0.0])) == "tensor([-0., 0.])"
    assert _r(torch.tensor([-0.0, 1.5])) == "tensor([-0.0000, 1.5000])"
    assert _r(torch.tensor([[-0., 1.], [2., 3.]])) == "tensor([[-0., 1.],\n        [2., 3.]])"


# 6. grad_fn names as torch prints them
def test_swa_utils_averaged_model_ema():
    import importlib
    su = importlib.import_module(torch.__name__ + ".optim.swa_utils")
    m = nn.Linear(2, 1, bias=False).double()
    with torch.no_grad():
        m.weight.copy_(torch.tensor([[1.0, 2.0]], dtype=torch.float64))
    ema = su.AveragedModel(m, multi_avg_fn=su.get_ema_multi_avg_fn(0.9))
    ema.update_parameters(m)            # first update copies
    with torch.no_grad():
        m.weight.add_(1.0)
    ema.update_parameters(m)            # 0.9 * old + 0.1 * new
    np.testing.assert_allclose(ema.module.weight.detach().numpy(), [[1.1, 2.1]])
    assert int(ema.n_averaged) == 2


# 8. torch._foreach_* in-place ops (timm-style EMA)
def test_foreach_lerp_mul_add():
    a = [torch.ones(3, dtype=torch.float64), torch.full((2,), 2.0, dtype=torch.float64)]
    b = [torch.zeros(3, dtype=torch.float64), torch.ones(2, dtype=torch.float64)]
    torch._foreach_lerp_(a, b, 0.25)
    torch._foreach_mul_(a, 0.5)
    torch._foreach_add_(a, b, alpha=0.1)
    np.testing.assert_allclose(a[0].numpy(), [0.375] * 3)
    np.testing.assert_allclose(a[1].numpy(), [0.975] * 2)


def test_swalr_and_update_bn_as_torch():
    import torch as real
    import tinygrad_seq as ours
    lrs = {}
    for lib in (ours, real):
        w = lib.nn.Parameter(lib.ones(2))
        opt = lib.optim.SGD([w], lr=0.5)
        sched = lib.optim.swa_utils.SWALR(opt, swa_lr=0.05, anneal_epochs=3)
        seq = []
        for _ in range(6):
            opt.step()
            sched.step()
            seq.append(opt.param_groups[0]["lr"])
        lrs[lib.__name__] = seq
    np.testing.assert_allclose(lrs["tinygrad_seq"], lrs["torch"], rtol=1e-12)
    model = ours.nn.Sequential(ours.nn.Linear(3, 4), ours.nn.BatchNorm1d(4))
    data = [ours.tensor(np.random.default_rng(i).standard_normal((8, 3)).astype(np.float32)) for i in range(3)]
    ours.optim.swa_utils.update_bn(data, model)
    expected = np.concatenate([model[0](d).detach().numpy() for d in data]).mean(0)
    np.testing.assert_allclose(model[1].running_mean.numpy(), expected, rtol=1e-5)
