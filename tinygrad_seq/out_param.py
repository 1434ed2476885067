"""torch's out= for the functions of torch.linalg and torch.special: the result is computed as
without out=, then written into out by the rule of the top-level functions (functions._into:
out resized to the result's shape, an error where the result requires grad) and out returned.
torch.linalg's kernels also insist on out having the result's dtype; torch.special's cast to it
where torch's casting rule allows. A tuple result (qr, slogdet, ...) is written into a tuple of
tensors, one each, and returned as the same named tuple."""
import functools

from tinygrad_seq.tensor import Tensor
from tinygrad_seq.tensor_matmul import scalar_name


def write_out(name, out, result, same_dtype):
    """result (a Tensor or a tuple of them) written into out; same_dtype: torch.linalg's rule."""
    from tinygrad_seq.functions import _into
    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result) or \
                not all(isinstance(o, Tensor) for o in out):
            raise TypeError(f"{name}(): argument 'out' must be tuple of {len(result)} Tensors")
        return type(result)(*(write_out(name, o, r, same_dtype) for o, r in zip(out, result)))
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if same_dtype and out.dtype != result.dtype:
        raise RuntimeError(f"Expected out tensor to have dtype {scalar_name(result.dtype).lower()}, but got "
                           f"{scalar_name(out.dtype).lower()} instead")
    return _into(out, result, name)


def takes_out(same_dtype):
    """Decorator: fn gets a keyword-only out=None, written by write_out."""
    def wrap(fn):
        @functools.wraps(fn)
        def with_out(*args, out=None, **kwargs):
            result = fn(*args, **kwargs)
            return result if out is None else write_out(with_out.__name__, out, result, same_dtype)
        return with_out
    return wrap
