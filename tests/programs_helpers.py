"""Shared by tests/test_torch_programs.py: a program written once against a torch-like namespace
`L` (torch, nn, optim, F, DataLoader, TensorDataset) runs on torch, then on tinygrad_seq from
torch's initial state dict; lockstep compares the losses of every step and the final parameters."""
import types

import numpy as np
import pytest
import torch

import tinygrad_seq

TOL = 1e-4    # losses, every step
PTOL = 1e-5   # final parameters
STEPS = 100


def namespace(lib):
    if lib == "torch":
        import torch.nn.functional as F
        from torch import nn, optim
        from torch.utils.data import DataLoader, TensorDataset
        return types.SimpleNamespace(torch=torch, nn=nn, optim=optim, F=F, DataLoader=DataLoader,
                                     TensorDataset=TensorDataset)
    import tinygrad_seq.nn.functional as F
    from tinygrad_seq import nn, optim
    from tinygrad_seq.utils.data import DataLoader, TensorDataset
    return types.SimpleNamespace(torch=tinygrad_seq, nn=nn, optim=optim, F=F, DataLoader=DataLoader,
                                 TensorDataset=TensorDataset)


def lockstep(program, *args, **kwargs):
    """Run program on torch, then on tinygrad_seq from torch's initial state; compare the losses of
    every step and the final parameters."""
    init, theirs, t_extra, t_final = program(namespace("torch"), None, *args, **kwargs)
    _, ours, o_extra, o_final = program(namespace("tinygrad_seq"), init, *args, **kwargs)
    assert len(ours) == len(theirs) == kwargs.get("steps", STEPS)
    np.testing.assert_allclose(ours, theirs, atol=TOL, rtol=0)
    assert o_final.keys() == t_final.keys()
    for k in t_final:
        np.testing.assert_allclose(o_final[k], t_final[k], atol=PTOL, rtol=0, err_msg=k)
    return o_extra, t_extra


def state(model):
    # torch's state_dict holds tensors; tinygrad_seq's holds numpy copies (API.md)
    return {k: np.array(v.detach().numpy() if hasattr(v, "detach") else v)
            for k, v in model.state_dict().items()}


def snapshot_or_load(L, model, init):
    if init is None:
        return state(model)
    model.load_state_dict({k: L.torch.tensor(v) for k, v in init.items()})
    return init


@pytest.fixture
def float64_default():
    torch.set_default_dtype(torch.float64)
    tinygrad_seq.set_default_dtype(tinygrad_seq.float64)
    yield
    torch.set_default_dtype(torch.float32)
    tinygrad_seq.set_default_dtype(tinygrad_seq.float32)
