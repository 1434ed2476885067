"""The argument rules of addcmul / addcdiv (tensor_more.py): torch's deprecated overload with the
value first, and its refusal of an integer addcdiv."""
import warnings

import numpy as np

from tinygrad_seq.internal_overlap import check_no_partial_overlap


def value_first(name, tensor1, tensor2, value):
    """(tensor1, tensor2, value) of torch's deprecated overload addcdiv(value, tensor1, tensor2)
    (and addcmul's), which positionally lands here as tensor1=value, tensor2=tensor1,
    value=tensor2; the modern call passes through."""
    if isinstance(tensor1, (bool, int, float, np.number)) and hasattr(value, "dtype") and hasattr(tensor2, "dtype"):
        warnings.warn(f"This overload of {name} is deprecated:\n\t{name}(Number value, Tensor tensor1, Tensor "
                      f"tensor2)\nConsider using one of the following signatures instead:\n\t{name}(Tensor "
                      f"tensor1, Tensor tensor2, *, Number value = 1)", UserWarning, stacklevel=3)
        return tensor2, value, tensor1
    return tensor1, tensor2, value


def no_integer_addcdiv(tensor1, tensor2):
    """torch's RuntimeError for addcdiv of two integer (or bool) tensors (its words, double space
    included)."""
    if all(getattr(t, "dtype", np.dtype(np.float32)).kind in "iub" for t in (tensor1, tensor2)):
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future  release addcdiv "
                           "will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can "
                           "be implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for "
                           "integer inputs and as (input + value * tensor1 / tensor2) for float inputs. The future "
                           "addcdiv behavior is just the latter implementation: (input + value * tensor1 / tensor2), "
                           "for all dtypes.")


def no_bool_addcmul(self, tensor1, tensor2):
    """torch's NotImplementedError for an addcmul of three bool tensors (its kernel has no bool;
    one non-bool operand promotes, and shapes that do not broadcast raise their error first)."""
    if all(getattr(t, "dtype", None) == np.bool_ for t in (self, tensor1, tensor2)):
        try:
            np.broadcast_shapes(self.shape, tensor1.shape, tensor2.shape)
        except ValueError:
            return
        raise NotImplementedError('"addcmul_cpu_out" not implemented for \'Bool\'')


def check_inplace_operands(self, tensor1, tensor2):
    """addcmul_ / addcdiv_: torch's RuntimeError when tensor1 or tensor2 is part of self
    (x[1:].addcmul_(x[:-1], y)); self itself is allowed (x.addcmul_(x, x))."""
    for operand in (tensor1, tensor2):
        check_no_partial_overlap(self, operand)
