"""glibc's malloc set to keep freed memory for reuse instead of handing it back to the OS.

A training step allocates and frees the same large temporaries every step (gate buffers, saved
states, gradients: 0.1-30 MB each). With glibc's defaults a block of 128 KiB or more (a limit that
grows with use, up to 32 MiB) is mmap-ed fresh and unmapped at free, and the top of the heap is
trimmed, so every step first touches new pages: each touch is a page fault, a zeroed page, and
in a virtual machine an exit to the hypervisor. Measured (AMD EPYC VM, one thread, LSTM forward +
backward, T=20 B=32 I=64 H=256): 1,760 page faults a call and 26.8-29.5 ms; with the settings
below no fault after the first call and 20.4-23.3 ms. This is what PyTorch's CPU performance
guides get by switching to jemalloc or tcmalloc.

    M_MMAP_THRESHOLD = 32 MiB   blocks below it come from the heap and are reused after free
    M_TRIM_THRESHOLD = 1 GiB    freed memory at the top of the heap is kept up to this much

The cost: memory freed after a peak stays with the process (up to the trim threshold) instead of
going back to the OS, as with PyTorch's CUDA caching allocator. Applied once, when tinygrad_seq
is imported, to the whole process; TINYGRAD_SEQ_MALLOC=system leaves glibc's settings alone.
Nothing happens on systems without glibc's mallopt.
"""
import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20   # glibc's largest accepted value on 64-bit systems
TRIM_THRESHOLD = 1 << 30

applied = None   # after keep_freed_memory(): True when the settings took effect


def keep_freed_memory():
    """Apply the settings (once); True when they are in effect."""
    global applied
    if applied is not None:
        return applied
    applied = False
    mode = os.environ.get("TINYGRAD_SEQ_MALLOC", "keep").strip().lower()
    if mode not in ("keep", "system"):
        raise ValueError(f"TINYGRAD_SEQ_MALLOC={mode!r}: expected 'keep' (the default) or 'system'")
    if mode == "system" or not sys.platform.startswith("linux"):
        return applied
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):   # not glibc (musl, ...): nothing to set
        return applied
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    applied = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return applied
