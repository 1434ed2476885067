"""nn.DataParallel (nn.parallel.DataParallel) and nn.parallel.data_parallel: torch's single-process
wrapper, so that PyTorch programs that wrap their model in it run unchanged.

tinygrad_seq drives at most one GPU, from the calling process, so no replica is ever made:
- without a GPU, as torch without one: `.device_ids` is [] and the wrapper just calls the module;
- with the GPU, as torch with one device: the module is moved to cuda:0, the tensors among the
  inputs (inside tuples, lists, dicts and named tuples too) are moved there (differentiably,
  as torch's scatter), the module is called on them and its output is returned as it is.
Either way `.module` is the wrapped module, `parameters()` are its parameters and state_dict()
keys carry torch's "module." prefix (so `model.module.state_dict()` is the bare module's).
For training over several GPUs or hosts use nn.parallel.DistributedDataParallel over MPI.
"""
from typing import Generic, TypeVar

from tinygrad_seq import cuda
from tinygrad_seq.device import Device
from tinygrad_seq.nn.module import Module

T = TypeVar("T", bound=Module)


class DataParallel(Module, Generic[T]):
    """Wraps `module`; call it like the module. device_ids: GPU indices (ints, "cuda:N" or
    devices; default: every GPU, none without one); output_device: where the output would be
    gathered (default device_ids[0]); dim: the dimension the batch would be split along."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.dim = dim   # torch sets it only with a GPU; kept here on the CPU too (harmless)
        if not cuda.is_available():
            self.module = module
            self.device_ids = []
            return
        if device_ids is None:
            device_ids = list(range(cuda.device_count()))
        if not device_ids:
            raise RuntimeError("no available devices were found")
        if output_device is None:
            output_device = device_ids[0]
        self.module = module
        self.device_ids = [_gpu_index(d) for d in device_ids]
        self.output_device = _gpu_index(output_device)
        self.src_device_obj = Device("cuda", self.device_ids[0])
        if len(self.device_ids) == 1:
            self.module.to(self.src_device_obj)

    def forward(self, *inputs, **kwargs):
        if not self.device_ids:
            return self.module(*inputs, **kwargs)
        _require_on_device(self.module, self.src_device_obj)
        # the one GPU takes the whole batch: torch's scatter onto a single device
        return self.module(*_to_device(inputs, self.src_device_obj), **_to_device(kwargs, self.src_device_obj))


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0, module_kwargs=None):
    """module(*inputs, **module_kwargs) on device_ids[0], as torch's functional form; like torch's
    it needs a GPU ("device type could not be determined" without one)."""
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    if not cuda.is_available():
        raise RuntimeError("device type could not be determined")
    if device_ids is None:
        device_ids = list(range(cuda.device_count()))
    if not device_ids:
        raise RuntimeError("no available devices were found")
    device_ids = [_gpu_index(d) for d in device_ids]
    if output_device not in (None, -1):   # -1: the CPU, in torch
        _gpu_index(output_device)
    source = Device("cuda", device_ids[0])
    _require_on_device(module, source)
    return module(*_to_device(inputs, source), **_to_device(module_kwargs or {}, source))


def _gpu_index(device):
    """0 for 0, "cuda:0", "cuda" or a cuda device; an index past the one GPU raises, naming it."""
    if isinstance(device, int):
        index = device
    else:
        named = Device(device)
        if named.type != "cuda":
            raise ValueError(f"DataParallel: device_ids and output_device name GPUs, got {device!r}")
        index = named.index or 0
    Device("cuda", index)   # tinygrad_seq drives one GPU: "cuda:1" is refused with a clear error
    return index


def _require_on_device(module, device):
    for t in list(module.parameters()) + list(module.buffers()):
        if t.device != device:
            raise RuntimeError(f"module must have its parameters and buffers on device {device} "
                               f"(device_ids[0]) but found one of them on device: {t.device}")


def _to_device(obj, device):
    """obj with every tensor in it moved to device; containers rebuilt as torch's scatter does."""
    from tinygrad_seq.tensor import Tensor
    if isinstance(obj, Tensor):
        return obj.to(device)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):   # a named tuple (PackedSequence too)
        return type(obj)(*(_to_device(o, device) for o in obj))
    if isinstance(obj, (tuple, list)):
        return type(obj)(_to_device(o, device) for o in obj)
    if isinstance(obj, dict):
        return type(obj)((k, _to_device(v, device)) for k, v in obj.items())
    return obj
