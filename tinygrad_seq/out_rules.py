"""torch's out= rules that depend on the op, checked before it runs (functions._method):
- sum / prod without dtype= reduce in out's dtype (torch takes the result dtype from out:
  sum([1.5, 2.5], out=int64) is 1 + 2); with dtype= it must equal out's dtype;
- all / any write a bool or uint8 out only;
- topk / kthvalue / median (with a dim) refuse an out that shares memory with the input."""
import numpy as np

from tinygrad_seq.errors import DTypeMismatch

OVERLAP_MESSAGE = ("unsupported operation: some elements of the input tensor and the written-to tensor refer to a "
                   "single memory location. Please clone() the tensor before performing the operation.")
_RESULT_DTYPE_FROM_OUT = frozenset(("sum", "prod"))
_BOOL_RESULT = frozenset(("all", "any"))
_NO_OVERLAP = frozenset(("topk", "kthvalue", "median"))
RULED = _RESULT_DTYPE_FROM_OUT | _BOOL_RESULT | _NO_OVERLAP


def checked_kwargs(name, input, out, kwargs):
    """kwargs for the op given out= (dtype= filled in from out where torch takes it), after
    torch's checks on out."""
    from tinygrad_seq.tensor import Tensor
    from tinygrad_seq.tensor_matmul import scalar_name
    if name in _RESULT_DTYPE_FROM_OUT and isinstance(out, Tensor):
        dtype = kwargs.get("dtype")
        if dtype is None:
            return dict(kwargs, dtype=out.dtype)
        if np.dtype(dtype) != out.dtype:
            raise DTypeMismatch(f"Expected out tensor to have dtype {scalar_name(np.dtype(dtype))}, but got "
                                f"{scalar_name(out.dtype)} instead")
    elif name in _BOOL_RESULT and isinstance(out, Tensor) and out.dtype not in (np.bool_, np.uint8):
        raise DTypeMismatch(f"{name} only supports bool tensor for result, got: {scalar_name(out.dtype)}")
    elif name in _NO_OVERLAP and isinstance(input, Tensor) and input.device == "cpu":
        for o in (out if isinstance(out, (tuple, list)) else (out,)):
            if isinstance(o, Tensor) and o.device == "cpu" and np.may_share_memory(o.array, input.array):
                raise RuntimeError(OVERLAP_MESSAGE)
    return kwargs
