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
