"""torch's autocast state functions (set_autocast_enabled / is_autocast_enabled,
set_autocast_dtype / get_autocast_dtype, the cache flag, the nesting counter and the deprecated
cpu / gpu forms): the per-device flags and dtypes they set and read, with torch's defaults (off;
bfloat16 on cpu, float16 elsewhere). Nothing is cast here (amp.py): a program that sets a flag
reads it back, and a ts.autocast block sets its device's flag and dtype while it runs, as torch's."""
import warnings

from tinygrad_seq import dtypes

# torch's device types (its error lists them); autocast state is kept for any of them
_DEVICE_TYPES = ("cpu cuda ipu xpu mkldnn opengl opencl ideep hip ve fpga maia xla lazy vulkan mps meta hpu mtia "
                 "privateuseone").split()
_enabled = {}
_dtype = {}
_cache_enabled = [True]
_nesting = [0]


def _device_type(device_type):
    if not isinstance(device_type, str):
        raise TypeError(f"device_type must be a str, got {type(device_type).__name__}")
    if device_type not in _DEVICE_TYPES:
        raise RuntimeError(f"Expected one of {', '.join(_DEVICE_TYPES)} device type at start of device string: "
                           f"{device_type}")
    return device_type


def _deprecated(old, new):
    warnings.warn(f"torch.{old}() is deprecated. Please use torch.{new} instead.", DeprecationWarning, stacklevel=3)


def set_autocast_enabled(device_type, enabled=None):
    """set_autocast_enabled(device_type, enabled), or the older set_autocast_enabled(enabled) (cuda)."""
    if enabled is None:
        device_type, enabled = "cuda", device_type
    _enabled[_device_type(device_type)] = bool(enabled)


def is_autocast_enabled(device_type=None):
    return _enabled.get("cuda" if device_type is None else _device_type(device_type), False)


def set_autocast_dtype(device_type, dtype):
    _dtype[_device_type(device_type)] = dtype


def get_autocast_dtype(device_type):
    device_type = _device_type(device_type)
    return _dtype.get(device_type, dtypes.bfloat16 if device_type == "cpu" else dtypes.float16)


def set_autocast_cache_enabled(enabled):
    _cache_enabled[0] = bool(enabled)


def is_autocast_cache_enabled():
    return _cache_enabled[0]


def autocast_increment_nesting():
    _nesting[0] += 1
    return _nesting[0]


def autocast_decrement_nesting():
    _nesting[0] -= 1
    return _nesting[0]


def set_autocast_cpu_enabled(enabled):
    _deprecated("set_autocast_cpu_enabled", "set_autocast_enabled('cpu', enabled)")
    _enabled["cpu"] = bool(enabled)


def is_autocast_cpu_enabled():
    _deprecated("is_autocast_cpu_enabled", "is_autocast_enabled('cpu')")
    return is_autocast_enabled("cpu")


def set_autocast_cpu_dtype(dtype):
    _deprecated("set_autocast_cpu_dtype", "set_autocast_dtype('cpu', dtype)")
    _dtype["cpu"] = dtype


def get_autocast_cpu_dtype():
    _deprecated("get_autocast_cpu_dtype", "get_autocast_dtype('cpu')")
    return get_autocast_dtype("cpu")


def set_autocast_gpu_dtype(dtype):
    _deprecated("set_autocast_gpu_dtype", "set_autocast_dtype('cuda', dtype)")
    _dtype["cuda"] = dtype


def get_autocast_gpu_dtype():
    _deprecated("get_autocast_gpu_dtype", "get_autocast_dtype('cuda')")
    return get_autocast_dtype("cuda")


FUNCTIONS = {name: globals()[name] for name in (
    "set_autocast_enabled is_autocast_enabled set_autocast_dtype get_autocast_dtype set_autocast_cache_enabled "
    "is_autocast_cache_enabled autocast_increment_nesting autocast_decrement_nesting set_autocast_cpu_enabled "
    "is_autocast_cpu_enabled set_autocast_cpu_dtype get_autocast_cpu_dtype set_autocast_gpu_dtype "
    "get_autocast_gpu_dtype").split()}
