"""torch names and edge rules found missing or different by audits (tensor surface and real
programs), each beside torch 2.13: reductions of 0-d tensors with dim, integer division by zero,
index_select with a 0-d index, multinomial filling zero weights, bernoulli / normal, the amp
names kept with enabled=False, addcmul / addcdiv / movedim / fmod / meshgrid /
broadcast_tensors / index_put_, invert_permutation, parameters_to_vector, nn.LogSigmoid and
torch's RuntimeError for index and target dtypes."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts
import tinygrad_seq.functional as F
from tinygrad_seq import nn


def _both(fn):
    ours, theirs = fn(ts), fn(torch)
    return ours, theirs


def _values(x):
    if isinstance(x, tuple):
        return [_values(v) for v in x]
    return (x.detach().numpy().tolist(), tuple(x.shape))


@pytest.mark.parametrize("call", [lambda s: s.sum(0), lambda s: s.mean(-1, keepdim=True), lambda s: s.prod(0),
                                  lambda s: s.amax(0), lambda s: s.logsumexp(0), lambda s: tuple(s.max(0)),
                                  lambda s: s.argmax(-1, keepdim=True), lambda s: tuple(s.sort()),
                                  lambda s: s.cumsum(0), lambda s: s.sum((0,)),
                                  lambda s: (s > 0).any(0)])
def test_reductions_of_a_zero_d_tensor_take_dim_0_or_minus_1(call):
    ours, theirs = _both(lambda T: call(T.tensor(2.5)))
    assert _values(ours) == _values(theirs)
    with pytest.raises(IndexError, match="Dimension out of range"):
        ts.tensor(2.5).sum(1)


def test_integer_division_by_zero_raises_as_torch():
    for call in (lambda T: T.tensor([1, 0]) // 0, lambda T: T.tensor([3, 4]) % T.tensor([0, 1]),
                 lambda T: T.tensor([3]).div(0, rounding_mode="trunc"), lambda T: T.fmod(T.tensor([3]), 0)):
        for T in (ts, torch):
            with pytest.raises(RuntimeError, match="ZeroDivisionError"):
                call(T)
    ours, theirs = _both(lambda T: (T.tensor([1.0, -1.0]) // 0, T.tensor([7, -7]) // T.tensor([2, 2])))
    assert _values(ours) == _values(theirs)


def test_index_select_with_a_zero_d_index_keeps_the_dim():
    ours, theirs = _both(lambda T: T.arange(8.0).reshape(2, 4).index_select(0, T.tensor(1)))
    assert _values(ours) == _values(theirs)


def test_multinomial_without_replacement_fills_zero_weights_and_errors_are_runtime_errors():
    ts.manual_seed(0)
    for _ in range(5):
        out = ts.multinomial(ts.tensor([0.0, 1.0, 0.0, 0.0]), 3).tolist()
        assert out[0] == 1 and sorted(out[1:]) in ([0, 2], [0, 3], [2, 3])
    for T in (ts, torch):
        with pytest.raises(RuntimeError):
            T.multinomial(T.tensor([0.5, 0.5]), 3)


def test_bernoulli_and_normal_free_functions():
    ts.manual_seed(0)
    b = ts.bernoulli(ts.full((1000,), 0.3))
    assert b.dtype == np.float32 and set(np.unique(b.numpy())) <= {0.0, 1.0} and 0.25 < b.mean().item() < 0.35
    assert ts.bernoulli(ts.zeros(3), p=1.0).tolist() == [1.0, 1.0, 1.0]
    n = ts.normal(2.0, 0.5, size=(4000,))
    assert n.shape == (4000,) and abs(n.mean().item() - 2.0) < 0.05 and abs(n.std().item() - 0.5) < 0.05
    m = ts.normal(ts.zeros(2, 3, dtype=ts.float64), 1.0)
    assert m.shape == (2, 3) and m.dtype == np.float64
    with pytest.raises(RuntimeError, match="std >= 0"):
        ts.normal(0.0, -1.0, size=(2,))


def test_amp_names_run_the_program_unchanged():
    from tinygrad_seq.cuda.amp import GradScaler as CudaScaler
    assert issubclass(CudaScaler, ts.amp.GradScaler)
    if not ts.cuda.is_available():   # torch's: disabled with a warning without CUDA
        with pytest.warns(UserWarning, match="CUDA is not available"):
            assert not CudaScaler(2.0 ** 10).is_enabled()
    with ts.cuda.amp.autocast(False):   # torch.cuda.amp's order: enabled first
        pass
    lin = nn.Linear(3, 1)
    opt = ts.optim.SGD(lin.parameters(), lr=0.1)
    before = lin.weight.detach().clone()
    scaler = ts.amp.GradScaler(enabled=False)
    with ts.autocast("cpu", enabled=False):
        loss = lin(ts.ones(2, 3)).sum()
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
    assert not np.allclose(lin.weight.numpy(), before.numpy()) and scaler.get_scale() == 1.0
    with pytest.warns(UserWarning, match="no mixed precision"):
        ts.amp._warned.discard("autocast")
        ts.autocast("cpu")
    ts.set_float32_matmul_precision("high")
    assert ts.get_float32_matmul_precision() == "high"
    ts.set_float32_matmul_precision("highest")


def test_enabled_scaler_skips_a_step_with_an_inf_gradient():
    w = nn.Parameter(ts.ones(2))
    opt = ts.optim.SGD([w], lr=1.0)
    w.grad = ts.tensor([float("inf"), 1.0])
    scaler = ts.amp.GradScaler("cpu")
    scaler.scale(ts.ones(()))   # (torch's scaler refuses step before a scale())
    scaler.step(opt)
    assert w.tolist() == [1.0, 1.0]


def test_composed_methods_match_torch():
    def run(T):
        x = T.tensor(np.arange(24.0).reshape(2, 3, 4) / 7, requires_grad=True)
        a, b = T.tensor([1.0, 2.0, 3.0]), T.tensor([0.5, -1.0, 2.0])
        outs = (x.movedim(0, -1), T.movedim(x, (0, 1), (2, 0)), T.addcmul(a, a, b, value=0.5),
                a.addcdiv(b, a + 1, value=2), T.fmod(T.tensor([-3.0, 3.5]), 2), T.fmod(T.tensor([-3, 3]), 2),
                *T.meshgrid(T.arange(2), T.arange(3), indexing="xy"), *T.meshgrid(T.arange(2), T.arange(3), indexing="ij"),
                *T.broadcast_tensors(T.zeros(2, 1), T.ones(3)))
        (x.movedim(0, -1) * T.arange(24.0).reshape(3, 4, 2)).sum().backward()
        acc = T.zeros(3)
        acc.index_put_((T.tensor([0, 0, 2]),), T.tensor([1.0, 2.0, 3.0]), accumulate=True)
        put = T.zeros(2, 2).index_put_((T.tensor([0, 1]), T.tensor([1, 0])), T.tensor(5.0))
        return [_values(o) for o in outs] + [x.grad.tolist(), acc.tolist(), put.tolist()]
    ours, theirs = _both(run)
    assert ours == theirs


def test_small_nn_names_match_torch():
    from tinygrad_seq.nn.utils.rnn import invert_permutation
    assert invert_permutation(ts.tensor([2, 0, 1])).tolist() == [1, 2, 0] and invert_permutation(None) is None
    lin = nn.Linear(2, 3)
    vec = nn.utils.parameters_to_vector(lin.parameters())
    assert vec.shape == (9,)
    nn.utils.vector_to_parameters(vec * 0 + 1, lin.parameters())
    assert lin.weight.tolist() == [[1.0, 1.0]] * 3 and lin.bias.tolist() == [1.0] * 3
    assert nn.LogSigmoid()(ts.zeros(1)).tolist() == pytest.approx(torch.nn.LogSigmoid()(torch.zeros(1)).tolist())


def test_float_indices_and_targets_raise_runtime_errors_as_torch():
    for T, mod in ((ts, nn), (torch, torch.nn)):
        with pytest.raises(RuntimeError):
            mod.Embedding(3, 2)(T.tensor([1.0]))
        with pytest.raises(RuntimeError):
            (F if T is ts else torch.nn.functional).cross_entropy(T.zeros(2, 3), T.tensor([0.0, 1.0]))


def test_integer_bitwise_ops_match_torch():
    ours, theirs = _both(lambda T: [((T.tensor([5, 6]) & T.tensor([3, 3])).tolist()), (T.tensor([5, 6]) | 1).tolist(),
                                    (T.tensor([5, 6]) ^ 3).tolist(), (T.tensor([5, 6]) << 1).tolist(),
                                    (T.tensor([5, 6]) >> 1).tolist(), (1 << T.tensor([5, 6])).tolist(),
                                    (T.tensor([True, False]) & T.tensor([True, True])).tolist(),
                                    T.bitwise_and(T.tensor([12]), T.tensor([10])).tolist()])
    assert ours == theirs
    with pytest.raises(TypeError, match="bool and integer"):
        ts.tensor([1.0]) & ts.tensor([1.0])


def test_bool_min_norm_p_repeat_interleave_finfo_match_torch():
    def run(T):
        b = T.tensor([[True, False], [True, True]])
        x = T.tensor([[0.0, -2.0, 3.0]])
        return [b.min().tolist(), b.amin(1).tolist(), b.min(1).values.tolist(), b.min(1).indices.tolist(),
                [round(v, 6) for v in T.logsumexp(b, 1).tolist()], x.norm(p=0).item(), x.norm(p=float("-inf")).item(),
                T.repeat_interleave(T.tensor([1, 0, 2])).tolist(), type(T.finfo(T.float32).eps),
                T.finfo(T.float32).eps, T.finfo(T.float64).max]
    ours, theirs = _both(run)
    assert ours == theirs


@pytest.mark.parametrize("case", ["bool_plus_int", "int_floordiv_float", "int_add_float_alpha"])
def test_in_place_results_that_need_a_downcast_raise_as_torch(case):
    for T in (ts, torch):
        b, x = T.tensor([True, False]), T.tensor([5, 2])
        with pytest.raises(RuntimeError):
            if case == "bool_plus_int":
                b += 1
            elif case == "int_floordiv_float":
                x //= 2.0
            else:
                T.add(x, x, alpha=2.5)
    ours, theirs = _both(lambda T: _inplace_int_ops(T))
    assert ours == theirs


def _inplace_int_ops(T):
    x = T.tensor([5, 7])
    alias = x
    x //= 2
    x %= 2
    z = T.zeros(2, dtype=T.long)
    z.copy_(T.tensor([1.7, 2.2]))          # copy_ casts, as torch's
    return alias.tolist(), x.tolist(), z.tolist()


def test_empty_and_zero_d_edges_and_view_dtype_match_torch():
    def run(T):
        z = T.zeros(0, 3, requires_grad=True)
        z.prod().backward()
        return [tuple(z.grad.shape), T.logsumexp(T.zeros(0, 3), 0).tolist(), tuple(T.nonzero(T.tensor(3.0)).shape),
                tuple(T.nonzero(T.tensor(0.0)).shape), [tuple(t.shape) for t in T.nonzero(T.tensor(3.0), as_tuple=True)],
                T.tensor([1.0, -2.0]).view(T.int32).tolist(), tuple(T.tensor([1.0, 2.0]).view(T.float16).shape)]
    ours, theirs = _both(run)
    assert ours == theirs
    with pytest.raises(RuntimeError, match=r"shape '\[4, 2\]' is invalid for input of size 6"):   # torch's text
        ts.ones(6).view(4, 2)


def test_trunc_normal_and_sparse_init_follow_torchs_distributions():
    ts.manual_seed(0)
    w = nn.init.trunc_normal_(ts.empty(200, 300), mean=0.1, std=0.5, a=-0.4, b=0.6)
    t = torch.nn.init.trunc_normal_(torch.empty(200, 300), mean=0.1, std=0.5, a=-0.4, b=0.6)
    assert -0.4 <= w.min().item() and w.max().item() <= 0.6
    assert abs(w.mean().item() - t.mean().item()) < 0.01 and abs(w.std().item() - t.std().item()) < 0.01
    s = nn.init.sparse_(ts.empty(10, 4), sparsity=0.3)
    assert (s == 0).sum(0).tolist() == [3, 3, 3, 3]
    with pytest.raises(ValueError, match="2 dimensions"):
        nn.init.sparse_(ts.empty(3), 0.5)


REPR_CASES = [lambda T: T.tensor(1.5), lambda T: T.tensor([1, 2]), lambda T: T.tensor([1.5, -2.0]),
              lambda T: T.tensor([[1.0, 2.0], [3.0, 40.0]]), lambda T: T.tensor([1e-5, 1.0]), lambda T: T.tensor([1e9, 1.0]),
              lambda T: T.tensor([True, False]), lambda T: T.zeros(0, 3), lambda T: T.zeros(0),
              lambda T: T.tensor([1.0, 2.0], dtype=T.float64), lambda T: T.tensor([1.5], requires_grad=True),
              lambda T: T.tensor([1.5], requires_grad=True) * 2, lambda T: T.arange(2000.0),
              lambda T: T.tensor([float("nan"), float("inf"), 1.25]), lambda T: T.tensor(np.linspace(-5, 5, 40)),
              lambda T: T.tensor(np.linspace(0, 1, 30).reshape(3, 10)), lambda T: T.tensor([1, 2], dtype=T.int32),
              lambda T: T.arange(5000).reshape(50, 100) * 1.5, lambda T: T.tensor(np.arange(24.0).reshape(2, 3, 4)),
              lambda T: T.tensor(np.linspace(0, 1, 5) * 1000, requires_grad=True) * 2]


@pytest.mark.parametrize("case", range(len(REPR_CASES)))
def test_tensors_print_as_torchs(case):
    ours, theirs = repr(REPR_CASES[case](ts)), repr(REPR_CASES[case](torch))
    assert ours == theirs


def test_deprecated_add_alpha_form_and_accelerator(monkeypatch):
    from tinygrad_seq import user_warning
    monkeypatch.setattr(user_warning, "_said_once", set())   # (torch says it once a process)
    p, g = ts.ones(3), ts.full((3,), 2.0)
    with pytest.warns(UserWarning, match="deprecated"):
        p.add_(-0.5, g)                     # old tutorials' p.data.add_(-lr, p.grad.data)
    assert p.tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(TypeError, match="positional"):
        ts.ones(3).add_(ts.ones(3), -0.5)   # torch's alpha is keyword-only
    device = ts.accelerator.current_accelerator().type if ts.accelerator.is_available() else "cpu"
    assert device == ("cuda" if ts.cuda_available() else "cpu")
    assert ts.accelerator.device_count() == (1 if ts.cuda_available() else 0)
