"""Device dispatch, in one place: device name -> array backend, and -> fused kernel module.

"cpu" arrays are numpy ndarrays and the backend is numpy (backend_cpu). "cuda" arrays are numba
device arrays and the backend is backend_cuda, imported on first use so a CPU user never pays for
numba.cuda. Under NUMBA_ENABLE_CUDASIM=1 "cuda" runs in Numba's CUDA simulator.
"""
from __future__ import annotations

import importlib
import os

_backends: dict = {}
_kernel_modules: dict = {}
_cuda_ok: bool | None = None


def canonical(device) -> str:
    name = str(device).lower()
    if name.startswith("cuda"):
        return "cuda"
    if name == "cpu":
        return "cpu"
    raise ValueError(f"unknown device {device!r}: expected 'cpu' or 'cuda'")


def cuda_available() -> bool:
    """True when a CUDA GPU (or the simulator, under NUMBA_ENABLE_CUDASIM=1) can be used."""
    global _cuda_ok
    if _cuda_ok is None:
        try:
            from numba import cuda
            _cuda_ok = bool(cuda.is_available())
        except Exception:
            _cuda_ok = False
    return _cuda_ok


def simulated() -> bool:
    return os.environ.get("NUMBA_ENABLE_CUDASIM", "0") == "1"


def backend(device: str):
    """The array backend module for a canonical device name."""
    b = _backends.get(device)
    if b is None:
        if device == "cpu":
            from tinygrad_seq import backend_cpu as b
        elif device == "cuda":
            if not cuda_available():
                raise RuntimeError("device 'cuda' was requested but no CUDA GPU is available "
                                   "(install the 'cuda' extra and run on a machine with an NVIDIA GPU, "
                                   "or set NUMBA_ENABLE_CUDASIM=1 before importing to use the simulator)")
            b = importlib.import_module("tinygrad_seq.backend_cuda")
        else:
            raise ValueError(f"unknown device {device!r}")
        _backends[device] = b
    return b


def kernels(device: str, cell: str):
    """The fused kernel module of `cell` ('rnn', 'lstm', 'gru') for `device`."""
    key = (device, cell)
    mod = _kernel_modules.get(key)
    if mod is None:
        backend(device)  # raises the clear "no GPU" error first
        suffix = "cpu" if device == "cpu" else "cuda"
        mod = importlib.import_module(f"tinygrad_seq.kernels.{cell}_{suffix}")
        _kernel_modules[key] = mod
    return mod


def device_of_array(a) -> str:
    """'cpu' for numpy arrays and host data, 'cuda' for numba device arrays."""
    return "cuda" if hasattr(a, "copy_to_host") else "cpu"


def backend_of(a):
    return backend(device_of_array(a))
