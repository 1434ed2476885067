"""nn.Parameter: a Tensor that a Module registers as a parameter (torch.nn.parameter)."""
import numpy as np

from tinygrad_seq import dtypes
from tinygrad_seq.autograd import no_grad
from tinygrad_seq.tensor import Tensor


class Parameter(Tensor):
    """A Tensor that a Module registers as a parameter; requires grad by default."""
    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        if data is None:   # torch's Parameter(): an empty float tensor
            data = np.empty((0,), dtypes.get_default_dtype())
        if isinstance(data, Tensor) and requires_grad and data.dtype.kind in "iub":
            # torch's message, word for word; the traceback also shows a note for nn.Parameter(torch.Tensor(20)),
            # a hand-written cell's idiom (torch's legacy Tensor(size); here ts.Tensor(20) is data, API.md)
            error = RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
            error.add_note(f"nn.Parameter got a {data.dtype} tensor of shape {tuple(data.shape)}: ts.Tensor(n) and "
                           f"ts.Tensor([ints]) hold integer data (API.md), not torch's legacy torch.Tensor(size); "
                           f"for n uninitialised floats write nn.Parameter(ts.empty(n)) (ts.Tensor(n, m): two sizes)")
            raise error
        if isinstance(data, Tensor):
            # its dtype kept (Tensor() of integer data would make it int64), its memory shared
            Tensor.__init__(self, data.numpy(), requires_grad=requires_grad, device=data.device, dtype=data.dtype)
            if data.is_inference():   # the same memory: an inference tensor still
                self.requires_grad = False
                self._inference = True
                self.requires_grad_(requires_grad)
        else:   # a user's array (torch takes only tensors): copied, as Tensor(array) copies
            Tensor.__init__(self, np.array(data, copy=True) if isinstance(data, np.ndarray) else data,
                            requires_grad=requires_grad)
        if self.dtype.kind != "f" and requires_grad:   # an integer one that does not require grad is torch's too
            raise TypeError(f"Parameter: only floating point data can require gradients, got {self.dtype}")

    def __repr__(self):
        return "Parameter containing:\n" + Tensor.__repr__(self)

    def __deepcopy__(self, memo):
        """A copy of the data and requires_grad, without .grad, as torch's Parameter."""
        if id(self) in memo:
            return memo[id(self)]
        out = Tensor.__deepcopy__(self, memo)
        out.grad = None
        return out


def empty_parameter(shape, dtype=None):
    """A Parameter of the given shape and dtype (default: the default dtype) whose values a
    layer's reset_parameters() then writes, as torch's layers make theirs (torch.empty, then
    reset_parameters)."""
    return Parameter(np.zeros(shape, np.dtype(dtype or dtypes.get_default_dtype())))


def fill_parameter(param, host):
    """Writes host (an array, drawn in float64) into param in place, cast to its dtype, on its
    device: what reset_parameters does, so that references to the parameter (an optimizer's)
    see the new values."""
    with no_grad():
        param.copy_(np.asarray(host).astype(param.dtype))
    return param


# torch.nn.parameter's other names (`nn.parameter.UninitializedParameter` in isinstance checks)
from tinygrad_seq.nn.buffer import Buffer  # noqa: E402,F401
from tinygrad_seq.nn.lazy_parameter import UninitializedBuffer, UninitializedParameter, is_lazy  # noqa: E402,F401
