"""nn.Module.compile (torch 2.2+): compile the module in place and return None.

ts.compile (jit.compile) gives back the model itself, its calls unchanged: the fused recurrent
kernels are already compiled by Numba. So Module.compile checks its arguments as ts.compile does
(keyword-only: fullgraph, dynamic, backend, mode, options, disable; a positional one is a
TypeError, as torch's); later calls of the module go through the same path a ts.compile'd
module's do."""
from tinygrad_seq import jit as _jit


class CompileMixin:
    def compile(self, *args, **kwargs):
        """torch.nn.Module.compile(*args, **kwargs) -> None; the arguments are ts.compile's."""
        if args:
            raise TypeError(f"compile() takes from 0 to 1 positional arguments but {len(args) + 1} were given")
        # ts.compile(model) is the model: the module's own calls are its compiled calls (no
        # wrapper kept, so no reference cycle through the module)
        if _jit.compile(self, **kwargs) is not self:
            raise RuntimeError("ts.compile returned a wrapper: Module.compile expects the model itself")
        return None
