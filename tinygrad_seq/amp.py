"""torch.amp's names for programs that keep them (often with enabled=False): autocast and
GradScaler (grad_scaler.py, torch's loss scaling). There is no reduced-precision compute here
(no bfloat16; float16 only as a storage dtype), so autocast runs its block in the tensors' own
dtypes (warning once when asked to enable)."""
import warnings

from tinygrad_seq.grad_scaler import GradScaler

__all__ = ["GradScaler", "autocast", "custom_fwd", "custom_bwd", "is_autocast_available"]
_warned = set()


class autocast:
    """Context manager and decorator: the block runs unchanged."""

    def __init__(self, device_type="cuda", dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.device_type, self.fast_dtype, self._enabled = device_type, dtype, bool(enabled)
        if self._enabled and "autocast" not in _warned:
            _warned.add("autocast")
            warnings.warn("tinygrad_seq has no mixed precision: autocast runs the block in the tensors' own "
                          "dtypes (float32 stays float32)", UserWarning,
                          stacklevel=2 if type(self) is autocast else 3)   # torch.cuda/cpu.amp's: one frame more

    def __enter__(self):
        # torch's autocast state (is_autocast_enabled / get_autocast_dtype) reads as inside the
        # block, though nothing is cast here
        from tinygrad_seq import autocast_state as state
        device = state._device_type(self.device_type)
        self._outer = (device, state._enabled.get(device), state._dtype.get(device))
        dtype = self.fast_dtype if self.fast_dtype is not None else state.get_autocast_dtype(device)
        from tinygrad_seq import cuda, dtypes
        # torch turns the block off without CUDA, or on the CPU for a dtype other than bf16 / fp16
        usable = cuda.is_available() if device == "cuda" else (
            device != "cpu" or dtype in (dtypes.bfloat16, dtypes.float16))
        state._enabled[device] = self._enabled and usable
        if self.fast_dtype is not None:
            state._dtype[device] = self.fast_dtype
        return self

    def __exit__(self, *exc):
        from tinygrad_seq import autocast_state as state
        device, enabled, dtype = self._outer
        for table, value in ((state._enabled, enabled), (state._dtype, dtype)):
            if value is None:
                table.pop(device, None)
            else:
                table[device] = value
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def run(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)
        return run


_matmul_precision = "highest"


def set_float32_matmul_precision(precision):
    """Accepted ('highest', 'high', 'medium'); float32 products here are always full float32."""
    global _matmul_precision
    if precision not in ("highest", "high", "medium"):   # torch warns and keeps the setting
        import warnings
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
                      f"setFloat32MatmulPrecision call has no effect.", stacklevel=2)
        return
    _matmul_precision = precision


def get_float32_matmul_precision():
    return _matmul_precision


# torch's device types: is_autocast_available's error names them
_TORCH_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga",
                       "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")


def is_autocast_available(device_type):
    """torch.amp.is_autocast_available: torch's answer for each device type (True for "cpu" and
    "cuda", with or without a GPU), False for another known type; an unknown one raises."""
    if not isinstance(device_type, str):
        raise TypeError(f"_is_autocast_available(): argument 'device_type' (position 1) must be str, not "
                        f"{type(device_type).__name__}")
    kind = device_type.split(":")[0]
    if kind not in _TORCH_DEVICE_TYPES:
        raise RuntimeError(f"Expected one of {', '.join(_TORCH_DEVICE_TYPES)} device type at start of device "
                           f"string: {device_type}")
    return kind in ("cpu", "cuda", "ipu", "xpu", "maia", "xla", "mps", "hpu", "mtia", "privateuseone")


def _cast(value, device_type, dtype):
    """custom_fwd's cast_inputs: floating tensors on device_type cast to dtype, in nested
    lists / tuples / dicts too; everything else as it is."""
    from tinygrad_seq.tensor import Tensor
    if isinstance(value, Tensor):
        on_device = getattr(value.device, "type", value.device) == device_type
        return value.to(dtype) if on_device and value.is_floating_point() else value
    if isinstance(value, (list, tuple)):
        return type(value)(_cast(v, device_type, dtype) for v in value)
    if isinstance(value, dict):
        return {k: _cast(v, device_type, dtype) for k, v in value.items()}
    return value


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """torch.amp.custom_fwd: decorates a custom autograd.Function's forward. It records the
    autocast state on ctx (ctx._dtype, ctx._fwd_used_autocast) for custom_bwd; with cast_inputs,
    inside an enabled autocast region the floating inputs are cast to that dtype and forward runs
    with autocast off."""
    import functools
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)
    from tinygrad_seq import autocast_state as state

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        ctx = args[0]
        ctx._dtype = state.get_autocast_dtype(device_type)
        used = state.is_autocast_enabled(device_type)
        if cast_inputs is None:
            ctx._fwd_used_autocast = used
            return fwd(*args, **kwargs)
        ctx._fwd_used_autocast = False
        if not used:
            return fwd(*args, **kwargs)
        with autocast(device_type=device_type, enabled=False):
            return fwd(*_cast(args, device_type, cast_inputs), **_cast(kwargs, device_type, cast_inputs))
    return decorate_fwd


def custom_bwd(bwd=None, *, device_type):
    """torch.amp.custom_bwd: runs a custom Function's backward in the autocast state its forward
    ran in (recorded by custom_fwd)."""
    import functools
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        ctx = args[0]
        with autocast(device_type=device_type, enabled=ctx._fwd_used_autocast, dtype=ctx._dtype):
            return bwd(*args, **kwargs)
    return decorate_bwd
