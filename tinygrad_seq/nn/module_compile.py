"""nn.Module.compile (torch 2.2+): compile the module in place and return None.

The fused recurrent kernels are already compiled by Numba and the rest runs as written, so the
module's calls stay as they are (no wrapper: ts.compile(model) gives torch's OptimizedModule,
Module.compile keeps the module itself). Module.compile checks its arguments as ts.compile does
(keyword-only: fullgraph, dynamic, backend, mode, options, disable; a positional one is a
TypeError, as torch's)."""
from tinygrad_seq import jit as _jit


def _eager(*args, **kwargs):
    return None


class CompileMixin:
    def compile(self, *args, **kwargs):
        """torch.nn.Module.compile(*args, **kwargs) -> None; the arguments are ts.compile's."""
        if args:
            raise TypeError(f"compile() takes from 0 to 1 positional arguments but {len(args) + 1} were given")
        _jit.compile(_eager, **kwargs)   # its keyword check (a function comes back as it is)
        return None
