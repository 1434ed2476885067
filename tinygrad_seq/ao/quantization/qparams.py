"""The integer arithmetic of torch's dynamically quantized Linear (fbgemm's
quantized::linear_dynamic), on numpy arrays, reproducing its results bit for bit in the
common case:

1. the activation x [M, K] (float32) gets a scale and zero point from its own min and max at
   every call (ChooseQuantizationParams, uint8; reduce_range: 0..127, which keeps AVX2's
   pairwise int16 sums from saturating) and is rounded to integers with one fused multiply-add;
2. the int8 weight W [N, K] (quantized once, at conversion, by the weight observer) and the
   integer activation multiply exactly: every product and partial sum is an integer below
   2**53, so a float64 GEMM is exact in any summation order;
3. the int32 result is taken to float32 and scaled with one FMA, y = raw * (s_x * s_w) + bias,
   as fbgemm's requantizeForFloat.

The float16 form (linear_dynamic_fp16) is a float32 product with W rounded to float16.
Nothing here knows about Tensors or autograd."""
import numpy as np

F32 = np.float32
_SMALL_SCALE = float(F32(6.1e-5))    # fbgemm's SMALL_SCALE_THRESHOLD (a float constant)
_FP16_MAX = 65504.0


def activation_qparams(x, reduce_range=True):
    """torch's quant_utils::ChooseQuantizationParams(min(x), max(x), 0, 255, reduce_range) for
    a float32 array: (scale as float32, integer zero point). The range always holds 0."""
    qmin, qmax = (0, 127) if reduce_range else (0, 255)
    if x.size and not np.isfinite(x).all():   # torch: nan raises; inf gives fbgemm's undefined ±inf pattern
        raise RuntimeError("dynamic quantization: the input holds inf or nan, which has no quantization "
                           "parameters (torch's fbgemm raises for nan and gives undefined results for inf)")
    lo = F32(min(float(x.min()), 0.0)) if x.size else F32(0.0)
    hi = F32(max(float(x.max()), 0.0)) if x.size else F32(0.0)
    scale = (float(hi) - float(lo)) / (qmax - qmin)      # double, as the C++
    if F32(scale) == 0 or np.isinf(np.divide(F32(1.0), F32(scale))):
        scale = 0.1
    if scale < _SMALL_SCALE:   # a tiny range: the scale is raised and min / max stretched with it
        org_scale = F32(scale)
        scale = _SMALL_SCALE
        if lo == 0:
            hi = F32(F32(_SMALL_SCALE) * (qmax - qmin))
        elif hi == 0:
            lo = F32(-F32(_SMALL_SCALE) * (qmax - qmin))
        else:
            amplifier = F32(F32(_SMALL_SCALE) / org_scale)
            lo, hi = F32(lo * amplifier), F32(hi * amplifier)
    # the zero point from whichever end adds the smaller terms, then nudged to an integer
    from_min, from_max = qmin - float(lo) / scale, qmax - float(hi) / scale
    err_min, err_max = abs(qmin) - abs(float(lo) / scale), abs(qmax) - abs(float(hi) / scale)
    zero = from_min if err_min < err_max else from_max
    zero_point = qmin if zero < qmin else qmax if zero > qmax else int(np.rint(zero))
    return F32(scale), zero_point


def quantize_activation(x, scale, zero_point):
    """fbgemm's Quantize<uint8_t> (the legacy form): round(fma(x, 1/scale, zero_point)) clamped
    to 0..255, the FMA rounded once to float32. Returns float64 integers, ready for the GEMM."""
    inverse = float(np.divide(F32(1.0), scale))
    t = (x.astype(np.float64) * inverse + zero_point).astype(F32)   # exact product, one rounding
    return np.clip(np.rint(t), 0, 255).astype(np.float64)


def quantize_weight(w, scale, zero_point, qmin=-128, qmax=127):
    """torch.quantize_per_tensor / per_channel (fbgemm's Quantize<int8_t>): round(w * (1/scale))
    + zero_point, clamped; the product in float32. scale / zero_point: scalars, or [N] for one
    per output row. Returns int8."""
    w = np.asarray(w, F32)
    scale = np.asarray(scale, F32)
    zero_point = np.asarray(zero_point, np.int64)
    if scale.ndim:
        scale, zero_point = scale[:, None], zero_point[:, None]
    inverse = np.divide(F32(1.0), scale)
    q = np.rint(w * inverse) + zero_point
    return np.clip(q, qmin, qmax).astype(np.int8)


class PreparedWeight:
    """A quantized weight made ready for dynamic_linear: W - zero_point transposed [K, N] in
    float64 and float32, its largest magnitude, and the scales as float32. scale / zero_point:
    scalars or [N] arrays."""
    __slots__ = ("centered_t", "centered_t32", "max_abs", "scale", "bias")

    def __init__(self, weight_int8, scale, zero_point, bias):
        zp = np.asarray(zero_point, np.float64)
        centered = weight_int8.astype(np.float64) - (zp[:, None] if zp.ndim else zp)
        self.centered_t = np.ascontiguousarray(centered.T)
        self.centered_t32 = self.centered_t.astype(F32)
        self.max_abs = float(np.abs(centered).max()) if centered.size else 0.0
        self.scale = np.asarray(scale, F32)
        self.bias = None if bias is None else np.asarray(bias, F32)


def dynamic_linear(x, prepared, reduce_range=True):
    """y [M, N] float32 = quantized::linear_dynamic(x [M, K] float32) with a PreparedWeight."""
    scale, zero_point = activation_qparams(x, reduce_range)
    x_int = quantize_activation(x, scale, zero_point) - zero_point
    if np.abs(x_int).max(initial=0.0) * prepared.max_abs * x.shape[1] < 2 ** 24:
        # every partial sum is an integer below 2**24: float32's GEMM is exact too, and twice as fast
        raw = (x_int.astype(F32) @ prepared.centered_t32).astype(np.float64)
    else:
        raw = x_int @ prepared.centered_t                 # exact integers (|raw| < 2**53)
    multiplier = (np.float64(scale) * prepared.scale.astype(np.float64)).astype(F32)
    y = raw.astype(F32).astype(np.float64) * multiplier.astype(np.float64)   # exact: 24 x 24 bits
    if prepared.bias is not None:
        y += prepared.bias
    return y.astype(F32)


def to_float16(w):
    """linear_prepack_fp16's weight: float32 rounded to float16, saturated at +-65504."""
    return np.clip(np.asarray(w, F32), -_FP16_MAX, _FP16_MAX).astype(np.float16)


def float16_linear(x, weight_t, bias):
    """quantized::linear_dynamic_fp16: x [M, K] float32 @ W^T + bias in float32, where W^T [K, N]
    holds float16 values (to_float16) taken to float32."""
    y = x @ weight_t
    if bias is not None:
        y += bias
    return y
