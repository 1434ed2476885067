"""torch.cuda.amp's and torch.cpu.amp's names, deprecated in torch for torch.amp and with their
own argument order (autocast(enabled, dtype, cache_enabled); GradScaler(init_scale, ...)): thin
subclasses of amp.py's classes, reachable as ts.cuda.amp and ts.cpu.amp. Each construction gives
torch 2.13's FutureWarning (torch.amp.autocast("cuda") / torch.amp.GradScaler("cuda") give none)."""
import warnings

from tinygrad_seq import amp as _amp


def _deprecated(device, prefix):
    """torch.<device>.amp's autocast and GradScaler: torch.amp's, with its FutureWarning; named
    <prefix>autocast / <prefix>GradScaler here (their names in this module, for pickle)."""
    class autocast(_amp.autocast):
        __doc__ = f"torch.{device}.amp.autocast(enabled, dtype, cache_enabled): torch.amp.autocast('{device}', ...)."

        def __init__(self, enabled=True, dtype=None, cache_enabled=True):
            warnings.warn(f"`torch.{device}.amp.autocast(args...)` is deprecated. "
                          f"Please use `torch.amp.autocast('{device}', args...)` instead.", FutureWarning, stacklevel=2)
            super().__init__(device, dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)

    class GradScaler(_amp.GradScaler):
        __doc__ = f"torch.{device}.amp.GradScaler(init_scale, ...): torch.amp.GradScaler('{device}', ...)."

        def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                     enabled=True):
            warnings.warn(f"`torch.{device}.amp.GradScaler(args...)` is deprecated. "
                          f"Please use `torch.amp.GradScaler('{device}', args...)` instead.", FutureWarning,
                          stacklevel=2)
            super().__init__(device, init_scale, growth_factor, backoff_factor, growth_interval, enabled)

    for cls in (autocast, GradScaler):
        cls.__name__ = cls.__qualname__ = prefix + cls.__name__
    return autocast, GradScaler


autocast, GradScaler = _deprecated("cuda", "")              # torch.cuda.amp
cpu_autocast, cpu_GradScaler = _deprecated("cpu", "cpu_")   # torch.cpu.amp (device_modules.py)
