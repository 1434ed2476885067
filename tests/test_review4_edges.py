"""Edge cases found reviewing the stop's own changes (optimizer hooks with a scheduler,
searchsorted / bucketize / tril_indices dtypes and 0-d results, block_diag promotion, renorm
p=inf, put_ accumulate gradients, vander, cov, nn.modules base classes, quantile / nanmedian nan
rows, dtype checks of the in-place fills), each compared with torch 2.13."""

import numpy as np
import pytest
import torch

import tinygrad_seq as ts

pytestmark = pytest.mark.filterwarnings("ignore")


def _np(t):
    return t.detach().numpy()


# ---- 1. optimizer step post-hook table mutated during iteration (scheduler's self-removing hook)
def test_user_step_post_hook_after_scheduler_crashes_first_step():
    p = ts.nn.Parameter(ts.ones(2))
    opt = ts.optim.SGD([p], lr=0.1)
    sched = ts.optim.lr_scheduler.StepLR(opt, 1)      # registers a self-removing post-hook
    log = []
    opt.register_step_post_hook(lambda o, a, k: log.append(1))
    p.grad = ts.ones(2)
    opt.step()                                         # RuntimeError: OrderedDict mutated during iteration
    sched.step()
    assert log == [1]


# ---- 2. out_int32 / dtype ignored (Tensor(np int32) is widened to int64)
def test_searchsorted_bucketize_out_int32():
    assert ts.searchsorted(ts.tensor([1, 2, 3]), ts.tensor([2]), out_int32=True).dtype == ts.int32
    assert ts.bucketize(ts.tensor([2]), ts.tensor([1, 2, 3]), out_int32=True).dtype == ts.int32


def test_tril_indices_dtype():
    assert ts.tril_indices(3, 3, dtype=ts.int32).dtype == ts.int32
    assert ts.triu_indices(3, 3, dtype=ts.int32).dtype == ts.int32


# ---- 3. scalar / 0-d values give shape (1,) (np.ascontiguousarray promotes 0-d to 1-d)
def test_searchsorted_scalar_and_0d_values_are_0d():
    seq = [1, 2, 3]
    assert tuple(ts.searchsorted(ts.tensor(seq), 2).shape) == tuple(torch.searchsorted(torch.tensor(seq), 2).shape) == ()
    assert tuple(ts.searchsorted(ts.tensor(seq), ts.tensor(2)).shape) == ()
    assert tuple(ts.bucketize(2, ts.tensor(seq)).shape) == ()


# ---- 4. block_diag promotes with numpy rules (int64 + float32 -> float64), torch gives float32
def test_block_diag_dtype_promotion():
    out = ts.block_diag(ts.tensor([[1, 2]]), ts.tensor([1.5]))
    ref = torch.block_diag(torch.tensor([[1, 2]]), torch.tensor([1.5]))
    assert str(out.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1] == "float32"


# ---- 5. renorm with p=inf returns the input unchanged
def test_renorm_p_inf():
    x = np.random.RandomState(0).randn(3, 4)
    ref = torch.renorm(torch.tensor(x), float("inf"), 0, 1.0).numpy()
    np.testing.assert_allclose(_np(ts.renorm(ts.tensor(x), float("inf"), 0, 1.0)), ref, rtol=1e-6)


# ---- 6. put_(accumulate=True) with grad
def test_put_accumulate_with_grad():
    x = np.random.RandomState(0).randn(3, 4); s = np.arange(4.0)
    outs = []
    for m in (torch, ts):
        a = m.tensor(x, requires_grad=True); src = m.tensor(s, requires_grad=True)
        a.put(m.tensor([0, -1, 3, 3]), src, accumulate=True).sum().backward()
        outs.append((_np(a.grad), _np(src.grad)))
    np.testing.assert_allclose(outs[1][0], outs[0][0]); np.testing.assert_allclose(outs[1][1], outs[0][1])


# ---- 7. vander: x**0 computed as x*0+1 -> nan for inf/nan
def test_vander_inf_zeroth_power():
    x = [1.0, float("inf"), float("nan")]
    np.testing.assert_array_equal(_np(ts.vander(ts.tensor(x), 3))[:, -1], torch.vander(torch.tensor(x), 3).numpy()[:, -1])


