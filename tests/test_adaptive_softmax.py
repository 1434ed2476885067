"""nn.AdaptiveLogSoftmaxWithLoss against torch.nn.AdaptiveLogSoftmaxWithLoss with the same state
dict (both ways): output, loss, log_prob, predict and every gradient, in float32 and float64, over
cutoffs / div_value / head_bias settings (a tail of hidden size 0 included), batched and unbatched
input, and torch's errors for bad cutoffs, targets and shapes."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

import tinygrad_seq as ts  # noqa: E402
from tinygrad_seq import nn  # noqa: E402

# (in_features, n_classes, cutoffs, div_value, head_bias)
CONFIGS = {
    "three_clusters_bias": (8, 30, [5, 12, 20], 2.0, True),
    "one_cluster": (16, 50, [10], 4.0, False),
    "hidden_size_zero": (4, 20, [5, 10], 4.0, False),   # tail 1: 4 // 16 = 0 hidden units
    "cluster_of_one": (6, 12, [2, 3, 11], 1.5, True),
}
TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=2e-5, atol=2e-6)}
pytestmark = pytest.mark.filterwarnings("ignore:Initializing zero-element tensors")
TORCH_DTYPE = {np.float64: torch.float64, np.float32: torch.float32}


def _pair(config, dtype=np.float64, seed=0):
    in_features, n_classes, cutoffs, div_value, head_bias = CONFIGS[config]
    torch.manual_seed(seed)
    theirs = torch.nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, cutoffs, div_value=div_value,
                                                 head_bias=head_bias, dtype=TORCH_DTYPE[dtype])
    ours = nn.AdaptiveLogSoftmaxWithLoss(in_features, n_classes, cutoffs, div_value=div_value,
                                         head_bias=head_bias, dtype=dtype)
    assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def _targets(config, n, rng):
    """n targets covering the shortlist and every cluster (n >= number of clusters + 1)."""
    _, n_classes, cutoffs, _, _ = CONFIGS[config]
    edges = [0] + cutoffs + [n_classes]
    one_per_bucket = [rng.integers(lo, hi) for lo, hi in zip(edges[:-1], edges[1:])]
    rest = rng.integers(0, n_classes, n - len(one_per_bucket))
    return rng.permutation(np.concatenate([one_per_bucket, rest])).astype(np.int64)


def _forward(module, lib, x, target):
    xt = lib.tensor(x, requires_grad=True)
    result = module(xt, lib.tensor(target))
    assert type(result).__name__ == "_ASMoutput" and result._fields == ("output", "loss")
    weights = np.linspace(0.5, 1.5, result.output.numel()).reshape(tuple(result.output.shape)).astype(x.dtype)
    (result.loss + (result.output * lib.tensor(weights)).sum()).backward()
    return [result.output.detach().numpy(), result.loss.detach().numpy(), xt.grad.numpy()] + _param_grads(module)


def _param_grads(module):
    return [None if p.grad is None else p.grad.numpy() for _, p in module.named_parameters()]


def _assert_all_close(ours, theirs, dtype):
    assert len(ours) == len(theirs)
    for a, t in zip(ours, theirs):
        if t is None:
            assert a is None
        else:
            assert a.shape == t.shape and a.dtype == t.dtype
            np.testing.assert_allclose(a, t, **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("config", list(CONFIGS))
def test_forward_and_gradients_match_torch(config, dtype):
    ours, theirs = _pair(config, dtype)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((9, CONFIGS[config][0])).astype(dtype)
    target = _targets(config, 9, rng)
    _assert_all_close(_forward(ours, ts, x, target), _forward(theirs, torch, x, target), dtype)


@pytest.mark.parametrize("config", ["three_clusters_bias", "one_cluster"])
def test_unused_clusters_get_no_gradient_as_in_torch(config):
    ours, theirs = _pair(config)
    x = np.random.default_rng(2).standard_normal((4, CONFIGS[config][0]))
    target = np.array([0, 3, 1, 4])   # shortlist only: no tail runs
    got, want = _forward(ours, ts, x, target), _forward(theirs, torch, x, target)
    _assert_all_close(got, want, np.float64)
    assert all(g is None for g in got[-len(list(ours.tail.parameters())):])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("config", ["three_clusters_bias", "hidden_size_zero"])
def test_unbatched_and_single_row_match_torch(config, dtype):
    ours, theirs = _pair(config, dtype)
    rng = np.random.default_rng(3)
    n_classes = CONFIGS[config][1]
    for target in (np.int64(n_classes - 1), np.int64(0)):
        x = rng.standard_normal(CONFIGS[config][0]).astype(dtype)
        for o, t in ((ours, ts), (theirs, torch)):
            o.zero_grad()
        got, want = _forward(ours, ts, x, target), _forward(theirs, torch, x, target)
        assert got[0].shape == () and got[2].shape == x.shape
        _assert_all_close(got, want, dtype)
        row, row_target = x[None], np.array([target])
        got, want = _forward(ours, ts, row, row_target), _forward(theirs, torch, row, row_target)
        assert got[0].shape == (1,)
        _assert_all_close(got, want, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("config", list(CONFIGS))
def test_log_prob_and_its_gradients_match_torch(config, dtype):
    ours, theirs = _pair(config, dtype)
    x = np.random.default_rng(4).standard_normal((5, CONFIGS[config][0])).astype(dtype)
    results = []
    for module, lib in ((ours, ts), (theirs, torch)):
        xt = lib.tensor(x, requires_grad=True)
        log_prob = module.log_prob(xt)
        weights = np.random.default_rng(5).standard_normal(tuple(log_prob.shape)).astype(dtype)
        (log_prob * lib.tensor(weights)).sum().backward()
        results.append([log_prob.detach().numpy(), xt.grad.numpy()] + _param_grads(module))
    _assert_all_close(*results, dtype)
    probabilities = np.exp(results[0][0].astype(np.float64)).sum(1)
    np.testing.assert_allclose(probabilities, 1.0, rtol=1e-5)


def _steer_head(theirs):
    """Head weights that make rows whose feature 0 is positive prefer a cluster (head output
    `shortlist_size`), the others shortlist class 1: predict's three branches, chosen by input."""
    with torch.no_grad():
        theirs.head.weight.mul_(0.01)
        theirs.head.weight[theirs.shortlist_size, 0] = 10.0
        theirs.head.weight[1, 0] = -10.0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("signs", [[-1, -1, -1, -1], [1, 1, 1, 1], [1, -1, -1, 1, 1, -1]],
                         ids=["all_shortlist", "all_clusters", "mixed"])
