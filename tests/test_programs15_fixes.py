"""Findings of programs round 15 (MAML, per-sample gradients, ensembling, WGAN-GP, SAM, Hessians,
gradient penalties, torch.func) against torch 2.13."""
import warnings

import numpy as np
import pytest
import torch

import tinygrad_seq as ts

X = np.random.RandomState(0).randn(5, 2)


def _gp_critic(lib, act):
    lib.manual_seed(0)
    D = lib.nn.Sequential(lib.nn.Linear(2, 4), act(lib), lib.nn.Linear(4, 1)).double()
    return D


def _gp(lib, D):
    x = lib.tensor(X, requires_grad=True)
    g, = lib.autograd.grad(D(x).sum(), x, create_graph=True)
    ((g.norm(2, dim=1) - 1) ** 2).mean().backward()
    return D[0].weight.grad.numpy()


@pytest.mark.parametrize("act", [
    lambda lib: lib.nn.ReLU(inplace=True),            # WGAN-GP reference code: nn.ReLU(True)
    lambda lib: lib.nn.LeakyReLU(0.2, inplace=True),  # DCGAN / StyleGAN critics
])
def test_inplace_activation_gradient_penalty(act):
    Dt = _gp_critic(torch, act)
    Ds = _gp_critic(ts, act)
    Ds.load_state_dict({k: ts.tensor(v.detach().numpy()) for k, v in Dt.state_dict().items()})
    np.testing.assert_allclose(_gp(ts, Ds), _gp(torch, Dt), rtol=1e-8)


def test_functional_relu_inplace_double_backward():
    def f(lib):
        x = lib.tensor(X, requires_grad=True)
        h = lib.nn.functional.relu_(x * 2)     # same with F.relu(.., inplace=True), elu_, selu_, ...
        g, = lib.autograd.grad((h ** 3).sum(), x, create_graph=True)
        (g ** 2).sum().backward()
        return x.grad.numpy()
    np.testing.assert_allclose(f(ts), f(torch), rtol=1e-10)


def test_custom_attribute_on_parameter():
    # learn2learn's update_module does `p.update = -lr * g`; torch allows attributes on tensors
    for lib in (torch, ts):
        p = lib.nn.Parameter(lib.ones(2))
        p.update = p * 0.5
        q = p.clone()
        q.tag = "x"
        assert q.tag == "x"


def test_replace_all_batch_norm_modules_():
    # functorch MAML-omniglot example patches its BatchNorm this way before vmap
    def run(lib):
        m = lib.nn.Sequential(lib.nn.BatchNorm1d(3))
        lib.func.replace_all_batch_norm_modules_(m)
        return m[0].running_mean is None, m[0].track_running_stats
    assert run(ts) == run(torch)


def test_jacobian_forward_mode_strategy():
    def run(lib):
        x = lib.tensor(np.arange(3.))
        return lib.autograd.functional.jacobian(lambda x: x.sin(), x, vectorize=True, strategy="forward-mode").numpy()
    np.testing.assert_allclose(run(ts), run(torch))


def test_autograd_grad_is_grads_batched():
    def run(lib):
        x = lib.tensor(np.arange(3.), requires_grad=True)
        return lib.autograd.grad(x ** 2, x, lib.eye(3, dtype=lib.float64), is_grads_batched=True)[0].numpy()
    np.testing.assert_allclose(run(ts), run(torch))


def test_rrelu_exists():
    x = np.array([-1., 2.])
    a = torch.nn.functional.rrelu(torch.tensor(x), training=False).numpy()
    b = ts.nn.functional.rrelu(ts.tensor(x), training=False).numpy()
    np.testing.assert_allclose(b, a)
    ts.nn.RReLU()


def test_adam_int_beta_raises():
    # torch: ValueError "betas must be either both floats or both Tensors" (StyleGAN2 passes betas=[0, 0.99])
    with pytest.raises(ValueError):
        torch.optim.Adam([torch.zeros(2, requires_grad=True)], betas=(0, 0.99))
    with pytest.raises(ValueError):
        ts.optim.Adam([ts.zeros(2, requires_grad=True)], betas=(0, 0.99))


def test_backward_create_graph_warns_reference_cycle_once_a_process():
    # torch's warning is TORCH_WARN_ONCE: the first create_graph backward of a process warns
    code = """
import warnings, sys
lib = __import__(sys.argv[1])
x = lib.ones(2, dtype=lib.float64, requires_grad=True)
seen = []
for _ in range(2):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        (x ** 2).sum().backward(create_graph=True)
    seen.append(any("reference cycle" in str(a.message) for a in w))
print(seen)
"""
    import subprocess
    import sys
    out = [subprocess.run([sys.executable, "-c", code, lib], capture_output=True, text=True, check=True).stdout
           for lib in ("torch", "tinygrad_seq")]
    assert out[0] == out[1] == "[True, False]\n"