"""torch.amp.GradScaler, as torch's: scale(loss) multiplies by the scale (a float32 0-d tensor,
init_scale at the first scale()), unscale_ multiplies the optimizer's gradients by its float32
reciprocal in place and notes whether one is inf / nan, step skips optimizer.step() after a
non-finite gradient, and update() backs the scale off after a skipped step or grows it after
growth_interval good ones (torch's _amp_update_scale_). Scales are powers of two by default, so
the scaled and unscaled gradients and the parameters after a step equal an unscaled run's; the
logged scaled losses, get_scale() and the state_dict are torch's. device "cuda" without CUDA:
disabled, with torch's warning."""
import warnings

import numpy as np

_FIX = "This may indicate your script did not use scaler.scale(loss or outputs) earlier in the iteration."


class GradScaler:
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
        self._init_growth_tracker = 0
        self._scale = None            # np.float32 once scale() ran (torch's lazily made 0-d tensor)
        self._growth_tracker = None   # consecutive steps without inf / nan since the last change
        # id(optimizer) -> (stage, found_inf) since the last update(); stage "unscaled" or "stepped"
        self._per_optimizer_states = {}

    def is_enabled(self):
        return self._enabled

    def _lazy_init(self):
        if self._scale is None:
            self._scale = np.float32(self._init_scale)
            self._growth_tracker = int(self._init_growth_tracker)

    def _check(self, funcname):
        if self._scale is None:
            raise AssertionError(f"Attempted {funcname} but _scale is None.  " + _FIX)

    def scale(self, outputs):
        """outputs times the scale: a tensor, or the tensors in (nested) lists / tuples / iterables."""
        if not self._enabled:
            return outputs
        from tinygrad_seq.tensor import Tensor
        self._lazy_init()
        if isinstance(outputs, Tensor):
            return outputs * outputs.new_tensor(self._scale, dtype=np.float32)
        if isinstance(outputs, (list, tuple)):
            scaled = [self.scale(v) for v in outputs]
            return type(outputs)(scaled) if isinstance(outputs, list) else tuple(scaled)
        if hasattr(outputs, "__iter__"):
            return map(self.scale, outputs)
        raise ValueError("outputs must be a Tensor or an iterable of Tensors")

    def unscale_(self, optimizer):
        if not self._enabled:
            return
        self._check("unscale_")
        stage = self._per_optimizer_states.get(id(optimizer), (None,))[0]
        if stage == "unscaled":
            raise RuntimeError("unscale_() has already been called on this optimizer since the last update().")
        if stage == "stepped":
            raise RuntimeError("unscale_() is being called after step().")
        inv_scale = np.float32(1.0 / np.float64(self._scale))   # torch's double reciprocal, as float32
        found_inf = False
        from tinygrad_seq.grad_mode import no_grad
        with no_grad():
            for group in optimizer.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    if p.grad.dtype == np.float16:
                        raise ValueError("Attempting to unscale FP16 gradients.")
                    found_inf = found_inf or not bool(np.isfinite(p.grad.numpy()).all())
                    p.grad.mul_(float(inv_scale))
        self._per_optimizer_states[id(optimizer)] = ("unscaled", found_inf)

    def step(self, optimizer, *args, **kwargs):
        """optimizer.step(*args, **kwargs) unless a gradient is inf / nan (the step is skipped)."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("Closure use is not currently supported if GradScaler is enabled.")
        self._check("step")
        if self._per_optimizer_states.get(id(optimizer), (None,))[0] == "stepped":
            raise RuntimeError("step() has already been called since the last update().")
        if id(optimizer) not in self._per_optimizer_states:
            self.unscale_(optimizer)
        found_inf = self._per_optimizer_states[id(optimizer)][1]
        retval = None if found_inf else optimizer.step(*args, **kwargs)
        self._per_optimizer_states[id(optimizer)] = ("stepped", found_inf)
        return retval

    def update(self, new_scale=None):
        """The next iteration's scale: new_scale, or torch's backoff / growth rule."""
        if not self._enabled:
            return
        self._check("update")
        if new_scale is not None:
            if isinstance(new_scale, float):
                self._scale = np.float32(new_scale)
            else:
                reason = ("new_scale should be a float or a 1-element torch.cuda.FloatTensor or "
                          "torch.FloatTensor with requires_grad=False.")
                if new_scale.numel() != 1 or new_scale.requires_grad:
                    raise AssertionError(reason)
                self._scale = np.float32(new_scale.item())
        else:
            if not self._per_optimizer_states:
                raise AssertionError("No inf checks were recorded prior to update.")
            if any(found for _, found in self._per_optimizer_states.values()):
                self._scale, self._growth_tracker = np.float32(self._scale * np.float32(self._backoff_factor)), 0
            else:
                self._growth_tracker += 1
                if self._growth_tracker == self._growth_interval:
                    grown = np.float32(self._scale * np.float32(self._growth_factor))
                    self._scale = grown if np.isfinite(grown) else self._scale
                    self._growth_tracker = 0
        self._per_optimizer_states = {}

    def get_scale(self):
        if not self._enabled:
            return 1.0
        return self._init_scale if self._scale is None else float(self._scale)

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

    def _get_growth_tracker(self):
        if not self._enabled:
            return 0
        return self._init_growth_tracker if self._growth_tracker is None else self._growth_tracker

    def state_dict(self):
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor, "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval, "_growth_tracker": self._get_growth_tracker()}

    def load_state_dict(self, state_dict):
        """A saved scaler's (or a torch scaler's) scale, growth tracker and settings."""
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._init_scale = state_dict["scale"]
        if self._scale is not None:
            self._scale = np.float32(state_dict["scale"])
        self._growth_factor = state_dict["growth_factor"]
        self._backoff_factor = state_dict["backoff_factor"]
        self._growth_interval = state_dict["growth_interval"]
        self._init_growth_tracker = state_dict["_growth_tracker"]
        if self._growth_tracker is not None:
            self._growth_tracker = int(state_dict["_growth_tracker"])
