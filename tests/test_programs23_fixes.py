"""Programs round 23 (89 PyTorch programs beside torch 2.13): torch's exception classes where ours
differed (optimizer state of another shape, a cell's hx tuple of one tensor), and two checks torch makes
that ours skipped (.data set to an integer tensor, a post-accumulate-grad hook returning a value)."""
import pytest
import torch

import tinygrad_seq as ts


@pytest.mark.parametrize("lib", [torch, ts], ids=["torch", "ours"])
@pytest.mark.parametrize("opt", ["Adam", "SGD"])
def test_optimizer_state_of_another_shape_is_a_runtime_error(lib, opt):
    kwargs = {"lr": 0.1, "momentum": 0.9} if opt == "SGD" else {}
    m = lib.nn.Linear(3, 4)
    o = getattr(lib.optim, opt)(m.parameters(), **kwargs)
    m(lib.ones(1, 3)).sum().backward()
    o.step()
    m2 = lib.nn.Linear(3, 5)
    o2 = getattr(lib.optim, opt)(m2.parameters(), **kwargs)
    with pytest.raises(RuntimeError):   # torch at step(), ours at load_state_dict (naming both shapes)
        o2.load_state_dict(o.state_dict())
        m2(lib.ones(1, 3)).sum().backward()
        o2.step()


@pytest.mark.parametrize("lib", [torch, ts], ids=["torch", "ours"])
def test_data_of_a_tensor_requiring_grad_must_stay_floating(lib):
    t = lib.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="must be floating point or complex dtype"):
        t.data = lib.tensor([1, 2])
    assert t.dtype == lib.float32
    t.data = lib.tensor([3.0, 4.0])
    assert t.tolist() == [3.0, 4.0]
    free = lib.ones(2)
    free.data = lib.tensor([1, 2])   # no grad required: any dtype
    assert free.tolist() == [1, 2]


@pytest.mark.parametrize("lib", [torch, ts], ids=["torch", "ours"])
def test_post_accumulate_grad_hook_must_return_none(lib):
    q = lib.ones(2, requires_grad=True)
    q.register_post_accumulate_grad_hook(lambda p: p.grad.mul_(2))
    with pytest.raises(RuntimeError, match="post accumulate grad hooks should return None"):
        (q * 3).sum().backward()
    i = lib.ones(2, requires_grad=True)
    i.register_post_accumulate_grad_hook(lambda p: 5)
    with pytest.raises(TypeError, match="expected Variable, but hook returned 'int'"):
        (i * 3).sum().backward()
    s = lib.zeros(2, requires_grad=True)   # returning the tensor itself is allowed (torch's docstring example)
    s.register_post_accumulate_grad_hook(lambda p: p.add_(p.grad, alpha=-0.5))
    (s * 3).sum().backward()
    assert s.tolist() == [-1.5, -1.5]
    seen = []
    r = lib.ones(2, requires_grad=True)
    r.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.tolist()))
    (r * 3).sum().backward()
    assert seen == [[3.0, 3.0]]


@pytest.mark.parametrize("lib", [torch, ts], ids=["torch", "ours"])
def test_lstm_cell_hx_of_one_tensor(lib):
    cell = lib.nn.LSTMCell(3, 2)
    with pytest.raises(RuntimeError, match="lstm_cell expects two hidden states"):
        cell(lib.ones(1, 3), (lib.zeros(1, 2),))
    with pytest.raises(IndexError):   # unbatched: torch indexes the tuple
        cell(lib.ones(3), (lib.zeros(2),))
    with pytest.raises(TypeError):
        cell(lib.ones(1, 3), lib.zeros(1, 2))
