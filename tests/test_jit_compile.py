"""torch.jit.script / trace and torch.compile return what they are given, so programs that script a
custom cell or compile a model run unchanged (tinygrad_seq/jit.py)."""
import pytest

import tinygrad_seq as ts
from tinygrad_seq import nn


def test_script_and_compile_return_the_function_or_module():
    @ts.jit.script
    def double(x):
        return x * 2

    class Cell(ts.jit.ScriptModule):
        __constants__ = ["size"]
        size: ts.jit.Final[int]

        def __init__(self):
            super().__init__()
            self.size = 2
            self.linear = nn.Linear(2, 2)

        @ts.jit.script_method
        def forward(self, x):
            return self.linear(x).tanh()

    cell = Cell()
    assert double(ts.ones(2)).tolist() == [2.0, 2.0]
    assert isinstance(cell, nn.Module) and isinstance(cell, ts.jit.ScriptModule)
    assert ts.jit.trace(cell, ts.ones(1, 2)) is cell and ts.jit.script(cell) is cell
    model = nn.Linear(2, 2)
    compiled = ts.compile(model)   # torch's OptimizedModule: keys _orig_mod.<name>, the model's attributes
    assert type(compiled).__name__ == "OptimizedModule" and compiled._orig_mod is model
    assert list(compiled.state_dict()) == ["_orig_mod.weight", "_orig_mod.bias"]
    assert compiled.in_features == 2 and compiled(ts.ones(1, 2)).shape == (1, 2)
    assert ts.compile(model, disable=True) is model
    # as torch's OptimizedModule, writes, deletes, `training` and dotted paths are the model's
    compiled.head = nn.Linear(2, 1)
    assert model.head is compiled.head and list(compiled.state_dict())[-1] == "_orig_mod.head.bias"
    compiled.weight = nn.Parameter(ts.zeros(2, 2))
    assert float(compiled(ts.ones(1, 2)).sub(model.bias).abs().sum()) == 0.0
    del compiled.head
    assert not hasattr(model, "head")
    model.eval()
    assert compiled.training is False
    compiled.train()
    assert model.training is True and compiled.get_parameter("weight") is model.weight

    @ts.compile(mode="reduce-overhead", fullgraph=True)
    def add_one(x):
        return x + 1
    assert add_one(ts.ones(1)).item() == 2.0
    assert ts.jit.wait(ts.jit.fork(add_one, ts.ones(1))).item() == 2.0
    assert not ts.jit.is_scripting() and not ts.jit.is_tracing()
    assert ts.jit.annotate(list, []) == [] and ts.jit.ignore(double) is double and ts.jit.unused()(double) is double


def test_torchscript_files_are_refused_with_the_alternative(tmp_path):
    with pytest.raises(RuntimeError, match="state_dict"):
        ts.jit.save(nn.Linear(2, 2), tmp_path / "m.pt")
    with pytest.raises(AttributeError, match="does not have torch.jit.ScriptTrace yet"):
        ts.jit.ScriptTrace