@pytest.mark.parametrize("config", ["three_clusters_bias", "cluster_of_one"])
def test_predict_matches_torch_in_each_branch(config, signs, dtype):
    _, theirs = _pair(config, dtype)
    _steer_head(theirs)
    ours = nn.AdaptiveLogSoftmaxWithLoss(*CONFIGS[config][:3], div_value=CONFIGS[config][3],
                                         head_bias=CONFIGS[config][4], dtype=dtype)
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(6).standard_normal((len(signs), CONFIGS[config][0])).astype(dtype)
    x[:, 0] = signs
    got, want = ours.predict(ts.tensor(x)), theirs.predict(torch.tensor(x))
    assert got.dtype == np.int64 and got.shape == (len(signs),)
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    np.testing.assert_array_equal(got.numpy(), ours.log_prob(ts.tensor(x)).argmax(dim=1).numpy())
    in_shortlist = got.numpy() < theirs.shortlist_size
    assert in_shortlist.tolist() == [s < 0 for s in signs]


def test_state_dict_moves_from_ours_to_torch():
    torch.manual_seed(7)
    ours = nn.AdaptiveLogSoftmaxWithLoss(8, 30, [5, 12, 20], div_value=2.0, head_bias=True).double()
    theirs = torch.nn.AdaptiveLogSoftmaxWithLoss(8, 30, [5, 12, 20], div_value=2.0, head_bias=True).double()
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(8).standard_normal((6, 8))
    target = _targets("three_clusters_bias", 6, np.random.default_rng(9))
    _assert_all_close(_forward(ours, ts, x, target), _forward(theirs, torch, x, target), np.float64)


