"""torch.accelerator: the device-neutral way current torch code picks its device
(`torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"`).
The one accelerator here is "cuda" (a GPU, or Numba's simulator)."""
from tinygrad_seq.device import Device, cuda_available


def is_available():
    return cuda_available()


def current_accelerator(check_available=False):
    """The "cuda" device when a GPU can be used, else None (torch's CPU build gives None)."""
    return Device("cuda", 0) if cuda_available() else None


def device_count():
    return 1 if cuda_available() else 0


def current_device_index():
    return 0 if cuda_available() else -1


def set_device_index(device):
    index = getattr(device, "index", device)
    if index not in (None, 0, -1):
        raise ValueError(f"tinygrad_seq uses one GPU (index 0), got {device!r}")


set_device_idx, current_device_idx = set_device_index, current_device_index


def synchronize(device=None):
    if cuda_available():
        from numba import cuda
        cuda.synchronize()
