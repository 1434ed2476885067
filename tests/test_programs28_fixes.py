"""Differences from torch 2.13 found in session 53 (round 28: torch's docstring examples, RNN
programs of kinds earlier rounds missed), each checked against torch itself."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts


@pytest.mark.parametrize("leaf", [False, True])
def test_a_tensor_hook_returning_an_array_raises_torchs_type_error(leaf):
    for lib in (torch, ts):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        x = w if leaf else w * 2
        x.register_hook(lambda g: g.detach().numpy() * 10)
        with pytest.raises(TypeError, match="expected Variable, but hook returned 'numpy.ndarray'"):
            x.sum().backward()
    for lib in (torch, ts):   # the post-accumulate hooks name the type alike
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        w.register_post_accumulate_grad_hook(lambda p: 3)
        with pytest.raises(TypeError, match="expected Variable, but hook returned 'int'"):
            w.sum().backward()