def test_attributes_repr_and_reset_parameters_as_torch():
    ours, theirs = _pair("hidden_size_zero", np.float32)
    for name in ("in_features", "n_classes", "cutoffs", "div_value", "head_bias", "shortlist_size",
                 "n_clusters", "head_size"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert repr(ours) == repr(theirs)
    assert isinstance(ours.head, nn.Linear) and isinstance(ours.tail, nn.ModuleList)
    assert all(isinstance(t, nn.Sequential) and len(t) == 2 for t in ours.tail)
    before = {k: v.copy() for k, v in ours.state_dict().items()}
    ours.reset_parameters()
    after = ours.state_dict()
    assert {k: v.shape for k, v in after.items()} == {k: v.shape for k, v in before.items()}
    assert not np.array_equal(after["head.weight"], before["head.weight"])
    assert ours.head.weight.dtype == np.float32


def _error_of(make):
    try:
        make()
    except Exception as e:   # noqa: BLE001 - the class and message are what is compared
        return type(e), str(e)
    return None


BAD_CUTOFFS = {"empty": [], "not_sorted": [10, 5], "duplicates": [5, 5, 8], "equal_n_classes": [5, 20],
               "past_n_classes": [5, 25], "zero": [0, 5], "negative": [-3, 5], "not_integers": [2.5, 5]}


@pytest.mark.parametrize("case", list(BAD_CUTOFFS))
def test_bad_cutoffs_raise_torchs_error(case):
    cutoffs = BAD_CUTOFFS[case]
    want = _error_of(lambda: torch.nn.AdaptiveLogSoftmaxWithLoss(8, 20, cutoffs))
    assert want is not None and want[0] is ValueError
    assert _error_of(lambda: nn.AdaptiveLogSoftmaxWithLoss(8, 20, cutoffs)) == want


BAD_CALLS = {
    "target_too_large": ((4, 8), [0, 3, 20, 7]),
    "target_negative": ((3, 8), [-1, 3, 19]),
    "target_0d_too_large": ((8,), 25),
    "batch_sizes_differ": ((3, 8), [0, 1, 2, 3]),
    "1d_target_3d_input": ((4, 2, 8), [0, 1, 2, 3]),
    "0d_target_2d_input": ((2, 8), 1),
    "2d_target": ((2, 8), [[0, 1], [2, 3]]),
}


@pytest.mark.parametrize("case", list(BAD_CALLS))
def test_bad_targets_and_shapes_raise_torchs_error(case):
    ours, theirs = nn.AdaptiveLogSoftmaxWithLoss(8, 20, [5, 10]), torch.nn.AdaptiveLogSoftmaxWithLoss(8, 20, [5, 10])
    shape, target = BAD_CALLS[case]
    x = np.zeros(shape, np.float32)
    want = _error_of(lambda: theirs(torch.tensor(x), torch.tensor(target)))
    assert want is not None and want[0] is RuntimeError
    assert _error_of(lambda: ours(ts.tensor(x), ts.tensor(target))) == want


def test_float_target_is_refused_with_a_clear_error():
    m = nn.AdaptiveLogSoftmaxWithLoss(8, 20, [5, 10])
    with pytest.raises(RuntimeError, match="integer tensor"):
        m(ts.zeros(2, 8), ts.tensor([1.0, 2.0]))


def test_trains_like_torch_for_a_few_sgd_steps():
    ours, theirs = _pair("three_clusters_bias")
    rng = np.random.default_rng(10)
    x = rng.standard_normal((12, 8))
    target = _targets("three_clusters_bias", 12, rng)
    from tinygrad_seq import optim
    opt_ours = optim.SGD(ours.parameters(), lr=0.5)
    opt_theirs = torch.optim.SGD(theirs.parameters(), lr=0.5)
    for _ in range(3):
        for module, lib, opt in ((ours, ts, opt_ours), (theirs, torch, opt_theirs)):
            opt.zero_grad()
            module(lib.tensor(x), lib.tensor(target)).loss.backward()
            opt.step()
    for (k, a), (_, t) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        np.testing.assert_allclose(a, t.numpy(), rtol=1e-10, atol=1e-12, err_msg=k)


@pytest.mark.cuda
def test_on_the_cuda_device_as_on_the_cpu():
    cpu = nn.AdaptiveLogSoftmaxWithLoss(8, 30, [5, 12, 20], div_value=2.0, head_bias=True).double()
    gpu = nn.AdaptiveLogSoftmaxWithLoss(8, 30, [5, 12, 20], div_value=2.0, head_bias=True).double()
    gpu.load_state_dict(cpu.state_dict())
    gpu.to("cuda")
    rng = np.random.default_rng(11)
    x = rng.standard_normal((6, 8))
    target = _targets("three_clusters_bias", 6, rng)
    results = []
    for module, device in ((cpu, "cpu"), (gpu, "cuda")):
        xt = ts.tensor(x, requires_grad=True, device=device)
        result = module(xt, ts.tensor(target, device=device))
        assert result.output.device == device
        result.loss.backward()
        results.append([result.output.numpy(), result.loss.numpy(), xt.grad.numpy(),
                        module.log_prob(xt).detach().numpy(), module.predict(xt).numpy()] + _param_grads(module))
    _assert_all_close(*results, np.float64)


@pytest.mark.parametrize("in_features,out_features", [(0, 5), (4, 0)])
def test_linear_with_zero_features_as_torch(in_features, out_features):
    """The tails' Linear(in, 0) and Linear(0, out) (hidden size 0): forward and gradients."""
    torch.manual_seed(12)
    theirs = torch.nn.Linear(in_features, out_features).double()
    ours = nn.Linear(in_features, out_features).double()
    _copy = {k: v.numpy() for k, v in theirs.state_dict().items()}
    ours.load_state_dict(_copy)
    x = np.random.default_rng(13).standard_normal((2, 3, in_features))
    results = []
    for module, lib in ((ours, ts), (theirs, torch)):
        xt = lib.tensor(x, requires_grad=True)
        y = module(xt)
        (y * 2).sum().backward()
        results.append([y.detach().numpy(), xt.grad.numpy()] + _param_grads(module))
    _assert_all_close(*results, np.float64)
