"""Programs round 18 (training infrastructure beside torch 2.13): a parametrized recurrent weight read as torch reads it, a 0-d Parameter in an f-string."""

import warnings

import numpy as np
import pytest
import torch
import tinygrad_seq as ts


def _lstm_pair():
    torch.manual_seed(0)
    tl = torch.nn.LSTM(2, 3)
    ol = ts.nn.LSTM(2, 3)
    ol.load_state_dict({k: v.detach().numpy().copy() for k, v in tl.state_dict().items()})
    return tl, ol


def test_parametrized_lstm_weight_dropout_draws_like_torch():
    # AWD-LSTM-style weight drop through nn.utils.parametrize: torch's RNNBase evaluates the
    # parametrization 4 times per forward (_update_flat_weights: hasattr + getattr in
    # _weights_have_changed, then again in _init_flat_weights) and uses the last draw;
    # ours evaluates it once, so after the same manual_seed the dropped weights differ.
    x = np.random.RandomState(0).randn(4, 1, 2).astype(np.float32)
    tl, ol = _lstm_pair()
    outs = []
    for M, l in ((torch, tl), (ts, ol)):
        class DropConnect(M.nn.Module):
            def forward(self, w):
                return M.nn.functional.dropout(w, 0.5, self.training)
        M.nn.utils.parametrize.register_parametrization(l, "weight_hh_l0", DropConnect())
        M.manual_seed(123)
        o, _ = l(M.tensor(x))
        outs.append(o.detach().numpy())
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-5, atol=1e-6)


def test_parametrization_call_count_per_forward_like_torch():
    counts = []
    tl, ol = _lstm_pair()
    for M, l in ((torch, tl), (ts, ol)):
        n = [0]
        class Scale(M.nn.Module):
            def forward(self, w):
                n[0] += 1
                return w * 0.5
        M.nn.utils.parametrize.register_parametrization(l, "weight_hh_l0", Scale())
        n[0] = 0
        l(M.zeros(3, 1, 2))
        counts.append(n[0])
    assert counts[1] == counts[0]   # torch: 4


def test_scalar_parameter_fstring_like_torch():
    # torch's Tensor.__format__ formats as a number only when type(self) is Tensor:
    # a 0-d nn.Parameter (a learnable temperature, say) prints its repr in an f-string
    # and refuses a format spec.
    tp = torch.nn.Parameter(torch.tensor(2.0))
    op = ts.nn.Parameter(ts.tensor(2.0))
    assert f"{tp}" == "Parameter containing:\ntensor(2., requires_grad=True)"
    assert f"{op}" == f"{tp}"


def test_scalar_parameter_format_spec_raises_like_torch():
    with pytest.raises(TypeError):
        f"{torch.nn.Parameter(torch.tensor(2.0)):.2f}"
    with pytest.raises(TypeError):
        f"{ts.nn.Parameter(ts.tensor(2.0)):.2f}"


def test_two_parametrized_weights_in_a_stacked_lstm_draw_as_torch():
    x = np.random.default_rng(0).standard_normal((4, 1, 2)).astype(np.float32)
    torch.manual_seed(0)
    tl = torch.nn.LSTM(2, 3, num_layers=2)
    ol = ts.nn.LSTM(2, 3, num_layers=2)
    ol.load_state_dict({k: v.detach().numpy().copy() for k, v in tl.state_dict().items()})
    outs, counts = [], []
    for M, l in ((torch, tl), (ts, ol)):
        n = [0]

        class DropConnect(M.nn.Module):
            def forward(self, w):
                n[0] += 1
                return M.nn.functional.dropout(w, 0.5, self.training)
        M.nn.utils.parametrize.register_parametrization(l, "weight_hh_l0", DropConnect())
        M.nn.utils.parametrize.register_parametrization(l, "weight_ih_l1", DropConnect())
        M.manual_seed(123)
        for _ in range(3):
            o, _ = l(M.tensor(x))
        o.sum().backward()
        outs.append((o.detach().numpy(), l.parametrizations.weight_hh_l0.original.grad.numpy()))
        counts.append(n[0])
    assert counts[0] == counts[1]
    for a, b in zip(*outs):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)


