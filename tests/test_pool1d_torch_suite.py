"""Findings from a port of PyTorch's test/nn/test_convolution.py and test_pooling.py (1-D parts):
groups=0, all -inf padded windows, int64 max pooling with padding, empty dims, wrong ranks,
adaptive output_size 0 and a 2-int kernel, each checked against torch."""
import numpy as np, pytest, torch
import tinygrad_seq as ts
F, TF = ts.nn.functional, torch.nn.functional

def test_conv1d_groups_zero_is_value_error():
    with pytest.raises(ValueError):
        ts.nn.Conv1d(4, 6, 3, groups=0)

def test_max_pool1d_all_neg_inf_window_with_padding_index_and_grad():
    x = np.full((1, 1, 5), -np.inf, np.float32)
    t = torch.tensor(x, requires_grad=True); TF.max_pool1d(t, 3, 2, 1).sum().backward()
    g = ts.tensor(x, requires_grad=True); F.max_pool1d(g, 3, 2, 1).sum().backward()
    np.testing.assert_array_equal(g.grad.numpy(), t.grad.numpy())
    _, i = F.max_pool1d(ts.tensor(x), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(i.numpy(), TF.max_pool1d(torch.tensor(x), 3, 2, 1, return_indices=True)[1].numpy())

def test_max_pool1d_int64_padding_return_indices():
    x = np.random.RandomState(0).randint(0, 9, (2, 3, 9))
    o, i = F.max_pool1d(ts.tensor(x), 3, 2, 1, return_indices=True)
    to, ti = TF.max_pool1d(torch.tensor(x), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(o.numpy(), to.numpy()); np.testing.assert_array_equal(i.numpy(), ti.numpy())

@pytest.mark.parametrize("f", [lambda F, a: F.max_pool1d(a, 3, 2, 1), lambda F, a: F.avg_pool1d(a, 3, 2, 1),
                               lambda F, a: F.adaptive_max_pool1d(a, 4),
                               lambda F, a: F.max_pool1d(a, 3, 2, 1, return_indices=True)])
def test_pool_zero_channels_raises(f):
    x = np.zeros((2, 0, 9), np.float32)
    with pytest.raises(RuntimeError): f(TF, torch.tensor(x))
    with pytest.raises(RuntimeError): f(F, ts.tensor(x))

def test_adaptive_avg_pool1d_zero_length_raises():
    with pytest.raises(RuntimeError): TF.adaptive_avg_pool1d(torch.zeros(2, 3, 0), 4)
    with pytest.raises(RuntimeError): F.adaptive_avg_pool1d(ts.zeros(2, 3, 0), 4)

@pytest.mark.parametrize("shape", [(9,), (1, 2, 3, 9)])
@pytest.mark.parametrize("name", ["max_pool1d", "avg_pool1d", "adaptive_max_pool1d", "adaptive_avg_pool1d"])
def test_pool_wrong_rank_is_runtime_error(name, shape):
    args = (3,) if "adaptive" not in name else (4,)
    with pytest.raises(RuntimeError): getattr(TF, name)(torch.zeros(shape), *args)
    with pytest.raises(RuntimeError): getattr(F, name)(ts.zeros(shape), *args)

@pytest.mark.parametrize("name", ["adaptive_avg_pool1d", "adaptive_max_pool1d"])
def test_adaptive_pool_output_size_zero_gives_empty(name):
    x = np.random.RandomState(0).randn(2, 3, 9).astype(np.float32)
    assert tuple(getattr(F, name)(ts.tensor(x), 0).shape) == tuple(getattr(TF, name)(torch.tensor(x), 0).shape) == (2, 3, 0)

def test_max_pool1d_two_kernel_sizes_is_runtime_error():
    with pytest.raises(RuntimeError): TF.max_pool1d(torch.zeros(2, 3, 9), (3, 3))
    with pytest.raises(RuntimeError): F.max_pool1d(ts.zeros(2, 3, 9), (3, 3))


def test_max_pool1d_padded_windows_match_torch_index_and_grad():
    rs = np.random.RandomState(1)
    for kind in ("randn", "neginf", "int"):
        for k, s, p, d, ceil in [(3, 2, 1, 1, False), (4, 3, 2, 1, True), (2, 1, 1, 2, True), (3, 1, 1, 2, False)]:
            x = rs.randn(2, 3, 8).astype(np.float32)
            if kind == "neginf":
                x[rs.rand(*x.shape) < 0.6] = -np.inf
            if kind == "int":
                x = rs.randint(-3, 3, (2, 3, 8))
            o, i = F.max_pool1d(ts.tensor(x), k, s, p, d, ceil, return_indices=True)
            to, ti = TF.max_pool1d(torch.tensor(x), k, s, p, d, ceil, return_indices=True)
            np.testing.assert_array_equal(o.numpy(), to.numpy()); np.testing.assert_array_equal(i.numpy(), ti.numpy())
            if kind != "int":
                t = torch.tensor(x, requires_grad=True); TF.max_pool1d(t, k, s, p, d, ceil).sum().backward()
                g = ts.tensor(x, requires_grad=True); F.max_pool1d(g, k, s, p, d, ceil).sum().backward()
                np.testing.assert_array_equal(g.grad.numpy(), t.grad.numpy())


def test_pool1d_ceil_mode_window_longer_than_input_matches_torch():
    x = np.arange(1, 4, dtype=np.float32).reshape(1, 1, 3)
    for k, s in [(2, 2), (4, 3)]:
        for x1 in (x[..., :1], x):
            try:
                expected = TF.max_pool1d(torch.tensor(x1), k, s, 0, 1, True).numpy()
            except RuntimeError:
                continue
            np.testing.assert_array_equal(F.max_pool1d(ts.tensor(x1), k, s, 0, 1, True).numpy(), expected)
            np.testing.assert_allclose(F.avg_pool1d(ts.tensor(x1), k, s, 0, True).numpy(),
                                       TF.avg_pool1d(torch.tensor(x1), k, s, 0, True).numpy())


def test_max_pool1d_bool_with_indices_is_not_implemented():
    with pytest.raises(NotImplementedError): TF.max_pool1d(torch.zeros(2, 3, 9, dtype=torch.bool), 3, return_indices=True)
    with pytest.raises(NotImplementedError): F.max_pool1d(ts.zeros(2, 3, 9, dtype=ts.bool), 3, return_indices=True)


def test_adaptive_pool_negative_output_size_is_runtime_error():
    x = torch.zeros(2, 3, 9)
    for name in ("adaptive_avg_pool1d", "adaptive_max_pool1d"):
        with pytest.raises(RuntimeError): getattr(TF, name)(x, -1)
        with pytest.raises(RuntimeError): getattr(F, name)(ts.zeros(2, 3, 9), -1)


def test_adaptive_max_pool1d_output_size_zero_with_indices():
    o, i = F.adaptive_max_pool1d(ts.zeros(2, 3, 9), 0, return_indices=True)
    assert tuple(o.shape) == tuple(i.shape) == (2, 3, 0) and str(i.dtype).endswith("int64")
