"""torch.ao.nn.quantized.dynamic.Linear (prints as DynamicQuantizedLinear): y = x W^T + b with
W stored as int8 (one scale per tensor, or per output row) or float16, and x quantized to
uint8 at every call; float32 in, float32 out. Inference only.

Buffers (the state_dict): `weight` int8 [out, in] (float16 for dtype=torch.float16),
`weight_scale` and `weight_zero_point` (0-d, or [out] per channel; qint8 only), `bias` float32
[out] or None. torch keeps these in a packed-params object instead, and has weight() / bias()
methods returning a quantized tensor; here `weight` and `bias` are the plain buffers."""
import numpy as np

from tinygrad_seq.nn.module import Module
from tinygrad_seq.tensor import Tensor
from tinygrad_seq.dtypes import float16
from tinygrad_seq.quantized_dtypes import per_tensor_affine, qint8
from tinygrad_seq.ao.nn.quantized.dynamic import common

F32 = np.float32
_OP = "quantized::linear_dynamic"


def dtype_name(dtype):
    return "torch.float16" if dtype is float16 or dtype == float16 else repr(dtype)


class Linear(Module):
    _version = 4

    def __init__(self, in_features, out_features, bias_=True, dtype=qint8):
        super().__init__()
        if dtype is not qint8 and dtype != float16:
            raise RuntimeError(f"Unsupported dtype on dynamic quantized linear: {dtype} "
                               "(torch.qint8 or torch.float16)")
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.dtype, self.qscheme, self.version = (qint8 if dtype is qint8 else float16), per_tensor_affine, 4
        self.scale, self.zero_point = 1.0, 0    # torch's attributes (the static module's output qparams)
        shape = (self.out_features, self.in_features)
        if self.dtype is qint8:
            self.register_buffer("weight", Tensor._wrap(np.zeros(shape, np.int8)))
            self.register_buffer("weight_scale", Tensor._wrap(np.ones((), F32)))
            self.register_buffer("weight_zero_point", Tensor._wrap(np.zeros((), np.int64)))
        else:
            self.register_buffer("weight", Tensor._wrap(np.zeros(shape, np.float16)))
        self.register_buffer("bias", Tensor._wrap(np.zeros(self.out_features, F32)) if bias_ else None)
        self.__dict__["_prepared"] = common.PreparedCache()

    def set_weight_bias(self, weight, scale, zero_point, bias, qscheme=per_tensor_affine):
        """Sets the buffers from arrays: weight int8 (qint8) or float32 / float16 (float16),
        scale / zero point (qint8 only), bias float or None."""
        if self.dtype is qint8:
            self.weight = Tensor._wrap(np.asarray(weight, np.int8))
            self.weight_scale = Tensor._wrap(np.asarray(scale, F32))
            self.weight_zero_point = Tensor._wrap(np.asarray(zero_point, np.int64))
            self.qscheme = qscheme
        else:
            from tinygrad_seq.ao.quantization.qparams import to_float16
            self.weight = Tensor._wrap(to_float16(weight))
        if bias is None:
            self.bias = None
        else:
            self.bias = Tensor._wrap(np.asarray(bias.detach().numpy() if isinstance(bias, Tensor) else bias, F32))

    def _prepared_weight(self):
        qint = self.dtype is qint8
        buffers = [self.weight, self.weight_scale if qint else None, self.weight_zero_point if qint else None,
                   self.bias]
        return self._prepared.get(buffers, lambda: common.prepare(self.dtype, *buffers))

    def forward(self, x):
        op = _OP if self.dtype is qint8 else _OP + "_fp16"
        common.check_input(op, x)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise RuntimeError(f"{op}: input of shape {tuple(x.shape)} cannot be multiplied by the weight of "
                               f"shape ({self.out_features}, {self.in_features}): its last size must be "
                               f"in_features={self.in_features}")
        prepared, dtype, out = self._prepared_weight(), self.dtype, self.out_features

        def compute(a):
            y = common.apply_linear(dtype, prepared, a.reshape(-1, a.shape[-1]))
            return y.reshape((*a.shape[:-1], out))
        return common.run(op, compute, x)

    def _get_name(self):
        return "DynamicQuantizedLinear"

    def extra_repr(self):
        s = f"in_features={self.in_features}, out_features={self.out_features}, dtype={dtype_name(self.dtype)}"
        return s + (f", qscheme={self.qscheme}" if self.dtype is qint8 else "")

    def __repr__(self):
        return f"{self._get_name()}({self.extra_repr()})"

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The quantized copy of a float nn.Linear carrying a qconfig (quantize_dynamic sets it):
        its weight observer's dtype picks qint8 or float16."""
        from tinygrad_seq.nn.layers import Linear as FloatLinear
        from tinygrad_seq.nn.multihead import NonDynamicallyQuantizableLinear
        float_modules = (FloatLinear, NonDynamicallyQuantizableLinear)
        if type(mod) not in float_modules:
            raise AssertionError("nn.quantized.dynamic.Linear.from_float only works for one of"
                                 f"{[m.__name__ for m in float_modules]}, got {type(mod)}")
        if not hasattr(mod, "qconfig"):
            raise AssertionError("Input float module must have qconfig defined")
        dtype, factory = common.weight_dtype(mod.qconfig)
        if dtype is not qint8 and dtype != float16:
            raise AssertionError("The only supported dtypes for dynamic quantized linear are qint8 and float16, "
                                 f"got: {dtype}")
        qlinear = cls(mod.in_features, mod.out_features, dtype=dtype)
        if dtype is qint8:
            q, scale, zero_point, scheme = common.quantize_float_weight(mod.weight, factory())
            qlinear.set_weight_bias(q, scale, zero_point, mod.bias, scheme)
        else:
            qlinear.set_weight_bias(mod.weight.detach().numpy(), None, None, mod.bias)
        return qlinear
