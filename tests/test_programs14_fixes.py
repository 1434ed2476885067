"""Findings of programs round 14 (ESIM, BiDAF, pointer-generator, Tree-LSTM, LAS, ConvLSTM,
AWD-LSTM with NT-ASGD) against torch 2.13."""
import pytest
import torch

import tinygrad_seq as ts


@pytest.mark.parametrize("name,kw", [("Adam", {}), ("Adagrad", dict(initial_accumulator_value=0.1)),
                                     ("ASGD", dict(t0=0, lambd=0.0)), ("Adadelta", {}), ("RMSprop", {}),
                                     ("AdamW", {}), ("RAdam", {}), ("Adamax", {})])
def test_param_group_key_order_matches_torch(name, kw):
    # print(optimizer.param_groups) / print(opt.state_dict()['param_groups']) is what training
    # scripts log (AWD-LSTM's NT-ASGD switch, pointer-generator's Adagrad); the dicts print in
    # insertion order, which differs from torch's.
    out = []
    for lib in (torch, ts):
        p = lib.nn.Parameter(lib.zeros(2))
        o = getattr(lib.optim, name)([p], lr=0.1, **kw)
        out.append((list(o.param_groups[0].keys()), list(o.defaults.keys()),
                    list(o.state_dict()["param_groups"][0].keys())))
    assert out[1] == out[0]


def test_grad_fn_names_and_repr_as_torchs():
    def names(lib):
        F = lib.nn.functional
        lib.manual_seed(0)
        x = lib.randn(4, 3, requires_grad=True)
        y, p = lib.randn(4, 3), lib.rand(4, 3)
        w, lin = lib.randn(3, 2, requires_grad=True), lib.nn.Linear(3, 2)
        outs = [F.l1_loss(x, y), F.smooth_l1_loss(x, y), F.huber_loss(x, y), F.binary_cross_entropy(x.sigmoid(), p),
                F.layer_norm(x, (3,)), F.gelu(x), F.leaky_relu(x), F.elu(x), F.silu(x), x.mean(1), x.mean(), x.sum(1),
                x[None].squeeze(0), x[None].squeeze(), x.std(), x.var(), x.clamp(min=0), x @ w, F.mse_loss(x, y),
                F.binary_cross_entropy_with_logits(x, p), F.cross_entropy(x, lib.tensor([0, 1, 2, 0])), lin(x),
                lin(x[None]), x.t(), x.transpose(0, 1), x.unsqueeze(0), x.view(12), x.cumsum(1), x[0, 1:], x[:, 0],
                x[None], x.double(), x.max(), x.max(1)[0], lib.nn.Embedding(5, 3)(lib.tensor([1, 2])),
                F.conv1d(x[None], lib.randn(2, 4, 2)), x * 2 + 1]
        return [o.grad_fn.name() for o in outs]
    assert names(ts) == names(torch)
    x = ts.randn(2, requires_grad=True)
    assert repr((x * 2).grad_fn).startswith("<MulBackward0 object at 0x")


def test_second_backward_accumulates_into_the_same_grad_tensor():
    for lib in (torch, ts):
        x = lib.ones(2, requires_grad=True)
        (x * 2).sum().backward()
        kept = x.grad
        (x * 3).sum().backward()
        assert kept is x.grad and kept.tolist() == [5.0, 5.0]
