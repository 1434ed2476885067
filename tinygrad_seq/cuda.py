"""ts.cuda: the torch.cuda names PyTorch programs call (is_available, device_count, seeding).

The engine uses one GPU; its arrays draw random numbers on the host from the one generator
(tinygrad_seq.random), so the CUDA seeding functions seed nothing of their own: ts.manual_seed
already covers them, as torch.manual_seed covers every device, and the CUDA rng-state functions
read and restore that generator.
"""
from tinygrad_seq import random
from tinygrad_seq.cuda_devices import (Event, Stream, current_stream, default_stream, device,  # noqa: F401
                                       get_device_capability, get_device_name, get_device_properties,
                                       initial_seed, ipc_collect, is_initialized, max_memory_allocated,
                                       max_memory_reserved, mem_get_info, memory_allocated, memory_reserved,
                                       memory_stats, memory_summary, reset_max_memory_allocated,
                                       reset_peak_memory_stats, seed, seed_all, set_per_process_memory_fraction,
                                       stream)
from tinygrad_seq.device import cuda_available


def is_available() -> bool:
    return cuda_available()


def device_count() -> int:
    return 1 if cuda_available() else 0


def current_device() -> int:
    if not cuda_available():
        raise RuntimeError("ts.cuda.current_device(): no CUDA GPU is available")
    return 0


def set_device(device):
    """Accepts the index (an int, "cuda:k" or a device) of a GPU of this machine and changes
    nothing: tinygrad_seq.distributed already bound this rank's GPU (local_rank % GPUs), which is
    the device a torch program names here. A negative index is a no-op, as torch's."""
    text = str(device)
    if isinstance(device, int) and not isinstance(device, bool):
        index = device
    elif text == "cuda" or text.startswith("cuda:"):
        index = int(text.split(":")[1]) if ":" in text else 0
    else:
        raise ValueError(f"Expected a cuda device, but got: {device}")
    if index < 0:
        return
    count = _gpu_count()
    if index >= count:
        raise RuntimeError(f"ts.cuda.set_device({device!r}): invalid device ordinal: this machine "
                           f"has {count} CUDA GPU(s)")


def _gpu_count() -> int:
    """The GPUs of this machine (the engine uses one of them; set_device checks against all)."""
    if not cuda_available():
        return 0
    from numba import cuda
    try:
        return max(len(cuda.gpus), 1)
    except Exception:
        return 1


def manual_seed(seed):
    """No-op: GPU tensors draw from the generator ts.manual_seed seeds."""


def manual_seed_all(seed):
    """No-op: GPU tensors draw from the generator ts.manual_seed seeds."""


def get_rng_state(device="cuda"):
    """The state of the generator GPU tensors draw from: the global one (ts.get_rng_state())."""
    if not cuda_available():
        raise RuntimeError("ts.cuda.get_rng_state(): no CUDA GPU is available")
    return random.get_rng_state()


def get_rng_state_all():
    """One state per GPU ([] without one, as torch's)."""
    return [get_rng_state()] if cuda_available() else []


def set_rng_state(new_state, device="cuda"):
    """Restores the global generator (GPU tensors draw from it); without a GPU nothing changes,
    as torch's call is deferred until CUDA starts, which it never does then."""
    if cuda_available():
        random.set_rng_state(new_state)


def set_rng_state_all(new_states):
    for state in new_states:
        set_rng_state(state)


def synchronize(device=None):
    if not cuda_available():   # torch's AssertionError on a machine without CUDA
        raise AssertionError("ts.cuda.synchronize(): no CUDA GPU is available")
    from numba import cuda
    cuda.synchronize()


def is_bf16_supported(including_emulation=True):
    """False: bfloat16 tensors do not exist here (ts.bfloat16 is a name only)."""
    return False


def empty_cache():
    """No-op: numba frees device arrays when their last reference goes."""


def __getattr__(name):
    from tinygrad_seq.missing import _message
    alternative = "float32 throughout" if name == "amp" else None
    raise AttributeError(_message("torch.cuda", name, alternative))


# torch.cuda.amp's names (deprecated in torch for torch.amp, with their own argument order)
amp = __import__("tinygrad_seq.cuda_amp", fromlist=["cuda_amp"])
__import__("sys").modules[__name__ + ".amp"] = amp   # from torch.cuda.amp import GradScaler