def test_parametrized_lstm_copies_and_unparametrizes_after_a_call():
    import copy
    l = ts.nn.LSTM(2, 3)
    ts.nn.utils.parametrize.register_parametrization(l, "weight_hh_l0", ts.nn.Identity())
    x = ts.randn(4, 1, 2)
    y, _ = l(x)
    twin = copy.deepcopy(l)   # the reads of the call (graph tensors) are not copied
    np.testing.assert_array_equal(twin(x)[0].detach().numpy(), y.detach().numpy())
    ts.nn.utils.parametrize.remove_parametrizations(l, "weight_hh_l0")
    with ts.no_grad():
        l.weight_hh_l0.mul_(0.0)   # a later call reads the weight itself, not the last call's read
    assert not np.allclose(l(x)[0].detach().numpy(), y.detach().numpy())


# research programs (AWD-LSTM, DeepAR, LSTNet, TCN, Sentence-VAE) beside torch
def _dists(m):
    D = m.distributions
    return [D.Normal(m.zeros(2), m.ones(2)), D.Categorical(logits=m.zeros(3)),
            D.Bernoulli(probs=m.ones(2) * 0.5), D.Uniform(m.zeros(2), m.ones(2)),
            D.OneHotCategorical(logits=m.zeros(3)), D.Independent(D.Normal(m.zeros(2), m.ones(2)), 1)]


@pytest.mark.parametrize("i", range(6))
def test_sample_int_shape_raises_like_torch(i):
    # torch: sample(sample_shape) builds torch.Size(sample_shape); an int raises TypeError
    with pytest.raises(TypeError):
        _dists(torch)[i].sample(3)
    with pytest.raises(TypeError):
        _dists(ts)[i].sample(3)


def test_normal_rsample_int_shape_raises_like_torch():
    with pytest.raises(TypeError):
        torch.distributions.Normal(torch.zeros(2), torch.ones(2)).rsample(3)
    with pytest.raises(TypeError):
        ts.distributions.Normal(ts.zeros(2), ts.ones(2)).rsample(3)


def test_tensor_volatile_attribute_reads_false():
    # torch 2.13: Variable.volatile is always False (with a UserWarning); old code reads it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert torch.ones(2).volatile is False
        v = ts.autograd.Variable(ts.ones(2), volatile=True)
        assert v.volatile is False
        assert ts.ones(2).volatile is False


@pytest.mark.parametrize("eq,shapes", [
    ("ij,kj->ik", [(2, 3), (2, 3)]), ("bij,bjk->bik", [(5, 3, 4), (5, 4, 2)]), ("i,i->", [(3,), (3,)]),
    ("i,j->ij", [(3,), (3,)]), ("ij->ji", [(2, 3)]), ("ij->", [(2, 3)]), ("ii->i", [(3, 3)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5)] * 2), ("ij,ij->ij", [(2, 3)] * 2), ("ij,k->i", [(2, 3), (4,)]),
    ("ij,jk,l->ikl", [(2, 3), (3, 4), (2,)]), ("ij,kj->ikj", [(2, 3)] * 2), ("ij->ij", [(2, 3)]),
])
def test_einsum_node_is_torchs(eq, shapes):
    names = []
    for lib in (torch, ts):
        ops = [lib.ones(*s, requires_grad=True) for s in shapes]
        out = lib.einsum(eq, *ops)
        names.append((out.grad_fn.name(), repr(out).split("grad_fn=")[1]))
    assert names[1] == names[0]


# seq2seq / sentiment notebooks beside torch: the loss size-mismatch warning is torch's text
@pytest.mark.parametrize("cls", ["MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss"])
def test_loss_size_mismatch_warning_is_torchs_text(cls):
    texts = []
    for lib in (torch, ts):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            getattr(lib.nn, cls)()(lib.zeros(2, 1), lib.tensor([1.0, 0.0]))
        texts.append([str(c.message) for c in caught if issubclass(c.category, UserWarning)])
    assert texts[1] == texts[0] and len(texts[0]) == 1
    with warnings.catch_warnings(record=True) as caught:   # a program's filter silences it
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", message="Using a target size")
        getattr(ts.nn, cls)()(ts.zeros(2, 1), ts.tensor([1.0, 0.0]))
    assert not caught
