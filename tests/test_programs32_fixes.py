"""Fixes from PyTorch program rounds 32a (recurrent architectures from papers: ON-LSTM, expRNN,
the Legendre Memory Unit, Skip-RNN, ACT, QRNN, ...), 32c (the tooling around recurrent models:
per-sample gradients, MAML, pruning, SWA, schedulers, checkpoints) and 33 (spatio-temporal graph
RNNs, time-series classifiers), each against torch 2.13."""
import warnings

import numpy as np
import pytest
import torch

import tinygrad_seq as ts

LIBS = (ts, torch)


def _error(fn):
    try:
        fn()
    except Exception as e:   # noqa: BLE001 - the class and text are what is compared
        return type(e).__name__ if not isinstance(e, RuntimeError) else "RuntimeError", str(e)
    return None


@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "FAN_OUT", "fan"])
def test_calculate_correct_fan_as_torch(mode):
    # pytorch-lmu's LeCun initialisation calls the private helper by name
    got = {L.__name__: (_error(lambda L=L: L.nn.init._calculate_correct_fan(L.empty(3, 5, 2), mode))
                        or L.nn.init._calculate_correct_fan(L.empty(3, 5, 2), mode)) for L in LIBS}
    assert got["tinygrad_seq"] == got["torch"]


def test_private_no_grad_fillers_fill_as_the_public_ones():
    # timm-style code imports torch.nn.init._no_grad_trunc_normal_ and its siblings
    got = {}
    for L in LIBS:
        L.manual_seed(0)
        t = L.empty(3, 4, requires_grad=True)
        init = L.nn.init
        out = [init._no_grad_trunc_normal_(t, 0.0, 0.02, -0.04, 0.04).detach().numpy().copy(),
               init._no_grad_uniform_(t, -1.0, 1.0, L.Generator().manual_seed(3)).detach().numpy().copy(),
               init._no_grad_normal_(t, 0.0, 1.0).detach().numpy().copy(),
               init._no_grad_fill_(t, 2.0).detach().numpy().copy(), init._no_grad_zero_(t).detach().numpy().copy()]
        assert t.is_leaf and t.grad_fn is None
        got[L.__name__] = out
    for a, b in zip(got["tinygrad_seq"], got["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


VALUES = {"float": lambda L: 1.0, "int": lambda L: 1, "bool": lambda L: True, "0-d": lambda L: L.tensor(1.0),
          "one element": lambda L: L.tensor([1.0]), "two elements": lambda L: L.tensor([1.0, 2.0])}


@pytest.mark.parametrize("value", list(VALUES))
@pytest.mark.parametrize("where", ["mask", "int then mask", "ellipsis then mask"])
def test_uint8_mask_assignment_of_one_element_raises_masked_fills_error(value, where):
    # torch runs t[mask] = one value as masked_fill_, which takes bool masks only; several values
    # go through index_put_, which takes the uint8 mask
    got = {}
    for L in LIBS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            v = L.zeros(2, 3)
            m = L.tensor([1, 0, 1]).byte()
            idx = {"mask": (1, m), "int then mask": (0, m), "ellipsis then mask": (Ellipsis, m)}[where]
            if where == "mask":
                v, idx = v[1], m
            err = _error(lambda: v.__setitem__(idx, VALUES[value](L)))
            got[L.__name__] = (err, v.numpy().tolist() if L is ts else v.detach().numpy().tolist())
    assert got["tinygrad_seq"] == got["torch"]


def test_uint8_mask_with_another_index_or_accumulate_still_writes():
    got = {}
    for L in LIBS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            v = L.zeros(2, 3)
            v[L.tensor([1, 0]).byte(), L.tensor([0])] = 5.0
            w = L.zeros(3)
            w[L.tensor([1, 0, 1]).byte()] += 1
            got[L.__name__] = (v.numpy().tolist(), w.numpy().tolist())
    assert got["tinygrad_seq"] == got["torch"]


def test_masked_fill_of_a_non_bool_mask_names_torchs_c_type():
    for mask in ([1, 0, 1], [1.0, 0.0, 1.0]):
        got = {L.__name__: (_error(lambda L=L: L.zeros(3).masked_fill(L.tensor(mask), 2.0)),
                            _error(lambda L=L: L.zeros(3).masked_fill_(L.tensor(mask).byte(), 2.0)))
               for L in LIBS}
        assert got["tinygrad_seq"] == got["torch"]


def _warnings_of(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    # (torch's C++ warnings end with where in its sources they were raised: not compared)
    return [(w.category.__name__, w.filename, str(w.message).split(" (Triggered internally")[0]) for w in caught]


@pytest.mark.parametrize("case", ["uint8 index", "full backward hook"])
def test_warnings_point_at_the_callers_line_with_torchs_text(case):
    got = {}
    for L in LIBS:
        if case == "uint8 index":
            v = L.zeros(3)
            got[L.__name__] = _warnings_of(lambda: v[L.tensor([1, 0, 1]).byte()])
        else:
            lin = L.nn.Linear(2, 2)
            lin.register_full_backward_hook(lambda m, gi, go: None)
            got[L.__name__] = _warnings_of(lambda: lin(L.ones(1, 2)).sum().backward())
    assert got["tinygrad_seq"] == got["torch"]
    assert got["torch"] and got["torch"][0][1] == __file__


def test_swalr_anneal_strategy_message_as_torch():
    got = {}
    for L in LIBS:
        opt = L.optim.SGD([L.nn.Parameter(L.zeros(2))], lr=0.1)
        got[L.__name__] = _error(lambda: L.optim.swa_utils.SWALR(opt, swa_lr=0.05, anneal_strategy="exp"))
    assert got["tinygrad_seq"] == got["torch"]


@pytest.mark.parametrize("op", ["stack0", "stack1", "stack2", "cat0", "cat1", "cat mixed"])
def test_cat_and_stack_of_transposes_are_contiguous_and_dropout_draws_torchs_mask(op):
    # HM-LSTM stacks h_t.t() along time, then drops out: the mask follows the result's layout
    got = {}
    for L in LIBS:
        hs = [(L.arange(12.0).view(6, 2) + 100 * t).t() for t in range(3)]
        fn = {"stack0": lambda: L.stack(hs, 0), "stack1": lambda: L.stack(hs, 1), "stack2": lambda: L.stack(hs, 2),
              "cat0": lambda: L.cat(hs, 0), "cat1": lambda: L.cat(hs, 1),
              "cat mixed": lambda: L.cat([hs[0], L.ones(2, 6)], 0)}[op]
        out = fn()
        L.manual_seed(3)
        mask = (L.nn.functional.dropout(out + 1, 0.5, True) != 0).reshape(-1).tolist()
        got[L.__name__] = (tuple(out.shape), out.stride(), out.is_contiguous(), out.view(-1).tolist(), mask)
    assert got["tinygrad_seq"] == got["torch"]


@pytest.mark.parametrize("op", ["cat0", "cat1", "stack0", "mixed"])
def test_cat_of_channels_last_inputs_keeps_channels_last_as_torch(op):
    got = {}
    for L in LIBS:
        a = L.tensor(np.arange(120, dtype=np.float32).reshape(2, 3, 4, 5)).to(memory_format=L.channels_last)
        out = {"cat0": lambda: L.cat([a, a], 0), "cat1": lambda: L.cat([a, a], 1), "stack0": lambda: L.stack([a, a], 0),
               "mixed": lambda: L.cat([a, L.zeros(2, 3, 4, 5)], 0)}[op]()
        got[L.__name__] = (out.stride(), out.numpy().tolist())
    assert got["tinygrad_seq"] == got["torch"]


@pytest.mark.parametrize("case", ["1-d", "1-d long", "2 by 3", "2 by 2 long", "list"])
def test_matrix_exp_checks_the_shape_before_the_dtype_as_torch(case):
    got = {}
    for L in LIBS:
        arg = {"1-d": lambda: L.ones(4), "1-d long": lambda: L.ones(4, dtype=L.int64), "2 by 3": lambda: L.ones(2, 3),
               "2 by 2 long": lambda: L.ones(2, 2, dtype=L.int64), "list": lambda: [[1.0]]}[case]()
        got[L.__name__] = (_error(lambda: L.linalg.matrix_exp(arg)), _error(lambda: L.matrix_exp(arg)))
    assert got["tinygrad_seq"] == got["torch"]


def test_split_takes_torchs_keyword_names():
    # DCRNN's DCGRU cell: torch.split(tensor=value, split_size_or_sections=n, dim=-1)
    got = {}
    for L in LIBS:
        a = L.arange(12.0).view(2, 6)
        got[L.__name__] = ([p.tolist() for p in L.split(tensor=a, split_size_or_sections=3, dim=-1)],
                           [p.tolist() for p in L.split(a, [1, 5], 1)], [p.tolist() for p in L.split(a, 1)],
                           _error(lambda: L.split(input=a, split_size_or_sections=3))[0])
    assert got["tinygrad_seq"] == got["torch"]
