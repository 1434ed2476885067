"""kernels/compile_options.py: the generated loops compile with LLVM's loop strength reduction
off, set only while such a compile runs (the option is process-wide)."""
import numpy as np
import pytest
from numba import njit

from tinygrad_seq import cell_library
from tinygrad_seq.cellgen import generated_source
from tinygrad_seq.kernels import compile_options


def test_the_option_is_set_only_during_a_generated_loop_compile(monkeypatch):
    calls = []
    monkeypatch.setattr(compile_options.llvm, "set_option", lambda name, opt: calls.append(opt))

    @njit(pipeline_class=compile_options.GeneratedLoopCompiler)
    def callee(a):
        return a * 2.0

    @njit(pipeline_class=compile_options.GeneratedLoopCompiler)
    def loop(a):
        s = 0.0
        for i in range(a.shape[0]):
            s += callee(a[i])
        return s

    @njit
    def plain(a):
        return a.sum()

    assert loop(np.arange(4.0)) == 12.0
    # the callee compiled inside the loop's compile: set once, restored once, at the end
    assert calls == ["-disable-lsr=true", "-disable-lsr=false"]
    assert compile_options._depth == 0
    plain(np.arange(3.0))
    assert len(calls) == 2


def test_a_failed_compile_restores_the_option(monkeypatch):
    calls = []
    monkeypatch.setattr(compile_options.llvm, "set_option", lambda name, opt: calls.append(opt))

    @njit(pipeline_class=compile_options.GeneratedLoopCompiler)
    def bad(a):
        return a.no_such_attribute

    with pytest.raises(Exception, match="no_such_attribute"):
        bad(np.arange(3.0))
    assert calls == ["-disable-lsr=true", "-disable-lsr=false"] and compile_options._depth == 0


def _strided_sum(a, b, c, n):
    s = 0.0
    for i in range(n):
        s += a[2 * i] * b[3 * i] + c[i]
    return s


def test_llvm_takes_the_option():
    # not monkeypatched: LLVM's code generator leaves its loop strength reduction's induction
    # variables (lsr.iv) in the module Numba keeps; without the pass there are none. An llvmlite
    # that renamed or dropped -disable-lsr would ignore it silently, and this would fail
    a = np.ones(300)
    plain = njit(_strided_sum)
    generated = njit(pipeline_class=compile_options.GeneratedLoopCompiler)(_strided_sum)
    assert plain(a, a, a, 90) == generated(a, a, a, 90) == 180.0
    assert "lsr.iv" in "".join(plain.inspect_llvm().values())
    assert "lsr.iv" not in "".join(generated.inspect_llvm().values())
    again = njit(_strided_sum)  # compiled after: the option was restored
    again(a, a, a, 90)
    assert "lsr.iv" in "".join(again.inspect_llvm().values())


def test_generated_cells_compile_through_it():
    src = generated_source(cell_library.get("peephole_lstm"))
    assert "pipeline_class=GeneratedLoopCompiler" in src
