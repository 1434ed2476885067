"""Binary functions torch takes with a Tensor second operand only (no number form; a number is
its TypeError), computed on the host without gradients (torch defines none): gcd and lcm of
integer tensors (the operands promote by tensor_math._promote: int32 with a 0-d int64 stays int32;
float and bool tensors have no kernel, NotImplementedError naming it), and heaviside."""
import numpy as np

from tinygrad_seq import device as _device
from tinygrad_seq.argument_types import require_tensor_argument
from tinygrad_seq.broadcast_errors import torch_broadcast_errors
from tinygrad_seq.tensor_matmul import scalar_name


def _host_result(self, out):
    """out (a host array of the result's dtype) as a tensor on self's device; 0-d stays 0-d."""
    return self._wrap(_device.backend(self.device).asarray(np.array(out, order="C")), self.device)


def _integer_binary(name, numpy_fn):
    @torch_broadcast_errors
    def method(self, other):
        require_tensor_argument(other, name, "other", 1)
        a, b = self, self._other(other)   # (_other checks the devices)
        if a.dtype != b.dtype:
            from tinygrad_seq.tensor_math import _promote   # (tensor_math imports modules that import this)
            a, b = _promote(a, b)
        if a.dtype.kind not in "iu":
            raise NotImplementedError(f'"{name}_cpu" not implemented for \'{scalar_name(a.dtype)}\'')
        return _host_result(self, np.asarray(numpy_fn(a.numpy(), b.numpy()), dtype=a.dtype))
    method.__name__ = name
    return method


gcd = _integer_binary("gcd", np.gcd)
lcm = _integer_binary("lcm", np.lcm)


@torch_broadcast_errors
def heaviside(self, values):
    """values where self is 0, else 1 where self > 0 and 0 elsewhere (nan too: np.heaviside's nan
    is not torch's), in self's dtype; values must have it (torch promotes none)."""
    require_tensor_argument(values, "heaviside", "values", 1)
    v = self._other(values)
    if v.dtype != self.dtype:
        raise RuntimeError(f"heaviside is not yet implemented for tensors with different dtypes "
                           f"({self.dtype} and {v.dtype})")
    x, y = self.numpy(), v.numpy()
    return _host_result(self, np.where(x == 0, y, x > 0).astype(x.dtype))
