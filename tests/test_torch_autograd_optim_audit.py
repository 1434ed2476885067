"""What audits of the autograd API and of the optimizers, dtypes and data helpers against torch
2.13 found (2026-12-03), each asserted against torch: grad-mode decorators, autograd.backward of
several tensors, inplace=True activations, float16 reductions, the default
dtype of true division, optimizer state (a defaultdict, tensors in its state dict, a custom
optimizer's tensors, named parameters) and default_collate of numbers."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts


def test_set_grad_enabled_as_a_decorator_does_not_outlast_the_decoration():
    for L in (torch, ts):
        @L.set_grad_enabled(False)
        def evaluate(x):
            return x * 2
        assert L.is_grad_enabled()
        x = L.ones(2, requires_grad=True)
        assert not evaluate(x).requires_grad and L.is_grad_enabled()
        (x * 3).sum().backward()


def test_grad_mode_decorators_cover_a_generators_body():
    for L in (torch, ts):
        x = L.ones(2, requires_grad=True)

        @L.no_grad()
        def batches():
            for _ in range(2):
                yield x * 2

        @L.enable_grad()
        def with_grad():
            yield x * 2

        assert [b.requires_grad for b in batches()] == [False, False]
        with L.no_grad():
            assert [b.requires_grad for b in with_grad()] == [True]
        assert L.is_grad_enabled()


def test_autograd_backward_of_several_tensors():
    grads = []
    for L in (torch, ts):
        x = L.tensor([1.0, 2.0], dtype=L.float64, requires_grad=True)
        L.autograd.backward([x * 2, (x ** 2).sum()], [L.tensor([1.0, 3.0], dtype=L.float64), None])
        first = x.grad.numpy().copy()
        x.grad = None
        L.autograd.backward(x * 3, grad_tensors=L.ones(2, dtype=L.float64))
        grads.append((first, x.grad.numpy()))
    np.testing.assert_array_equal(grads[0][0], grads[1][0])
    np.testing.assert_array_equal(grads[0][1], grads[1][1])


@pytest.mark.parametrize("make", [
    lambda L: (lambda t: L.nn.functional.relu(t, inplace=True)),
    lambda L: (lambda t: L.nn.functional.elu(t, inplace=True)),
    lambda L: (lambda t: L.nn.functional.silu(t, inplace=True)),
    lambda L: L.nn.LeakyReLU(0.1, inplace=True),
    lambda L: L.nn.Hardtanh(inplace=True),
    lambda L: L.nn.ReLU(inplace=True),
], ids=["relu", "elu", "silu", "LeakyReLU", "Hardtanh", "ReLU"])
def test_inplace_activations_write_their_input(make):
    got = []
    for L in (torch, ts):
        x = L.tensor([-1.0, 0.5, 2.0], dtype=L.float64, requires_grad=True)
        y = x * 2
        out = make(L)(y)
        assert out is y
        (out * L.tensor([1.0, 2.0, 3.0], dtype=L.float64)).sum().backward()
        got.append((y.detach().numpy(), x.grad.numpy()))
        with pytest.raises(RuntimeError):   # a leaf that requires grad refuses, as torch's
            make(L)(x)
    np.testing.assert_allclose(got[0][0], got[1][0], rtol=1e-12)
    np.testing.assert_allclose(got[0][1], got[1][1], rtol=1e-12)


def test_small_tensor_surface_as_torch():
    for L in (torch, ts):
        assert (~L.tensor([0, 5, -3])).tolist() == [-1, -6, 2]
        assert L.finfo().eps == L.finfo(L.float32).eps
        assert L.tensor([1.7]).short().dtype == L.int16 and L.tensor([1.7]).char().dtype == L.int8


def test_float16_reductions_accumulate_in_float32():
    x = np.random.default_rng(0).standard_normal(70000).astype(np.float16)
    got = []
    for L in (torch, ts):
        t = L.tensor(x)
        got.append([float(v) for v in (t.mean(), t.std(), t.var(0), L.full((3000,), 1.0, dtype=L.float16).cumsum(0)[-1],
                                        L.full((50,), 1.01, dtype=L.float16).cumprod(0)[-1])])
        assert t.mean().dtype == L.float16
    assert got[0] == got[1]


def test_true_division_and_float_functions_of_ints_take_the_default_dtype():
    for L in (torch, ts):
        L.set_default_dtype(L.float64)
        try:
            assert (L.tensor([1, 2, 3]) / 3).dtype == L.float64
            assert L.tensor([1, 4]).sqrt().dtype == L.float64 and L.tensor([1]).exp().dtype == L.float64
            assert (L.tensor([1, 2, 3]) / 3)[0].item() == 1 / 3
        finally:
            L.set_default_dtype(L.float32)
        assert (L.tensor([1, 2, 3]) / 3).dtype == L.float32


def _train(L, opt, model, steps):
    for _ in range(steps):
        opt.zero_grad()
        model(L.ones(3, 2, dtype=L.float64)).pow(2).sum().backward()
        opt.step()


def test_optimizer_state_dict_holds_tensors_and_skips_stateless_parameters():
    for L in (torch, ts):
        model = L.nn.Linear(2, 2).double()
        adam = L.optim.Adam(model.parameters())
        _train(L, adam, model, 2)
        state = adam.state_dict()["state"]
        assert state[0]["step"].item() == 2.0 and tuple(state[0]["exp_avg"].shape) == (2, 2)
        sgd = L.optim.SGD(model.parameters(), lr=0.1)
        _train(L, sgd, model, 1)
        assert sgd.state_dict()["state"] == {}
        named = L.optim.SGD(model.named_parameters(), lr=0.1)
        assert named.param_groups[0]["param_names"] == ["weight", "bias"]
        assert named.state_dict()["param_groups"][0]["param_names"] == ["weight", "bias"]


def test_a_custom_optimizer_written_the_torch_way_runs_and_resumes():
    def make(L):
        class Momentum(L.optim.Optimizer):
            def __init__(self, params, lr=0.1):
                super().__init__(params, dict(lr=lr))

            def step(self):
                for group in self.param_groups:
                    for p in group["params"]:
                        state = self.state[p]     # a defaultdict, as torch's
                        if "buf" not in state:
                            state["buf"] = p.grad.clone()
                        else:
                            state["buf"].mul_(0.9).add_(p.grad)
                        with L.no_grad():
                            p -= group["lr"] * state["buf"]
        return Momentum

    finals = []
    for L in (torch, ts):
        L.manual_seed(0)
        model = L.nn.Linear(2, 2).double()
        with L.no_grad():
            model.weight.copy_(L.tensor([[0.1, -0.2], [0.3, 0.4]], dtype=L.float64))
            model.bias.copy_(L.tensor([0.05, -0.05], dtype=L.float64))
        Momentum = make(L)
        opt = Momentum(model.parameters())
        _train(L, opt, model, 2)
        resumed = Momentum(model.parameters())
        resumed.load_state_dict(opt.state_dict())
        _train(L, resumed, model, 2)
        finals.append(model.weight.detach().numpy())
    np.testing.assert_allclose(finals[0], finals[1], rtol=1e-12)


def test_default_collate_of_numbers_and_narrow_arrays_as_torch():
    from torch.utils.data import default_collate as torch_collate
    from tinygrad_seq.utils.data import default_collate
    for batch in ([1, 2.5], [1.5, 2], [True, 2], [True, False], [np.int32(3), np.int32(4)],
                  [np.array([1, 2], np.int32)]):
        ours, theirs = default_collate(batch), torch_collate(batch)
        assert ours.tolist() == theirs.tolist()
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), batch


def test_missing_autograd_names_say_so():
    with pytest.raises(AttributeError, match="does not have torch.autograd.forward_ad"):
        ts.autograd.forward_ad
    with pytest.raises(AttributeError, match="does not have torch.nn.Module.register_backward_hook"):
        ts.nn.Linear(2, 2).register_backward_hook(lambda *args: None)
    with pytest.raises(RuntimeError, match=r"inputs\[0\]\) does not require grad"):
        (ts.ones(2, requires_grad=True) * 2).sum().backward(inputs=[ts.ones(2)])
