"""What the dynamically quantized modules share: quantizing a float weight with a qconfig's
weight observer, the prepared-weight cache, the input checks, and the autograd node of their
outputs (torch registers no gradient for the quantized ops)."""
import warnings

import numpy as np

from tinygrad_seq.autograd import Function
from tinygrad_seq.tensor import Tensor
from tinygrad_seq.quantized_dtypes import per_channel_affine, per_channel_symmetric, per_tensor_affine, qint8
from tinygrad_seq.dtypes import float16
from tinygrad_seq.ao.quantization import qparams

F32 = np.float32


class QuantizedInference(Function):
    """The node of a quantized module's outputs when an input requires grad. As torch's
    quantized::linear_dynamic / quantized_lstm (no autograd kernel): the outputs require grad,
    and backward through them warns and leaves the inputs without a gradient (.grad None)."""
    array_io = True

    @staticmethod
    def forward(ctx, *arrays, compute, op_name):
        ctx.op_name = op_name
        return compute(*arrays)

    @staticmethod
    def backward(ctx, *grads):
        warnings.warn(f"{ctx.op_name}: an autograd kernel was not registered to the Autograd key(s) but we "
                      "are trying to backprop through it. This may lead to silently incorrect behavior "
                      "(no gradient reaches this op's inputs).", UserWarning, stacklevel=2)
        return (None,) * len(ctx.parents)


def run(op_name, compute, *inputs):
    """compute(*float32 arrays) -> array or tuple of arrays, as Tensors (see QuantizedInference)."""
    return QuantizedInference.apply(*inputs, compute=compute, op_name=op_name)


def check_input(op_name, x, what="input"):
    """torch's quantized ops take float32 CPU tensors only."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{op_name}: {what} must be a Tensor, got {type(x).__name__}")
    if x.device != "cpu":
        raise NotImplementedError(f"Could not run '{op_name}' with arguments from the '{x.device}' backend: "
                                  "dynamically quantized modules run on the CPU (move the input with .cpu())")
    if x.dtype != np.float32:
        raise RuntimeError(f"expected scalar type Float but found {_torch_dtype_name(x.dtype)}")


def _torch_dtype_name(dtype):
    names = {"float64": "Double", "float16": "Half", "int64": "Long", "int32": "Int", "int16": "Short",
             "int8": "Char", "uint8": "Byte", "bool": "Bool"}
    return names.get(np.dtype(dtype).name, np.dtype(dtype).name)


def quantize_float_weight(weight, observer):
    """A float weight [N, K] through a weight observer instance: (int8 array, scale float32 array,
    zero point int64 array, qscheme of the result), as torch's _quantize_weight + _clamp_weights.
    Per-tensor schemes give 0-d scale / zero point; per-channel ones [N]. torch's quantized
    tensors are always affine (per_tensor_affine / per_channel_affine)."""
    observer(weight)
    scale, zero_point = (t.numpy() for t in observer.calculate_qparams())
    if observer.qscheme in (per_channel_symmetric, per_channel_affine):
        if getattr(observer, "ch_axis", 0) != 0:
            raise NotImplementedError("per-channel weight quantization is supported along the output axis "
                                      f"(ch_axis=0) only, got ch_axis={observer.ch_axis}")
        scheme = per_channel_affine
    else:
        scale, zero_point, scheme = scale.reshape(()), zero_point.reshape(()), per_tensor_affine
    w = weight.detach().numpy().astype(F32)
    q = qparams.quantize_weight(w, scale, zero_point, observer.quant_min, observer.quant_max)
    return q, scale.astype(F32), zero_point.astype(np.int64), scheme


def weight_dtype(qconfig):
    """The dtype a qconfig's weight observer quantizes to (torch's default: qint8)."""
    from tinygrad_seq.ao.quantization.qconfig import default_dynamic_qconfig
    factory = qconfig.weight if qconfig is not None and qconfig.weight is not None \
        else default_dynamic_qconfig.weight
    return factory().dtype, factory


class PreparedCache:
    """The prepared (float64, transposed) form of a module's quantized weights, rebuilt when a
    buffer is replaced (load_state_dict) or written in place."""

    def __init__(self):
        self.key, self.value = None, None

    def get(self, tensors, build):
        key = tuple((t.array, t._version) if t is not None else None for t in tensors)
        if self.key is None or len(key) != len(self.key) or any(
                (a is None) != (b is None) or (a is not None and (a[0] is not b[0] or a[1] != b[1]))
                for a, b in zip(key, self.key)):
            self.key, self.value = key, build()
        return self.value

    def __deepcopy__(self, memo):
        return PreparedCache()

    def __getstate__(self):
        return {}

    def __setstate__(self, state):
        self.key, self.value = None, None


def prepare(dtype, weight, scale, zero_point, bias):
    """A PreparedWeight (qint8) or (float32 W^T [K, N], bias) (float16) from the buffers."""
    b = None if bias is None else bias.numpy().astype(F32)
    if dtype is qint8:
        return qparams.PreparedWeight(weight.numpy().astype(np.int8), scale.numpy().astype(F32),
                                      zero_point.numpy().astype(np.int64), b)
    if dtype is float16 or dtype == float16:
        return np.ascontiguousarray(weight.numpy().astype(np.float16).astype(F32).T), b
    raise RuntimeError(f"Unsupported dtype on dynamic quantized linear: {dtype}")


def apply_linear(dtype, prepared, x2d, reduce_range=True):
    """y [M, N] float32 from x [M, K] float32 with a prepared weight."""
    if dtype is qint8:
        return qparams.dynamic_linear(x2d, prepared, reduce_range)
    weight_t, bias = prepared
    return qparams.float16_linear(x2d, weight_t, bias)
