"""torch.amp's names for programs that keep them (often with enabled=False): autocast and
GradScaler. There is no reduced-precision compute here (no bfloat16; float16 only as a storage
dtype), so autocast runs its block in the tensors' own dtypes (warning once when asked to
enable) and GradScaler's scale is 1: scale(loss) is loss, step(opt) is opt.step() and a step
with an inf/nan gradient is skipped, as torch's scaler skips it."""
import warnings

import numpy as np

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


class GradScaler:
    """torch.amp.GradScaler with scale 1 (see the module note), and torch's bookkeeping: unscale_
    once per optimizer and step once between update()s (RuntimeError otherwise), growth / backoff
    settings kept and saved; device "cuda" without CUDA: disabled, with torch's warning."""

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        self._device, self._enabled = device, bool(enabled)
        if device == "cuda" and self._enabled:
            from tinygrad_seq import cuda
            if not cuda.is_available():
                warnings.warn("torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.",
                              UserWarning, stacklevel=2)
                self._enabled = False
        if self._enabled:
            if growth_factor <= 1.0:
                raise AssertionError("The growth factor must be > 1.0.")
            if backoff_factor >= 1.0:
                raise AssertionError("The backoff factor must be < 1.0.")
        self._init_scale, self._growth_factor = init_scale, growth_factor
        self._backoff_factor, self._growth_interval = backoff_factor, growth_interval
        self._found_inf = False
        # id(optimizer) -> (stage, found_inf) since the last update(); stage "unscaled" or "stepped"
        self._per_optimizer_states = {}

    def is_enabled(self):
        return self._enabled

    def scale(self, outputs):
        return outputs

    def unscale_(self, optimizer):
        if not self._enabled:
            return
        stage = self._per_optimizer_states.get(id(optimizer), (None,))[0]
        if stage == "unscaled":
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if stage == "stepped":
            raise RuntimeError("unscale_() is being called after step().")
        self._found_inf = any(p.grad is not None and not bool(np.isfinite(p.grad.numpy()).all())
                              for g in optimizer.param_groups for p in g["params"])
        self._per_optimizer_states[id(optimizer)] = ("unscaled", self._found_inf)

    def step(self, optimizer, *args, **kwargs):
        """optimizer.step(*args, **kwargs) unless a gradient is inf / nan (the step is skipped)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        if self._per_optimizer_states.get(id(optimizer), (None,))[0] == "stepped":
            raise RuntimeError("step() has already been called since the last update().")
        if id(optimizer) not in self._per_optimizer_states:
            self.unscale_(optimizer)
        found_inf = self._per_optimizer_states[id(optimizer)][1]
        retval = None if found_inf else optimizer.step(*args, **kwargs)
        self._per_optimizer_states[id(optimizer)] = ("stepped", found_inf)
        return retval

    def update(self, new_scale=None):
        """Starts the next iteration (the scale stays 1)."""
        if not self._enabled:
            return
        self._found_inf = False
        self._per_optimizer_states = {}

    def get_scale(self):
        return 1.0

    def get_growth_factor(self):
        return self._growth_factor

    def set_growth_factor(self, new_factor):
        self._growth_factor = new_factor

    def get_backoff_factor(self):
        return self._backoff_factor

    def set_backoff_factor(self, new_factor):
        self._backoff_factor = new_factor

    def get_growth_interval(self):
        return self._growth_interval

    def set_growth_interval(self, new_interval):
        self._growth_interval = new_interval

    def state_dict(self):
        return {"scale": 1.0, "growth_factor": self._growth_factor, "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval, "_growth_tracker": 0} if self._enabled else {}

    def load_state_dict(self, state_dict):
        """A saved scaler's (or a torch scaler's) growth settings; the scale here is always 1."""
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._init_scale = state_dict["scale"]
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]


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