# ---- 8. cov of a single-row 2-D input is 0-d in torch (it squeezes)
def test_cov_single_row_is_0d():
    x = np.random.RandomState(0).randn(1, 5)
    assert tuple(ts.cov(ts.tensor(x)).shape) == tuple(torch.cov(torch.tensor(x)).shape) == ()
    w = [1, 2, 1, 1, 3]
    assert tuple(ts.cov(ts.tensor(x), fweights=ts.tensor(w)).shape) == ()


# ---- 9. torch.nn.modules paths missing common base classes
@pytest.mark.parametrize("path,name", [("batchnorm", "_BatchNorm"), ("conv", "_ConvNd"), ("loss", "_Loss"),
                                       ("loss", "_WeightedLoss"), ("rnn", "RNNCellBase")])
def test_nn_modules_base_classes(path, name):
    import importlib
    mod = importlib.import_module(f"tinygrad_seq.nn.modules.{path}")
    assert hasattr(mod, name)


# ---- 10. LSTM repr order
def test_lstm_proj_repr_order():
    assert repr(ts.nn.LSTM(2, 3, batch_first=True, proj_size=1)) == repr(torch.nn.LSTM(2, 3, batch_first=True, proj_size=1))


# ---- 11. nanmedian on an all-nan row: index
def test_nanmedian_all_nan_row_index():
    a = np.array([[np.nan] * 4, [1.0, np.nan, 3.0, 2.0]])
    # the index of an all-nan row is an artifact of torch's partial sort (0, 0, 0, 2, 2, 3 for
    # n = 1..6), which kernels/sort_cpu.py ports: both rows' indices are torch's
    got, want = ts.nanmedian(ts.tensor(a), 1), torch.nanmedian(torch.tensor(a), 1)
    assert _np(got.indices).tolist() == want.indices.tolist()
    np.testing.assert_array_equal(_np(got.values), want.values.numpy())


# ---- 12. quantile gradient with a nan in the row goes to the nan element in torch
def test_quantile_nan_row_gradient():
    a = np.array([[1.0, np.nan, 3.0, 2.0]])
    grads = []
    for m in (torch, ts):
        x = m.tensor(a, requires_grad=True)
        m.quantile(x, 0.4, dim=1).sum().backward()
        grads.append(_np(x.grad))
    np.testing.assert_array_equal(grads[1], grads[0])


# ---- 13. nanmedian() over all elements rejects integer tensors (dim= form accepts them)
def test_nanmedian_int_no_dim():
    assert ts.nanmedian(ts.tensor([3, 1, 2, 4])).item() == torch.nanmedian(torch.tensor([3, 1, 2, 4])).item()


# ---- 14. dtype checks torch makes and these skip (silent wrong-dtype results)
def test_float_power_inplace_float32_raises():
    with pytest.raises(RuntimeError):
        ts.ones(2).float_power_(2)


def test_cauchy_on_int_raises():
    with pytest.raises(RuntimeError):
        ts.zeros(3, dtype=ts.int64).cauchy_()


def test_masked_scatter_dtype_mismatch_raises():
    with pytest.raises(RuntimeError):
        ts.zeros(3).masked_scatter(ts.tensor([True, False, True]), ts.tensor([1, 2]))


# ---- 15. quantile of an empty tensor: torch's RuntimeError, not a gather IndexError
def test_quantile_empty_error():
    with pytest.raises(RuntimeError, match="non-empty"):
        ts.quantile(ts.tensor([]), 0.5)


# ---- 16. Optimizer.load_state_dict turns a saved Tensor lr into a float
def test_load_state_dict_keeps_tensor_lr():
    p = ts.nn.Parameter(ts.ones(2)); o = ts.optim.Adam([p], lr=ts.tensor(0.1))
    p.grad = ts.ones(2); o.step()
    q = ts.nn.Parameter(ts.ones(2)); o2 = ts.optim.Adam([q], lr=0.01)
    o2.load_state_dict(o.state_dict())
    assert isinstance(o2.param_groups[0]["lr"], ts.Tensor)   # torch keeps the saved Tensor
