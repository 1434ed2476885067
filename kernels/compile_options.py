"""The Numba compiler pipeline of the generated cells' loops (tinygrad_seq/cellgen): Numba's own,
with LLVM's loop strength reduction turned off while it runs.

Why: a generated loop holds a cell's whole pointwise forward or backward, dozens of array views
inside the batch-row loop. On those, the code generator's loop strength reduction pass searched
for 2.0 of the 8.6 s a LayerNorm LSTM's backward loop took to compile (LLVM pass timings,
NUMBA_LLVM_PASS_TIMINGS=1), and the code it left ran no faster: the same loops compiled without
it ran at 0.86-1.02x the time for the LayerNorm LSTM and 0.99-1.01x for the peephole LSTM, T=50
B=1..64 H=64..256 forward + backward, one process, alternating (AMD EPYC, 2026-12-03). The
hand-written kernels keep it (0.35 of their 5.9 s of LLVM passes; their products were tuned with it).

LLVM reads the setting (a process-wide command-line option) when it generates machine code, which
Numba does inside a compile, under its process-wide compiler lock: the option is set when the
outermost generated-loop compile starts and restored (to LLVM's default, on) when it ends, so
that no compile outside it sees it. Inside it, a plain @njit helper compiled for the first time
as a callee of a generated loop gets its own machine code, and its disk-cache entry, without the
pass too (the helpers' speed as measured above, which includes them). A compile loaded from
Numba's on-disk cache generates no code and is not affected. llvmlite ignores an option LLVM
does not know without a word: tests/test_compile_options.py checks that this one takes effect.
"""
import llvmlite.binding as llvm
from numba.core.compiler import Compiler

_depth = 0  # generated-loop compiles in progress in this process (nested: a loop's callee)


def _enter():
    global _depth
    if _depth == 0:
        llvm.set_option("tinygrad_seq", "-disable-lsr=true")
    _depth += 1


def _exit():
    global _depth
    _depth -= 1
    if _depth == 0:
        llvm.set_option("tinygrad_seq", "-disable-lsr=false")


class GeneratedLoopCompiler(Compiler):
    """Numba's default pipeline with loop strength reduction off for the code it generates; used as
    njit(pipeline_class=GeneratedLoopCompiler). Numba runs a pipeline under its compiler lock."""

    def compile_extra(self, func):
        _enter()
        try:
            return super().compile_extra(func)
        finally:
            _exit()

    def compile_ir(self, func_ir, lifted=(), lifted_from=None):
        _enter()
        try:
            return super().compile_ir(func_ir, lifted, lifted_from)
        finally:
            _exit()
