"""torch's top-level names that are another form of a Tensor method: aliases (multiply,
greater, ...), the in-place functions (torch.abs_(x) is x.abs_()), torch.fill, the `*_copy` forms
of the view ops (a new tensor, never a view: torch's functionalization names), and the queries
(is_signed, get_device, is_inference). FUNCTIONS maps each name to its function;
tinygrad_seq/__init__.py puts them at the top level."""
import numpy as np

from tinygrad_seq.functions import _method

# torch.name(input, ...) is input.name(...)
SAME_AS_METHOD = (
    "multiply subtract greater greater_equal less less_equal not_equal negative_ fix_ clip_ fill_ zero_ "
    "abs_ relu_ sigmoid_ tanh_ exp_ log_ sqrt_ sin_ cos_ floor_ ceil_ round_ trunc_ frac_ neg_ reciprocal_ "
    "rsqrt_ square_ sinh_ cosh_ tan_ asin_ acos_ atan_ erf_ erfc_ exp2_ expm1_ log10_ log1p_ log2_ logit_ i0_ "
    "sinc_ deg2rad_ rad2deg_ xlogy_ gcd_ lcm_ ldexp_ clamp_ clamp_min_ clamp_max_ nan_to_num_ detach_ "
    "index_put_ put index_reduce is_inference is_signed get_device nonzero_static as_strided_ "
    "as_strided_scatter igamma igammac resize_as_ unsafe_chunk unsafe_split prelu bitwise_not "
    "bitwise_left_shift bitwise_right_shift absolute acosh_ asinh_ atanh_ arccos_ arccosh_ arcsin_ arcsinh_ "
    "arctan_ arctanh_ addmv_ conj_physical").split()


def fill(input, value):
    """A new tensor of input's shape and dtype holding value (a number or a 0-d tensor, whose
    gradient is the sum of the result's; input gets none), as torch.fill."""
    from tinygrad_seq.creation import ones
    from tinygrad_seq.functions import where
    from tinygrad_seq.tensor import Tensor
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"fill only supports 0-dimension value tensor but got tensor with "
                               f"{value.ndim} dimensions.")
        filled = value.to(dtype=input.dtype, device=input.device).expand(*input.shape)
    else:
        filled = input.detach().clone().fill_(value)
    if not input.requires_grad:
        return filled.clone()
    # where() keeps input in the graph with a zero gradient, as torch's FillBackward
    return where(ones(*input.shape, dtype=np.bool_, device=input.device), filled, input)


def _write_copy_out(name, out, result):
    """torch's out= of the *_copy functions. One tensor: out must have the result's dtype and is
    resized to its shape (write_out's linalg rule), and returned. A list (split / unbind): out a
    list of as many tensors; unbind's are resized as one tensor's, split's take their piece by
    copy_ (cast, broadcast into out's shape, never resized), as torch's; None is returned. The
    written values do not join the graph (torch's out= result has no usable grad_fn)."""
    from tinygrad_seq.out_param import write_out
    from tinygrad_seq.tensor import Tensor
    if not isinstance(result, (tuple, list)):
        return write_out(name, out, result.detach(), same_dtype=True)
    if not isinstance(out, (tuple, list)) or not all(isinstance(o, Tensor) for o in out):
        raise TypeError(f"{name}(): argument 'out' must be tuple of Tensors, not {type(out).__name__}")
    if len(out) != len(result):
        raise RuntimeError(f"{name}() expected an out= argument of size {len(result)}, got size {len(out)}")
    for o, piece in zip(out, result):
        if name.startswith("split"):
            o.copy_(piece.detach())
        else:
            write_out(name, o, piece.detach(), same_dtype=True)
    return None


def _takes_copy_out(fn):
    """fn with a keyword-only out=None written by _write_copy_out."""
    def with_out(*args, out=None, **kwargs):
        result = fn(*args, **kwargs)
        return result if out is None else _write_copy_out(with_out.__name__, out, result)
    with_out.__name__, with_out.__doc__ = fn.__name__, fn.__doc__
    return with_out


def _copy_of(view):
    """torch.<view>_copy: the view op's result as new memory (a list of them for split / unbind),
    with out=."""
    def fn(input, *args, **kwargs):
        out = getattr(input, view)(*args, **kwargs)
        if isinstance(out, (tuple, list)):
            return tuple(t.clone() for t in out)
        return out.clone()
    fn.__name__ = f"{view}_copy"
    fn.__doc__ = f"torch.{view}_copy: input.{view}(...) as a new tensor that shares no memory with input."
    return _takes_copy_out(fn)


@_takes_copy_out
def expand_copy(input, size, *, implicit=False):
    return input.expand(*size).clone()


@_takes_copy_out
def alias_copy(input):
    return input.clone()


@_takes_copy_out
def as_strided_copy(input, size, stride, storage_offset=None):
    return input.as_strided(size, stride, storage_offset)


@_takes_copy_out
def slice_copy(input, dim=0, start=None, end=None, step=1):
    """input[..., start:end:step, ...] along dim, as a new tensor (torch.slice_copy)."""
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    dim = dim + input.ndim if dim < 0 else dim
    index = (slice(None),) * dim + (slice(start, end, step),)
    return input[index].clone()


FUNCTIONS = {name: _method(name) for name in SAME_AS_METHOD}
FUNCTIONS.update({f"{view}_copy": _copy_of(view) for view in
                  ("view", "permute", "t", "transpose", "squeeze", "unsqueeze", "select", "diagonal", "split",
                   "unbind", "detach")})
FUNCTIONS.update(fill=fill, expand_copy=expand_copy, alias_copy=alias_copy, as_strided_copy=as_strided_copy,
                 slice_copy=slice_copy, narrow_copy=_takes_copy_out(_method("narrow_copy")))


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """torch.rms_norm: nn.functional.rms_norm under its top-level name."""
    from tinygrad_seq.nn.functional import rms_norm as functional_rms_norm
    return functional_rms_norm(input, normalized_shape, weight, eps)


FUNCTIONS["rms_norm"] = rms_norm


def real(input):
    """torch.real: a real tensor itself (torch returns it, not a view); the tensors here are real."""
    return input.real


def imag(input):
    """torch.imag: refused for a real tensor, with torch's RuntimeError (the tensors here are real)."""
    return input.imag


FUNCTIONS.update(real=real, imag=imag)
