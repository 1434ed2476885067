"""Programs round 22 (78 PyTorch programs beside torch 2.13): one tensor given as an LSTM's hx
fails with torch's exception type (IndexError or RuntimeError, by its first dim) and words."""
import pytest
import torch

import tinygrad_seq as ts


@pytest.mark.parametrize("first_dim", [1, 2, 3])
@pytest.mark.parametrize("unbatched", [False, True])
def test_one_tensor_as_lstm_hx(first_dim, unbatched):
    x_shape, hx_shape = ((3, 4), (first_dim, 5)) if unbatched else ((2, 3, 4), (first_dim, 2, 5))
    raised = []
    for lib in (torch, ts):
        lstm = lib.nn.LSTM(4, 5, batch_first=True)
        with pytest.raises(Exception) as info:
            lstm(lib.zeros(*x_shape), lib.zeros(*hx_shape))
        raised.append(info)
    theirs, ours = raised
    assert isinstance(ours.value, theirs.type)   # `except RuntimeError` / `except IndexError` as with torch
    assert str(ours.value).startswith(str(theirs.value))
    assert "hx must be a tuple of 2 tensors" in str(ours.value)


def test_one_tensor_of_the_states_rank_names_the_tuple():
    lstm = ts.nn.LSTM(4, 5)
    with pytest.raises(RuntimeError, match=r"hx must be a tuple of 2 tensors \('h', 'c'\), got one tensor of "
                                           r"shape \(2, 1, 2, 5\)"):
        lstm(ts.zeros(3, 2, 4), ts.zeros(2, 1, 2, 5))
