"""What torch.compile(module) returns: torch's OptimizedModule, the module wrapped as `_orig_mod`,
so its state_dict keys are `_orig_mod.<name>` as torch's (checkpoints of a compiled model move both
ways); calling it runs the module as written (jit.compile). As torch's, every other attribute is
the module's: read, written (a new head, a replaced weight), deleted, `training`, and the dotted
paths of get_submodule / get_parameter / get_buffer."""
from tinygrad_seq.nn.module import Module

_OWN = frozenset(("_orig_mod", "forward", "_forward"))   # torch's _opt_mod_attributes that matter here


class OptimizedModule(Module):
    def __init__(self, mod):
        super().__init__()
        self._orig_mod = mod
        self.__dict__["_wrapping"] = True   # from here on attributes are the module's

    def forward(self, *args, **kwargs):
        return self._orig_mod(*args, **kwargs)

    def _orig(self):
        return self.__dict__.get("_modules", {}).get("_orig_mod")

    @property
    def training(self):
        orig = self._orig()
        return self.__dict__.get("_training", True) if orig is None else orig.training

    @training.setter
    def training(self, mode):
        orig = self._orig()
        if orig is None:
            self.__dict__["_training"] = mode
        else:
            orig.training = mode

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            orig = self._orig()
            if orig is None:
                raise
            return getattr(orig, name)

    def __setattr__(self, name, value):
        if name in _OWN or "_wrapping" not in self.__dict__ or hasattr(type(self), name):
            super().__setattr__(name, value)
        else:
            setattr(self._orig_mod, name, value)

    def __delattr__(self, name):
        if name in _OWN or hasattr(type(self), name) or name in self.__dict__:
            super().__delattr__(name)
        else:
            delattr(self._orig_mod, name)

    def _own_path(self, target):
        return target.split(".")[0] in self._modules

    def get_submodule(self, target):
        return super().get_submodule(target) if not target or self._own_path(target) else \
            self._orig_mod.get_submodule(target)

    def get_parameter(self, target):
        return super().get_parameter(target) if self._own_path(target) else self._orig_mod.get_parameter(target)

    def get_buffer(self, target):
        return super().get_buffer(target) if self._own_path(target) else self._orig_mod.get_buffer(target)
