"""Programs round 21 (45 PyTorch programs beside torch 2.13): the torch._dynamo names programs set
beside torch.compile exist, as they answer when nothing compiles."""
import pytest
import torch

import tinygrad_seq as ts


@pytest.mark.parametrize("lib", [torch, ts], ids=["torch", "ours"])
def test_dynamo_settings_beside_compile(lib, monkeypatch):
    monkeypatch.setattr(lib._dynamo.config, "suppress_errors", True)    # restored after the test
    monkeypatch.setattr(lib._dynamo.config, "cache_size_limit", 64)
    lib._dynamo.reset()
    model = lib.nn.GRU(3, 4)
    compiled = lib.compile(model)
    x = lib.ones(2, 1, 3)
    lib._dynamo.mark_dynamic(x, 0)
    out, h = compiled(x)
    assert tuple(out.shape) == (2, 1, 4) and tuple(h.shape) == (1, 1, 4)

    @lib._dynamo.disable
    def plain(t):
        return t * 2
    assert float(plain(lib.ones(1))) == 2.0
    assert lib._dynamo.is_compiling() is False
