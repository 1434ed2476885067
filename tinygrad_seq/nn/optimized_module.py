"""What torch.compile(module) returns: torch's OptimizedModule, the module wrapped as `_orig_mod`,
so its state_dict keys are `_orig_mod.<name>` as torch's (checkpoints of a compiled model move both
ways); calling it runs the module as written (jit.compile); any other attribute is the module's."""
from tinygrad_seq.nn.module import Module


class OptimizedModule(Module):
    def __init__(self, mod):
        super().__init__()
        self._orig_mod = mod

    def forward(self, *args, **kwargs):
        return self._orig_mod(*args, **kwargs)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            orig = self.__dict__.get("_modules", {}).get("_orig_mod")
            if orig is None:
                raise
            return getattr(orig, name)
