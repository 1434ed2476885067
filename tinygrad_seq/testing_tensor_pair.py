"""torch.testing's TensorLikePair: two directly related tensor-likes (ts tensors, numpy arrays)
compared for shape, stride (check_stride), device, dtype and then values within atol + rtol * |expected|."""
import numpy as np

from tinygrad_seq.tensor import Tensor
from tinygrad_seq.testing_pairs import (ErrorMeta, Pair, UnsupportedInputs, get_tolerances, scalar_mismatch_msg,
                                        tensor_mismatch_msg)


def _torch_size(shape):
    return f"torch.Size({list(shape)})"


def _torch_dtype(dtype):
    return f"torch.{np.dtype(dtype).name}"


def _promoted(a_dtype, e_dtype):
    from tinygrad_seq.functions_more import promote_types
    widen = {np.dtype(np.uint16), np.dtype(np.uint32), np.dtype(np.uint64)}   # torch: compared as int64
    a_dtype, e_dtype = (np.dtype(np.int64) if d in widen else d for d in (a_dtype, e_dtype))
    return np.dtype(promote_types(a_dtype, e_dtype))


def isclose(actual, expected, *, rtol, atol, equal_nan):
    """torch.isclose over numpy arrays of one dtype; integers' differences exact (int64)."""
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    if actual.dtype.kind == "b":
        return actual == expected
    if actual.dtype.kind in "iu":
        a, e = actual.astype(np.int64), expected.astype(np.int64)
        if rtol == 0 and atol == 0:
            return a == e
        return np.abs(a - e).astype(np.float64) <= atol + rtol * np.abs(e).astype(np.float64)
    with np.errstate(all="ignore"):
        return np.isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan)


class TensorLikePair(Pair):
    _extra_repr = ("rtol", "atol", "equal_nan", "check_device", "check_dtype", "check_layout", "check_stride")

    def __init__(self, actual, expected, *, id=(), allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, **options):
        if not (isinstance(actual, type(expected)) or isinstance(expected, type(actual))):
            raise UnsupportedInputs
        if not allow_subclasses and type(actual) is not type(expected):
            raise UnsupportedInputs
        actual, expected = self._to_tensor_like(actual), self._to_tensor_like(expected)
        super().__init__(actual, expected, id=id, **options)
        self.rtol, self.atol = get_tolerances(actual.dtype, expected.dtype, rtol=rtol, atol=atol, id=id)
        self.equal_nan, self.check_device, self.check_dtype = equal_nan, check_device, check_dtype
        self.check_layout, self.check_stride = check_layout, check_stride

    @staticmethod
    def _to_tensor_like(x):
        if isinstance(x, (Tensor, np.ndarray)):
            return x
        try:
            array = np.asarray(x)
        except Exception:
            raise UnsupportedInputs from None
        if array.dtype.kind in "OUSVMm":
            raise UnsupportedInputs
        return array

    @staticmethod
    def _strides(x):
        if isinstance(x, Tensor):
            return tuple(x.stride())
        return tuple(s // x.itemsize for s in x.strides)

    def _mismatch(self, attribute, actual_value, expected_value):
        self._fail(AssertionError, f"The values for attribute '{attribute}' do not match: "
                                   f"{actual_value} != {expected_value}.")

    def compare(self):
        actual, expected = self.actual, self.expected
        if tuple(actual.shape) != tuple(expected.shape):
            self._mismatch("shape", _torch_size(actual.shape), _torch_size(expected.shape))
        if self.check_stride and self._strides(actual) != self._strides(expected):
            self._mismatch("stride()", self._strides(actual), self._strides(expected))
        if self.check_device and isinstance(actual, Tensor) and actual.device != expected.device:
            self._mismatch("device", actual.device, expected.device)
        if self.check_dtype and actual.dtype != expected.dtype:
            self._mismatch("dtype", _torch_dtype(actual.dtype), _torch_dtype(expected.dtype))
        a, e = (x.detach().cpu().numpy() if isinstance(x, Tensor) else np.asarray(x) for x in (actual, expected))
        if a.dtype != e.dtype:
            dtype = _promoted(a.dtype, e.dtype)
            a, e = a.astype(dtype), e.astype(dtype)
        self._compare_values(a, e)

    def _compare_values(self, a, e):
        matches = isclose(a, e, rtol=self.rtol, atol=self.atol, equal_nan=self.equal_nan)
        if bool(np.all(matches)):
            return
        if a.shape == ():
            msg = scalar_mismatch_msg(a.item(), e.item(), rtol=self.rtol, atol=self.atol)
        else:
            msg = tensor_mismatch_msg(a, e, np.asarray(matches), rtol=self.rtol, atol=self.atol)
        self._fail(AssertionError, msg)
