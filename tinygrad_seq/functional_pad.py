"""torch.nn.functional.pad: constant padding (negative widths crop) as one Function, and the
reflect / replicate / circular modes as index gathers. Re-exported by tinygrad_seq.functional."""
import numpy as np

from tinygrad_seq.autograd import Function
from tinygrad_seq.errors import InvalidArgument, ShapeMismatch
from tinygrad_seq.grad_fn_names import named
from tinygrad_seq.tensor import Tensor
from tinygrad_seq.memory_formats import keeps_channels_last, lay_out


class _ConstantPad(Function):
    """x placed inside a block of `value`; widths ((before, after), ...) per dim, >= 0."""
    saved_are_inputs = True   # its backward runs on Tensors too (higher_order.py)

    @staticmethod
    def forward(ctx, x, widths=None, value=0.0):
        B = ctx.b
        shape = tuple(n + a + b for n, (a, b) in zip(x.shape, widths))
        out = B.full(shape, value, x.dtype)
        ctx.inner = tuple(slice(a, a + n) for n, (a, _) in zip(x.shape, widths))
        B.setitem(out, ctx.inner, x)
        return out

    @staticmethod
    def backward(ctx, g):
        return ctx.b.ascontiguous(ctx.b.getitem(g, ctx.inner))


_PAD_MODES = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}
_PAD_NODES = {"reflect": "ReflectionPad", "replicate": "ReplicationPad"}


def pad(input, pad, mode="constant", value=None):
    """PyTorch's F.pad: pad = (left_last, right_last, left_2nd_last, ...); constant mode
    (negative widths crop), or reflect / replicate / circular over the last 1-3 dims of a
    (C, *) or (N, C, *) input, as index gathers (their gradients add up at the reused rows).
    The result is laid out as torch's: in the input's suggested memory format, except that the
    circular mode's is row-major whatever the input's."""
    if mode == "circular":
        return lay_out(_padded(input, pad, mode, value), input, None)
    return _padded_as_input(input, pad, mode, value)


def _padded(input, pad, mode, value):
    _check_pad_ints(pad)
    if mode in _PAD_MODES:
        return _index_pad(input, pad, mode, value)
    if mode != "constant":
        raise NotImplementedError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    _check_pad_length(pad, input.ndim)
    widths = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        widths[input.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    for d, ((a, b), n) in enumerate(zip(widths, input.shape)):
        if n + min(a, 0) + min(b, 0) < 0:   # torch crops with narrow(), which refuses a negative length
            raise InvalidArgument(f"narrow(): length must be non-negative. (pad: cropping ({a}, {b}) from dim {d} "
                                  f"of size {n} leaves {n + min(a, 0) + min(b, 0)})")
    crop = tuple(slice(max(-a, 0), n - max(-b, 0)) for n, (a, b) in zip(input.shape, widths))
    x = input[crop] if any(a < 0 or b < 0 for a, b in widths) else input
    widths = tuple((max(a, 0), max(b, 0)) for a, b in widths)
    return _ConstantPad.apply(x, widths=widths, value=0.0 if value is None else float(value))


_padded_as_input = keeps_channels_last(_padded)


def _check_pad_ints(pad):
    """torch's TypeError for a width that is not an int (a float, a bool, None; a 0-d integer
    tensor is taken)."""
    for i, width in enumerate(pad):
        is_int = isinstance(width, (int, np.integer)) and not isinstance(width, (bool, np.bool_))
        if not (is_int or (isinstance(width, Tensor) and width.ndim == 0 and width.dtype.kind in "iu")):
            raise TypeError(f"pad(): argument 'pad' (position 2) must be tuple of ints, but found element of type "
                            f"{type(width).__name__} at pos {i}")


def _check_pad_length(pad, ndim):
    if len(pad) % 2:
        raise InvalidArgument(f"pad: Padding length must be divisible by 2 (even), got {len(pad)}")
    if len(pad) // 2 > ndim:
        raise InvalidArgument(f"pad: Padding length should be less than or equal to two times the input "
                              f"dimension but got padding length {len(pad)} and input of dimension {ndim}")


def _index_pad(input, pad, mode, value):
    _check_pad_length(pad, input.ndim)
    if value is not None and value != 0:   # torch takes None or 0 for the modes without a fill value
        raise InvalidArgument(f'Padding mode "{mode}" doesn\'t take in value argument')
    k = len(pad) // 2
    if not 1 <= k <= 3 or not k + 1 <= input.ndim <= k + 2:
        raise NotImplementedError(f"pad: mode={mode!r} pads the last 1-3 dims of a (C, *) or (N, C, *) input "
                                  f"with 2, 4 or 6 widths; got {len(pad)} widths for shape {input.shape}")
    if mode != "circular" and 0 in input.shape[input.ndim - k - 1:]:   # only a batch dim may be 0, as torch's
        raise ShapeMismatch(f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 batch size and other "
                            f"non-zero dimensions for input, but got: {list(input.shape)}")
    if mode != "circular" and input.dtype.kind == "b":   # torch's kernels have no bool case
        kernel = "reflection" if mode == "reflect" else "replication"
        raise NotImplementedError(f'"{kernel}_pad{k}d" not implemented for \'Bool\'')
    if mode == "circular":
        _check_circular(pad, input.shape)
    x = input
    for i in range(k):
        d = input.ndim - 1 - i
        a, b, n = int(pad[2 * i]), int(pad[2 * i + 1]), input.shape[d]
        if mode == "reflect" and max(a, b) >= n:
            raise InvalidArgument(f"pad: Padding size should be less than the corresponding input dimension, but "
                                  f"got: padding ({a}, {b}) at dimension {d} of input {input.shape}")
        x = x.index_select(d, Tensor(_pad_index(n, a, b, mode), device=input.device))
    # torch's nodes: ReflectionPad2DBackward0, ...; its circular mode writes slices of a new tensor
    return named(x, "CopySlices" if mode == "circular" else f"{_PAD_NODES[mode]}{k}DBackward0")


def _check_circular(pad, shape):
    """torch's _pad_circular checks, dim by dim from the outermost padded one: no width beyond
    the dim's size, and no negative size left (a size of 0 is allowed)."""
    k = len(pad) // 2
    for d in range(len(shape) - k, len(shape)):
        i = len(shape) - 1 - d
        a, b, n = int(pad[2 * i]), int(pad[2 * i + 1]), shape[d]
        if a > n or b > n:
            raise InvalidArgument("Padding value causes wrapping around more than once.")
        if n + a + b < 0:
            raise InvalidArgument("Negative padding value is resulting in an empty dimension")


def _pad_index(n, a, b, mode):
    """The source positions of one dim of n padded by (a, b) (negative: cropped), as torch's
    kernels pick them: reflect / replicate index the whole input and then crop (a reflection
    may reach into the cropped part), circular crops first and then wraps."""
    if mode == "circular":
        kept = np.arange(max(-a, 0), n - max(-b, 0))
        return np.pad(kept, (max(a, 0), max(b, 0)), mode="wrap").astype(np.int64)
    idx = np.pad(np.arange(n), (max(a, 0), max(b, 0)), mode=_PAD_MODES[mode])
    return idx[max(-a, 0): idx.size - max(-b, 0)].astype(np.int64)
