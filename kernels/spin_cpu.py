"""A spin barrier for time loops whose chunks run on their own threads for a whole sequence.

The hidden-units split of a recurrent layer needs every chunk's state of step t before any chunk
computes step t+1 (each chunk's product reads the whole state). A Numba ``prange`` region per
step paid a parallel launch per step, and the OpenMP workers it left spinning slowed the Python
threads that run the batch-split kernels and the GEMMs (blas_cpu): measured (AMD EPYC, 2 cores,
LSTM T=50 B=16 H=256, forward + backward) 45.5 ms with a region per step against 23.7 ms for the
batch split. Here each chunk runs the whole sequence on one thread (blas_cpu.run_chunks, nogil)
and the chunks meet once per step at a barrier that spins on one cache line per chunk.

    flags = barrier_flags(n_chunks)        # int64 [n_chunks * LINE], zero
    ... in chunk c after step s:  if not arrive_and_wait(flags, c, s + 1): return  # gave up

Memory order: a chunk publishes its phase with a release store after writing its step's state,
and reads the others' phases with acquire loads (LLVM atomics, emitted by the intrinsics below),
so the state written before the barrier is visible after it on every CPU Numba targets.

A waiting chunk spins SPINS_BEFORE_YIELD rounds, then also yields its core at every round
(sched_yield), so that on a loaded machine the chunk it waits for gets a core. One that waits
YIELD_LIMIT yielding rounds (tens of seconds) for a chunk that never comes gives up and marks the
GAVE_UP slot; barrier_error then names what happened. The barrier is only
used when every chunk has a core of its own (blas_cpu.cores_for_spinning): spinning threads on a
shared core wait for the scheduler at every step.
"""
import platform

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .cache_load import njit

_JIT = dict(cache=True, nogil=True, fastmath=True, error_model="numpy")
_INNER = dict(_JIT, no_cpython_wrapper=True, no_cfunc_wrapper=True)

LINE = 16          # int64 slots per chunk: 128 bytes, one cache line (two on some CPUs) each
GAVE_UP = 0        # slot of the last line: set to 1 by a chunk that stopped waiting
SPINS_BEFORE_YIELD = 1 << 12   # PAUSE rounds (~10-150 us) before each round also yields the core
YIELD_LIMIT = 1 << 26          # yielding rounds (tens of seconds) before a chunk gives up
_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")


def _slot_pointer(context, builder, arr_type, arr, index):
    array = context.make_array(arr_type)(context, builder, arr)
    return cgutils.get_item_pointer(context, builder, arr_type, array, [index])


@intrinsic
def _load_acquire(typingctx, flags, index):
    """flags[index] read with an acquire load (int64 array)."""
    sig = types.int64(flags, index)

    def codegen(context, builder, signature, args):
        ptr = _slot_pointer(context, builder, signature.args[0], args[0], args[1])
        return builder.load_atomic(ptr, ordering="acquire", align=8)
    return sig, codegen


@intrinsic
def _store_release(typingctx, flags, index, value):
    """flags[index] = value with a release store (int64 array)."""
    sig = types.void(flags, index, value)

    def codegen(context, builder, signature, args):
        ptr = _slot_pointer(context, builder, signature.args[0], args[0], args[1])
        value = context.cast(builder, args[2], signature.args[2], types.int64)
        builder.store_atomic(value, ptr, ordering="release", align=8)
        return context.get_dummy_value()
    return sig, codegen


@intrinsic
def _fence(typingctx):
    """A sequentially consistent fence (x86: MFENCE): a store before it is visible to every
    thread before any load after it reads memory. The sleep/wake hand-shakes of kernels/workers_cpu.py
    (store my flag, then read yours) need this order, which release/acquire alone does not give."""
    sig = types.void()

    def codegen(context, builder, signature, args):
        builder.fence("seq_cst")
        return context.get_dummy_value()
    return sig, codegen


@intrinsic
def _sched_yield(typingctx):
    """libc's sched_yield(): the core goes to another runnable thread, if any (a chunk whose
    partner was descheduled on a loaded or oversubscribed machine lets it run)."""
    sig = types.void()

    def codegen(context, builder, signature, args):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(32), []), "sched_yield")
        builder.call(fn, [])
        return context.get_dummy_value()
    return sig, codegen


@intrinsic
def _cpu_relax(typingctx):
    """x86's PAUSE inside a spin loop (frees the core's shared resources for its sibling thread
    and keeps the loop from flooding the memory system); nothing on other CPUs."""
    sig = types.void()

    def codegen(context, builder, signature, args):
        if _X86:  # LLVM's intrinsic (Numba's JIT assembles no inline asm)
            pause = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), []),
                                                   "llvm.x86.sse2.pause")
            builder.call(pause, [])
        return context.get_dummy_value()
    return sig, codegen


def barrier_flags(n_chunks):
    """The barrier's state for one kernel call: a line per chunk, then one for GAVE_UP."""
    return np.zeros((n_chunks + 1) * LINE, np.int64)


@njit(**_INNER)
def arrive_and_wait(flags, c, n_chunks, phase):
    """Chunk c has finished phase `phase` (1, 2, ...): publish it, wait until every chunk has.
    False when this chunk gave up (YIELD_LIMIT yielding rounds) or another chunk had: the caller returns."""
    _store_release(flags, c * LINE, phase)
    for j in range(n_chunks):
        if j == c:
            continue
        spins = 0
        while _load_acquire(flags, j * LINE) < phase:
            spins += 1
            if spins < SPINS_BEFORE_YIELD:
                _cpu_relax()
                continue
            _sched_yield()
            if spins - SPINS_BEFORE_YIELD >= YIELD_LIMIT or _load_acquire(flags, n_chunks * LINE + GAVE_UP) != 0:
                _store_release(flags, n_chunks * LINE + GAVE_UP, 1)
                return False
    return True


def barrier_error(flags, n_chunks, what):
    """A RuntimeError for a call whose chunks stopped waiting for each other, else None."""
    if flags[n_chunks * LINE + GAVE_UP] == 0:
        return None
    phases = [int(flags[c * LINE]) for c in range(n_chunks)]
    return RuntimeError(f"{what}: the threads of the hidden-units split stopped waiting for each other "
                        f"(steps reached per thread: {phases}); a thread was not scheduled for a long time. "
                        f"Set TINYGRAD_SEQ_TUNE_SPLIT=batch to use the batch split")
