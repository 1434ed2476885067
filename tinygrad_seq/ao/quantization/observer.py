"""torch.ao.quantization's weight observers, as far as dynamic quantization uses them: an
observer records the min and max of what it is called on and turns them into a scale and zero
point with torch's formulas (float32 arithmetic, as torch's tensors do)."""
import functools

import numpy as np

from tinygrad_seq.nn.module import Module
from tinygrad_seq.tensor import Tensor
from tinygrad_seq.dtypes import float16, float32
from tinygrad_seq.quantized_dtypes import (per_channel_affine, per_channel_symmetric, per_tensor_affine,
                                           per_tensor_symmetric, qint8, quint8)

F32 = np.float32
_EPS = np.finfo(F32).eps


class _PartialWrapper:
    """Observer.with_args(...): a factory that makes the observer with those arguments; it takes
    further with_args of its own, as torch's."""

    def __init__(self, factory):
        self.p = factory

    def __call__(self, *args, **kwargs):
        return self.p(*args, **kwargs)

    def with_args(self, **kwargs):
        return _PartialWrapper(functools.partial(self.p, **kwargs))

    def __repr__(self):
        return self.p.__repr__()


class ObserverBase(Module):
    def __init__(self, dtype, is_dynamic=False):
        super().__init__()
        self.dtype, self.is_dynamic = dtype, is_dynamic

    @classmethod
    def with_args(cls, **kwargs):
        return _PartialWrapper(functools.partial(cls, **kwargs))


def _quant_range(dtype, reduce_range, quant_min, quant_max):
    """torch's default integer range of a quantized dtype (halved by reduce_range), or the
    range given."""
    if quant_min is not None or quant_max is not None:
        if quant_min is None or quant_max is None or not quant_min <= 0 <= quant_max:
            raise ValueError(f"quant_min / quant_max must both be given and hold 0, got {quant_min}, {quant_max}")
        return int(quant_min), int(quant_max), True
    if dtype is qint8:
        return (-64, 63, False) if reduce_range else (-128, 127, False)
    if dtype is quint8:
        return (0, 127, False) if reduce_range else (0, 255, False)
    raise ValueError(f"observer dtype must be torch.qint8 or torch.quint8, got {dtype}")


class MinMaxObserver(ObserverBase):
    """Records the running min and max of every tensor it sees (per tensor); calculate_qparams()
    gives (scale [1], zero_point [1]) as torch's: symmetric schemes take the larger magnitude
    over half the range (zero point 0 for qint8, 128 for quint8), affine ones the full span."""
    _per_channel = False

    def __init__(self, dtype=quint8, qscheme=per_tensor_affine, reduce_range=False, quant_min=None,
                 quant_max=None, factory_kwargs=None, eps=_EPS, is_dynamic=False, **kwargs):
        super().__init__(dtype, is_dynamic)
        allowed = (per_channel_affine, per_channel_symmetric) if self._per_channel else \
            (per_tensor_affine, per_tensor_symmetric)
        if qscheme not in allowed:
            raise NotImplementedError(f"{type(self).__name__}: qscheme {qscheme} is not supported "
                                      f"(use one of {', '.join(map(repr, allowed))})")
        self.qscheme, self.reduce_range, self.eps = qscheme, bool(reduce_range), F32(eps)
        self.quant_min, self.quant_max, self.has_customized_qrange = \
            _quant_range(dtype, reduce_range, quant_min, quant_max)
        self.min_val = self.max_val = None

    def _min_max(self, x):
        return x.min(), x.max()

    def forward(self, x_orig):
        x = np.asarray(x_orig.detach().numpy() if isinstance(x_orig, Tensor) else x_orig, F32)
        if x.size == 0:
            return x_orig
        lo, hi = self._min_max(x)
        self.min_val = lo if self.min_val is None else np.minimum(self.min_val, lo)
        self.max_val = hi if self.max_val is None else np.maximum(self.max_val, hi)
        return x_orig

    def calculate_qparams(self):
        """(scale float32, zero_point) tensors: [1] per tensor, [C] per channel; zero_point int32
        for the affine schemes, int64 for the symmetric ones and before any observation (torch's)."""
        if self.min_val is None:   # nothing observed: torch's defaults
            return Tensor(np.ones(1, F32)), Tensor(np.zeros(1, np.int64))
        lo = np.minimum(np.asarray(self.min_val, F32), F32(0))
        hi = np.maximum(np.asarray(self.max_val, F32), F32(0))
        qmin, qmax = self.quant_min, self.quant_max
        if self.qscheme in (per_tensor_symmetric, per_channel_symmetric):
            scale = np.maximum(np.maximum(-lo, hi) / F32((qmax - qmin) / 2), self.eps)
            zero = (qmin + qmax) // 2 if self.has_customized_qrange else 128
            zero_point = np.full(scale.shape, zero if self.dtype is quint8 else 0, np.int64)
        else:
            scale = np.maximum((hi - lo) / F32(qmax - qmin), self.eps)
            zero_point = np.clip(qmin - np.rint(lo / scale).astype(np.int64), qmin, qmax).astype(np.int32)
        from tinygrad_seq.creation import tensor   # keeps int32 (the Tensor constructor widens it to int64)
        return Tensor(np.atleast_1d(scale).astype(F32)), tensor(np.atleast_1d(zero_point))

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}"


class PerChannelMinMaxObserver(MinMaxObserver):
    """MinMaxObserver with one min / max per slice along ch_axis (the output rows of a weight)."""
    _per_channel = True

    def __init__(self, ch_axis=0, dtype=quint8, qscheme=per_channel_affine, reduce_range=False,
                 quant_min=None, quant_max=None, factory_kwargs=None, eps=_EPS, is_dynamic=False, **kwargs):
        super().__init__(dtype, qscheme, reduce_range, quant_min, quant_max, factory_kwargs, eps, is_dynamic)
        self.ch_axis = ch_axis

    def _min_max(self, x):
        rows = np.moveaxis(x, self.ch_axis, 0).reshape(x.shape[self.ch_axis], -1)
        return rows.min(1), rows.max(1)


class PlaceholderObserver(ObserverBase):
    """Observes nothing: it names the dtype (a float16 weight, or the activation dtype a dynamic
    module quantizes to at each call)."""

    def __init__(self, dtype=float32, custom_op_name="", compute_dtype=None, quant_min=None, quant_max=None,
                 qscheme=None, eps=None, is_dynamic=False):
        super().__init__(dtype, is_dynamic)
        self.qscheme, self.quant_min, self.quant_max, self.eps = qscheme, quant_min, quant_max, eps

    def forward(self, x):
        return x

    def calculate_qparams(self):
        raise Exception("calculate_qparams should not be called for PlaceholderObserver")

    def extra_repr(self):
        return f"dtype={self.dtype}, is_dynamic={self.is_dynamic}"


default_weight_observer = MinMaxObserver.with_args(dtype=qint8, qscheme=per_tensor_symmetric)
default_per_channel_weight_observer = PerChannelMinMaxObserver.with_args(dtype=qint8,
                                                                         qscheme=per_channel_symmetric)
default_dynamic_quant_observer = PlaceholderObserver.with_args(dtype=quint8, quant_min=0, quant_max=255,
                                                               is_dynamic=True)
default_placeholder_observer = PlaceholderObserver
float16_placeholder = PlaceholderObserver.with_args(dtype=float16)
