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


class NoCuda(RuntimeError, AssertionError):
    """'cuda' asked for where no GPU (nor the simulator) is: torch's AssertionError ("Torch not
    compiled with CUDA enabled"), and a RuntimeError as it was here."""


class DeviceError(RuntimeError, ValueError):
    """A device string this library does not know ('meta', 'mps', 'xla'): torch's RuntimeError,
    and a ValueError as it was here."""


class _DeviceType(type):
    """`ts.device` is this class (torch.device is called like one), which hides the module
    tinygrad_seq.device from `from tinygrad_seq import device`; so the class hands the module's
    names (backend, canonical, ...) to code that imported it that way."""
    def __getattr__(cls, name):
        import sys
        try:
            return getattr(sys.modules[__name__], name)
        except AttributeError:
            raise AttributeError(f"type object 'device' has no attribute {name!r}") from None


class Device(str, metaclass=_DeviceType):
    """PyTorch's torch.device: `.type` ("cpu" or "cuda") and `.index` (None or the GPU number).
    A str subclass whose value is the type, so it compares equal to "cpu" / "cuda" (at C speed:
    the engine compares devices on every op), hashes like its name and is the engine's backend
    key; str() gives "cuda:0" when an index was given. Tensors on the GPU report cuda:0."""
    __slots__ = ("index",)

    def __new__(cls, type_or_name=None, index=None, *, type=None):
        if type is not None:   # torch.device(type="cuda", index=0)
            type_or_name = type
        if type_or_name is None:   # torch.device() names no device: torch's TypeError
            raise TypeError("device() received an invalid combination of arguments - got (), but expected "
                            "one of: (torch.device device), (str type, int index = -1)")
        if isinstance(type_or_name, Device) and index is None:
            return type_or_name
        name = str(type_or_name).lower().strip()
        kind, _, num = name.partition(":")
        if kind not in ("cpu", "cuda") or (num and not num.isdigit()):
            raise DeviceError(f"unknown device {type_or_name!r}: expected 'cpu', 'cuda' or 'cuda:N'")
        if num:
            if index is not None:
                raise ValueError(f"device {type_or_name!r} already names an index, got index={index}")
            index = int(num)
        if index is not None and (not isinstance(index, int) or index < 0):
            raise ValueError(f"device index must be a non-negative integer, got {index!r}")
        if kind == "cpu" and index not in (None, 0):
            raise ValueError(f"device 'cpu' has no index {index}")
        if kind == "cuda" and index not in (None, 0):
            raise ValueError(f"device 'cuda:{index}': tinygrad_seq uses one GPU, 'cuda' or 'cuda:0'")
        self = super().__new__(cls, kind)
        self.index = index
        return self

    type = property(lambda self: str.__str__(self))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        extra = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{extra})"

    def __reduce__(self):
        return (Device, (self.type, self.index))

    def __enter__(self):
        """`with torch.device(d):` makes d the default device of the factory functions and module
        construction inside, and restores the previous one on exit (torch's DeviceContext).
        Tensors are made on the CPU by default here, so only a CPU device is taken
        (global_settings.set_default_device raises for another, naming what to do instead)."""
        from tinygrad_seq.global_settings import get_default_device, set_default_device
        previous = get_default_device()
        set_default_device(self)
        _DEFAULT_DEVICE_STACK.append(previous)
        return self

    def __exit__(self, *exc):
        from tinygrad_seq.global_settings import set_default_device
        set_default_device(_DEFAULT_DEVICE_STACK.pop())
        return False


_DEFAULT_DEVICE_STACK: list = []   # the default device before each open `with device(...)`


CPU, CUDA = Device("cpu"), Device("cuda", 0)
_CANONICAL = {"cpu": CPU, "cuda": CUDA}


def canonical(device) -> Device:
    """The Device of any device argument: "cpu", "cuda", "cuda:0", a Device."""
    dev = _CANONICAL.get(device)
    if dev is not None and type(device) is str:
        return dev
    if device is None:
        return CPU   # torch's default device
    if isinstance(device, Device):
        return _CANONICAL[device]
    if isinstance(device, int) and not isinstance(device, bool):
        return Device("cuda", device)  # torch takes a bare GPU number
    return _CANONICAL[Device(device)]


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
                raise NoCuda("Torch not compiled with CUDA enabled: device 'cuda' was requested but no CUDA GPU is "
                             "available (install the 'cuda' extra and run on a machine with an NVIDIA GPU, or set "
                             "NUMBA_ENABLE_CUDASIM=1 before importing to use the simulator)")
            b = importlib.import_module("tinygrad_seq.backend_cuda")
        else:
            raise DeviceError(f"unknown device {device!r}")
        _backends[_CANONICAL.get(device, device)] = b   # keyed by the Device: found by identity
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
