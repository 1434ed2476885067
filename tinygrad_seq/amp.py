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
                          "dtypes (float32 stays float32)", UserWarning, stacklevel=2)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def run(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)
        return run


class GradScaler:
    """torch.amp.GradScaler with scale 1 (see the module note)."""

    def __init__(self, device="cuda", init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        self._enabled = bool(enabled)
        self._found_inf = False

    def is_enabled(self):
        return self._enabled

    def scale(self, outputs):
        return outputs

    def unscale_(self, optimizer):
        self._found_inf = any(p.grad is not None and not bool(np.isfinite(p.grad.numpy()).all())
                              for g in optimizer.param_groups for p in g["params"])

    def step(self, optimizer, *args, **kwargs):
        if self._enabled:
            self.unscale_(optimizer)
            if self._found_inf:
                return None
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None):
        self._found_inf = False

    def get_scale(self):
        return 1.0

    def state_dict(self):
        return {"scale": 1.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 2000,
                "_growth_tracker": 0} if self._enabled else {}

    def load_state_dict(self, state_dict):
        """Accepted (a torch scaler's state too): the scale here is always 1, so there is nothing
        to restore."""


_matmul_precision = "highest"


def set_float32_matmul_precision(precision):
    """Accepted ('highest', 'high', 'medium'); float32 products here are always full float32."""
    global _matmul_precision
    if precision not in ("highest", "high", "medium"):
        raise RuntimeError(f"Invalid precision {precision!r}: expected 'highest', 'high' or 'medium'")
    _matmul_precision = precision


def get_float32_matmul_precision():
    return _matmul_precision
