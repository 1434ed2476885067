"""torch.nn.functional.interpolate (and the deprecated F.upsample / upsample_nearest /
upsample_bilinear) for 3-D [N, C, L] and 4-D [N, C, H, W] inputs: modes 'nearest',
'nearest-exact', 'linear', 'bilinear', 'bicubic' (align_corners), 'area' (adaptive average
pooling); and 'nearest' / 'nearest-exact' / 'trilinear' on 5-D [N, C, D, H, W]. uint8 images
take nearest, nearest-exact and bilinear (torch's fixed-point kernel, bit for bit).
Each spatial axis is resampled on its own (W first, then H, then D: the order torch's kernels
nest their sums in): every output position reads one (nearest), two (linear) or four (bicubic)
input positions with torch's source-index formulas and weights, in the input's float dtype.
"""
import math
import warnings

import numpy as np

from tinygrad_seq.autograd import Function
from tinygrad_seq.errors import InvalidArgument
from tinygrad_seq.functional_checks import require_float
from tinygrad_seq.grad_fn_names import named
from tinygrad_seq.tensor import Tensor
from tinygrad_seq.memory_formats import keeps_channels_last, laid_as_pool1d

_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "lanczos", "area", "nearest-exact")


class ResampleAxis(Function):
    """y = x[..., i_0, ...] * w_0 + x[..., i_1, ...] * w_1 + ... along `axis`, summed left to right
    (taps: ((i_k, w_k), ...), each [L_out]; nearest is one tap without a weight, y = x[..., i_0, ...]).
    Backward adds g * w_k into positions i_k."""
    @staticmethod
    def forward(ctx, x, axis=-1, taps=()):
        B = ctx.b
        xh = np.moveaxis(B.to_host(x), axis, -1)
        ctx.args = (axis, xh.shape, taps)
        (i, w), rest = taps[0], taps[1:]
        y = xh[..., i] if w is None else xh[..., i] * w
        for i, w in rest:
            y += xh[..., i] * w
        return B.asarray(np.ascontiguousarray(np.moveaxis(y, -1, axis)))

    @staticmethod
    def backward(ctx, grad):
        axis, shape, taps = ctx.args
        g = np.moveaxis(ctx.b.to_host(grad), axis, -1)
        rows, size = int(np.prod(shape[:-1])), shape[-1]
        base = (np.arange(rows) * size)[:, None]
        g2 = g.reshape(rows, g.shape[-1])   # explicit sizes: a zero batch reshapes too
        where = np.concatenate([(base + i).ravel() for i, _ in taps])
        weights = np.concatenate([(g2 if w is None else g2 * w).ravel() for _, w in taps])
        dx = np.bincount(where, weights=weights, minlength=rows * size).astype(g.dtype).reshape(shape)
        return ctx.b.asarray(np.ascontiguousarray(np.moveaxis(dx, -1, axis)))


def _scale(in_size, out_size, scale, align_corners, dtype):
    """torch's area_pixel_compute_scale, in the computation's dtype."""
    if align_corners:
        return dtype.type(in_size - 1) / dtype.type(out_size - 1) if out_size > 1 else dtype.type(0)
    if scale is not None and scale > 0:
        return dtype.type(1.0 / scale)
    return dtype.type(in_size) / dtype.type(out_size)


def _nearest_index(in_size, out_size, scale, exact, shortcut):
    """torch's nearest_idx / nearest_exact_idx, in float32 as its kernels; shortcut (its 2-D
    'nearest' kernel): index for index when the size is kept, halved when the size doubles,
    whatever the scale."""
    if shortcut and not exact and out_size in (in_size, 2 * in_size):
        return np.arange(out_size) // (out_size // in_size)
    s = _scale(in_size, out_size, scale, False, np.dtype(np.float32))
    dst = np.arange(out_size, dtype=np.float64)
    src = (dst + 0.5) * np.float64(s) if exact else dst.astype(np.float32) * s
    return np.minimum(np.floor(src.astype(np.float32)).astype(np.int64), in_size - 1)


