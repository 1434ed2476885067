"""Shared by the asv suites that time tinygrad_seq and PyTorch side by side: the library a
benchmark runs on, as a torch-like namespace, and its thread count."""
import os
import types


def namespace(lib):
    """torch, nn and F of `lib` ("tinygrad_seq" or "torch"). torch is skipped (asv's
    NotImplementedError) where it is not installed, as in the per-commit virtualenvs."""
    if lib == "torch":
        try:
            import torch
        except ImportError:
            raise NotImplementedError("torch not installed") from None
        import torch.nn.functional as F
        return types.SimpleNamespace(torch=torch, nn=torch.nn, F=F)
    import tinygrad_seq
    import tinygrad_seq.nn.functional as F
    return types.SimpleNamespace(torch=tinygrad_seq, nn=tinygrad_seq.nn, F=F)


def use_threads(L, n):
    """n threads for every pool the step can use: BLAS and Numba (ts.set_num_threads) and, for
    torch, its intra-op pool. More threads than CPUs is skipped: it measures oversubscription."""
    if n > (os.cpu_count() or 1):
        raise NotImplementedError(f"{n} threads on {os.cpu_count()} CPUs")
    import tinygrad_seq
    tinygrad_seq.set_num_threads(n)
    if L.torch is not tinygrad_seq:
        L.torch.set_num_threads(n)
