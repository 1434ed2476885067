"""ts.cuda's device queries, memory counters, events and streams (torch.cuda's names), from
numba.cuda where a GPU is present. Without one, each answers as torch's does on a machine
without CUDA: the memory counters are 0, `seed` / `is_initialized` / `stream(None)` / `device(k)`
work, and the calls that need a GPU raise AssertionError (Event / Stream a RuntimeError).

The memory counters: numba allocates and frees device arrays itself, so "allocated" and
"reserved" are both the device's used memory (total - free, all processes), and the peaks are the
largest value read by these calls since the last reset."""
import contextlib
import math

from tinygrad_seq.device import cuda_available

_peak = [0]


def _need_gpu():
    if not cuda_available():
        raise AssertionError("ts.cuda: no CUDA GPU is available (torch: 'Torch not compiled with CUDA enabled')")
    from numba import cuda
    return cuda


def _used():
    if not cuda_available():
        return 0
    free, total = _need_gpu().current_context().get_memory_info()
    used = int(total - free) if math.isfinite(total - free) else 0   # Numba's simulator: inf
    _peak[0] = max(_peak[0], used)
    return used


def memory_allocated(device=None):
    return _used()


def memory_reserved(device=None):
    return _used()


def max_memory_allocated(device=None):
    _used()
    return _peak[0]


max_memory_reserved = max_memory_allocated


def reset_peak_memory_stats(device=None):
    _peak[0] = 0


reset_max_memory_allocated = reset_peak_memory_stats


def memory_stats(device=None):
    if not cuda_available():
        return {}
    used = _used()
    return {"allocated_bytes.all.current": used, "allocated_bytes.all.peak": _peak[0],
            "reserved_bytes.all.current": used, "reserved_bytes.all.peak": _peak[0]}


def memory_summary(device=None, abbreviated=False):
    stats = memory_stats(device)
    return "\n".join(f"{k}: {v}" for k, v in stats.items()) or "No CUDA GPU: no memory in use."


def mem_get_info(device=None):
    """(free, total) bytes of the device."""
    return tuple(_need_gpu().current_context().get_memory_info())


def seed():
    """No-op: GPU tensors draw from the generator ts.seed / ts.manual_seed set."""


seed_all = seed


def initial_seed():
    _need_gpu()
    from tinygrad_seq.random import initial_seed as host_initial_seed
    return host_initial_seed()


def is_initialized():
    return cuda_available()


def ipc_collect():
    _need_gpu()


def set_per_process_memory_fraction(fraction, device=None):
    """Accepted and not enforced: numba allocates on the device as arrays are made."""
    _need_gpu()
    if not 0 <= fraction <= 1:
        raise ValueError(f"Invalid fraction value: {fraction}. Allowed range: 0~1")


class _Properties:
    def __init__(self, dev, total):
        name = getattr(dev, "name", b"Numba CUDA simulator")   # the simulator's device has none
        self.name = name.decode() if isinstance(name, bytes) else str(name)
        self.major, self.minor = getattr(dev, "compute_capability", (0, 0))
        self.total_memory = int(total) if math.isfinite(total) else 0
        self.multi_processor_count = getattr(dev, "MULTIPROCESSOR_COUNT", 0)

    def __repr__(self):
        return (f"_CudaDeviceProperties(name='{self.name}', major={self.major}, minor={self.minor}, "
                f"total_memory={self.total_memory // 2 ** 20}MB, multi_processor_count={self.multi_processor_count})")


def get_device_properties(device=None):
    cuda = _need_gpu()
    return _Properties(cuda.get_current_device(), cuda.current_context().get_memory_info()[1])


def get_device_name(device=None):
    return get_device_properties(device).name


def get_device_capability(device=None):
    props = get_device_properties(device)
    return props.major, props.minor


class Event:
    """A CUDA event (numba's): record, synchronize, query, elapsed_time in ms."""
    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        if not cuda_available():
            raise RuntimeError("Tried to instantiate dummy base class Event")
        from numba import cuda
        try:
            self._event = cuda.event(timing=enable_timing)
        except TypeError:   # the simulator's event() takes no arguments
            self._event = cuda.event()

    def record(self, stream=None):
        self._event.record()

    def synchronize(self):
        self._event.synchronize()

    def wait(self, stream=None):
        self._event.synchronize()

    def query(self):
        query = getattr(self._event, "query", None)   # the simulator's event has none
        return True if query is None else query()

    def elapsed_time(self, end_event):
        return self._event.elapsed_time(end_event._event)


class Stream:
    """The device's stream (the engine's kernels run on numba's default stream)."""
    def __init__(self, device=None, priority=0):
        if not cuda_available():
            raise RuntimeError("torch.cuda.Stream requires CUDA support")

    def synchronize(self):
        _need_gpu().synchronize()

    def wait_stream(self, stream):
        self.synchronize()

    def wait_event(self, event):
        event.synchronize()

    def query(self):
        return True


def current_stream(device=None):
    _need_gpu()
    return Stream()


default_stream = current_stream


@contextlib.contextmanager
def stream(stream):
    """Runs the block as it is: the kernels use one stream."""
    yield


class device:
    """with ts.cuda.device(k): checks the index (ts.cuda.set_device); the engine uses one GPU."""
    def __init__(self, device):
        self.idx = device

    def __enter__(self):
        if self.idx is not None and str(self.idx) != "-1":   # -1 (and None): no device, as torch's
            if not cuda_available():
                raise RuntimeError(f"ts.cuda.device({self.idx!r}): no CUDA GPU is available")
            from tinygrad_seq.cuda import set_device
            set_device(self.idx)
        return self

    def __exit__(self, *exc):
        return False