def _linear_weights(in_size, out_size, scale, align_corners, dtype):
    """torch's linear source indices and weights: (i0, i1, w0, w1), each [out_size]."""
    s = _scale(in_size, out_size, scale, align_corners, dtype)
    dst = np.arange(out_size, dtype=dtype)
    if align_corners:
        src = s * dst
    else:
        src = np.maximum(s * (dst + dtype.type(0.5)) - dtype.type(0.5), dtype.type(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    i1 = i0 + (i0 < in_size - 1)
    w1 = np.clip(src - i0.astype(dtype), 0, 1).astype(dtype)
    return i0, i1, (dtype.type(1) - w1).astype(dtype), w1


def _cubic_taps(in_size, out_size, scale, align_corners, dtype):
    """torch's bicubic source taps for one axis (A = -0.75, indices clamped to the border, weights
    in the input's float dtype): ((i_k, w_k) for k in 0..3), each [out_size]."""
    s = _scale(in_size, out_size, scale, align_corners, dtype)
    dst = np.arange(out_size, dtype=dtype)
    src = s * dst if align_corners else s * (dst + dtype.type(0.5)) - dtype.type(0.5)   # not clamped at 0
    i0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    t = np.clip(src - i0.astype(dtype), 0, 1).astype(dtype)
    A, one = dtype.type(-0.75), dtype.type(1)
    near = lambda x: ((A + 2) * x - (A + 3)) * x * x + one                  # |x| <= 1  # noqa: E731
    far = lambda x: ((A * x - 5 * A) * x + 8 * A) * x - 4 * A              # 1 < |x| < 2  # noqa: E731
    weights = (far(t + one), near(t), near(one - t), far(one - t + one))
    return tuple((np.clip(i0 - 1 + k, 0, in_size - 1), w.astype(dtype)) for k, w in enumerate(weights))


def _uint8_linear_taps(in_size, out_size, scale, align_corners):
    """torch's uint8 bilinear weights for one axis (its separable, fixed-point kernel, after
    Pillow): (indices [out, 2], int16 weights [out, 2], precision bits). The float weights come
    from the antialias formulas with a support of 1, in float64, then scaled to integers."""
    if align_corners:
        s = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    else:
        s = 1.0 / scale if scale is not None and scale > 0 else in_size / out_size
    delta = 0.5 if align_corners else 0.0
    center = s * (np.arange(out_size, dtype=np.float64) + 0.5 - delta)
    lo = np.maximum((center - 0.5 + delta).astype(np.int64), 0)   # truncation toward zero, as C's cast
    count = np.clip(np.minimum((center + 1.5 + delta).astype(np.int64), in_size) - lo, 0, 2)
    taps = np.arange(2)
    w = np.maximum(1.0 - np.abs(taps + lo[:, None] - center[:, None] + 0.5 - delta), 0.0)
    w = np.where(taps < count[:, None], w, 0.0)
    total = w.sum(1, keepdims=True)
    w = np.where(total != 0, w / np.where(total == 0, 1.0, total), 0.0)
    bits = 0   # the most precision bits that keep twice the largest weight within int16
    while bits < 22 and int(0.5 + w.max() * (1 << (bits + 1))) < (1 << 15):
        bits += 1
    return np.minimum(lo[:, None] + taps, in_size - 1), np.floor(w * (1 << bits) + 0.5).astype(np.int64), bits


def _bilinear_uint8(x, sizes, scales, align_corners):
    """[N, C, H, W] uint8 -> [N, C, H_out, W_out] uint8 as torch's CPU kernel: W then H, each axis
    rounded back to uint8 (round half up of the fixed-point sum, clamped to [0, 255])."""
    y = x
    for axis in (3, 2):
        n_in, n_out = x.shape[axis], sizes[axis - 2]
        if n_in == n_out:
            continue
        idx, weights, bits = _uint8_linear_taps(n_in, n_out, scales[axis - 2], align_corners)
        rows = np.moveaxis(y, axis, -1).astype(np.int64)
        acc = (rows[..., idx] * weights).sum(-1) + (1 << (bits - 1))
        y = np.moveaxis(np.clip(acc >> bits, 0, 255).astype(np.uint8), -1, axis)
    return np.ascontiguousarray(y)


def _sizes(input, size, scale_factor, recompute_scale_factor, mode):
    """(output sizes, the scales the kernel uses or Nones), by torch's rules."""
    dim = input.ndim - 2
    spatial = list(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(f"Input and output must have the same number of spatial dimensions, but got input "
                                 f"with spatial dimensions of {spatial} and output size of {size}. Please provide "
                                 f"input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) "
                                 f"format.")
            # torch's _is_integer: an int, a numpy integer, or a tensor not floating-point (int() of it)
            if not all(isinstance(s, (int, np.integer)) or (isinstance(s, Tensor) and s.dtype.kind not in "fc")
                       for s in size):
                raise TypeError(f"expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                                f"Tuple[int, int, int], but got size with types {[type(s) for s in size]}")
            return [int(s) for s in size], [None] * dim
        if isinstance(size, (bool, np.bool_)) or not (isinstance(size, (int, np.integer)) or (
                isinstance(size, Tensor) and size.ndim == 0 and size.dtype.kind in "iu")):
            raise TypeError(f"interpolate(): size must be an int or a tuple of ints, got {type(size).__name__} "
                            f"(torch's upsample kernels refuse it)")
        return [int(size)] * dim, [None] * dim
    if isinstance(scale_factor, (list, tuple)):
        if len(scale_factor) != dim:
            raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but got input "
                             f"with spatial dimensions of {spatial} and scale_factor of shape {scale_factor}. Please "
                             f"provide input tensor in (N, C, d1, d2, ...,dK) format and scale_factor in "
                             f"(s1, s2, ...,sK) format.")
        scales = [float(s) for s in scale_factor]
    else:
        scales = [float(scale_factor)] * dim
    if recompute_scale_factor or mode == "area":   # torch: the size from the scale, then the scale from the sizes
        sizes = [math.floor(float(n) * s) for n, s in zip(spatial, scales)]   # inf / nan: Python's errors
        _check_int64(sizes, mode, dim)
        return sizes, [None] * dim
    _check_int64([float(n) * s for n, s in zip(spatial, scales)], mode, dim)
    return [int(n * s) for n, s in zip(spatial, scales)], scales


def _check_int64(sizes, mode, dim):
    """torch's errors for an output size (a number, inf or nan) past int64, raised before any memory
    is allocated: 'area' passes it to adaptive_avg_pool (a TypeError), the other modes convert it."""
    if all(-2.0 ** 63 <= s < 2.0 ** 63 for s in sizes):
        return
    if mode == "area":
        raise TypeError(f"adaptive_avg_pool{dim}d(): argument 'output_size' failed to unpack the object at pos 1 "
                        "with error \"Overflow when unpacking long long\"")
    raise RuntimeError("value cannot be converted to type int64_t without overflow")


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    """Resample input [N, C, L] or [N, C, H, W] to `size` or by `scale_factor` (torch's
    F.interpolate), or [N, C, D, H, W] with 'nearest' / 'nearest-exact' / 'trilinear'.
    'lanczos', antialias=True and uint8 'bicubic' raise NotImplementedError. The result is laid
    out as torch's: in the input's suggested memory format, 'area' of a 3-D input as torch's 1-D
    pools lay theirs."""
    args = (size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)
    if mode == "area" and getattr(input, "ndim", 0) == 3:
        return laid_as_pool1d(_resampled(input, *args), input)
    return _resampled_as_input(input, *args)


def _resampled(input, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias):
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    if mode not in _MODES or input.ndim not in (3, 4, 5):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for "
                                  f"the modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
                                  f"nearest-exact (got {mode})")
    sizes, scales = _sizes(input, size, scale_factor, recompute_scale_factor, mode)
    if antialias and not (mode in ("bilinear", "bicubic") and input.ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear and bicubic modes and requires a 4-D tensor "
                         "as input")
    dim = input.ndim - 2
    need = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}.get(mode)
    if need is not None and need != dim:
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {need + 2}D input")
    if antialias or mode == "lanczos" or dim == 3 and mode not in ("nearest", "nearest-exact", "trilinear"):
        what = "antialias=True" if antialias else f"mode={mode!r} on a {input.ndim}-D input"
        raise NotImplementedError(f"interpolate: {what} is not supported by tinygrad_seq (supported: 'nearest', "
                                  f"'nearest-exact', 'linear', 'bilinear', 'bicubic', 'area' on 3-D / 4-D inputs, "
                                  f"'nearest', 'nearest-exact', 'trilinear' on 5-D ones)")
    if min(sizes) <= 0 and mode != "area":
        names = ("H", "W")[-dim:] if dim <= 2 else ("D", "H", "W")
        given = ", ".join(f"{n}: {s}" for n, s in zip(names, input.shape[2:]))
        wanted = ", ".join(f"{n}: {s}" for n, s in zip(names, sizes))
        raise InvalidArgument(f"Input and output sizes should be greater than 0, but got input ({given}) "
                              f"output ({wanted})")
    if input.dtype == np.uint8 and mode in ("area", "linear", "trilinear"):   # torch has no uint8 kernel for these
        kernel = "adaptive_avg_pool2d" if mode == "area" else "compute_indices_weights_linear"
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Byte'")
    if mode == "area":
        from tinygrad_seq.pool2d import adaptive_avg_pool2d
        if dim == 1:   # [N, C, L] as [N, C, 1, L]
            return adaptive_avg_pool2d(input.unsqueeze(2), (1, sizes[0])).squeeze(2)
        return adaptive_avg_pool2d(input, sizes)
    kernel = {"nearest": "compute_indices_weights_nearest", "linear": "compute_indices_weights_linear",
              "trilinear": "compute_indices_weights_linear", "bicubic": "compute_indices_weights_cubic",
              "bilinear": "upsample_bilinear2d_channels_last"}.get(mode, "upsample_nearest2d_channels_last")
    if dim == 1 and mode == "nearest-exact":
        kernel = "compute_indices_weights_nearest"
    if input.dtype != np.uint8:   # torch's image dtype has nearest and bilinear kernels; other integers none
        require_float(input, kernel)
    elif mode == "bicubic":   # torch's fixed-point bicubic kernel is not reproduced bit for bit here
        raise NotImplementedError("interpolate: mode='bicubic' on a uint8 tensor is not supported by tinygrad_seq "
                                  "(torch's fixed-point kernel); convert to float first")
    elif mode == "bilinear":   # an integer tensor has no gradient: computed on the host, wrapped
        from tinygrad_seq.tensor import Tensor
        y = _bilinear_uint8(input.detach().numpy(), sizes, scales, align_corners)
        return Tensor._wrap(y, "cpu").to(input.device)
    out = input
    for axis in reversed(range(dim)):   # W first, then H
        n_in, n_out, scale = input.shape[2 + axis], sizes[axis], scales[axis]
        if mode in ("nearest", "nearest-exact"):
            i0 = _nearest_index(n_in, n_out, scale, mode == "nearest-exact", dim == 2)
            out = ResampleAxis.apply(out, axis=2 + axis, taps=((i0, None),))
        elif n_in != n_out or mode == "bicubic" and scale is not None:   # (torch's linear kernels copy an axis
            # whose size is kept, whatever the scale; its bicubic one resamples it by the scale)
            if mode == "bicubic":
                taps = _cubic_taps(n_in, n_out, scale, align_corners, input.dtype)
            else:
                i0, i1, w0, w1 = _linear_weights(n_in, n_out, scale, align_corners, input.dtype)
                taps = ((i0, w0), (i1, w1))
            out = ResampleAxis.apply(out, axis=2 + axis, taps=taps)
    out = input.clone() if out is input else out   # a new tensor, as torch's, whose node is named below
    node = {"nearest": "UpsampleNearest", "nearest-exact": "_UpsampleNearestExact"}.get(mode, "Upsample" + mode.title())
    return named(out, f"{node}{dim}DBackward0")   # torch's one node for the whole resampling


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """torch's deprecated F.upsample: F.interpolate, with torch's deprecation UserWarning."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """torch's deprecated F.upsample_nearest: interpolate(mode='nearest'), warning as torch's."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """torch's deprecated F.upsample_bilinear: interpolate(mode='bilinear', align_corners=True),
    warning as torch's."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


_resampled_as_input = keeps_channels_last(_resampled)
