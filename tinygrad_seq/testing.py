"""torch.testing.assert_close as torch's: values within atol + rtol * |expected| (defaults by
dtype: float16 1e-3 / 1e-5, float32 1.3e-6 / 1e-5, float64 1e-7 / 1e-7, integers exact), the same
shape, dtype (check_dtype) and device (check_device); nan equal when equal_nan. An AssertionError
names the mismatched elements and the largest differences."""
import numpy as np

from tinygrad_seq.tensor import Tensor

_TOLERANCES = {np.dtype(np.float16): (1e-3, 1e-5), np.dtype(np.float32): (1.3e-6, 1e-5),
               np.dtype(np.float64): (1e-7, 1e-7)}


def _array(x):
    if isinstance(x, Tensor):
        return x.detach().cpu().numpy(), x.device
    return np.asarray(x), None


def assert_close(actual, expected, *, allow_subclasses=True, rtol=None, atol=None, equal_nan=False,
                 check_device=True, check_dtype=True, check_layout=True, check_stride=False, msg=None):
    if actual is None or expected is None:
        if actual is not expected:
            raise AssertionError(msg or f"None mismatch: {actual} is not {expected}")
        return
    if (rtol is None) != (atol is None):
        raise ValueError("Both 'rtol' and 'atol' must be either specified or omitted, "
                         f"but got no {'rtol' if rtol is None else 'atol'}.")
    if isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)):
        if len(actual) != len(expected):
            raise AssertionError(f"The length of the sequences mismatch: {len(actual)} != {len(expected)}")
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=check_device,
                         check_dtype=check_dtype, msg=msg)
        return
    if isinstance(actual, dict) and isinstance(expected, dict):
        if set(actual) != set(expected):
            raise AssertionError(f"The keys of the mappings do not match: {sorted(actual)} != {sorted(expected)}")
        for k in actual:
            assert_close(actual[k], expected[k], rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_device=check_device, check_dtype=check_dtype, msg=msg)
        return
    a, dev_a = _array(actual)
    e, dev_e = _array(expected)
    if a.shape != e.shape:
        raise AssertionError(msg or f"The values for attribute 'shape' do not match: {a.shape} != {e.shape}.")
    if check_dtype and a.dtype != e.dtype:
        raise AssertionError(msg or f"The values for attribute 'dtype' do not match: torch.{a.dtype} != torch.{e.dtype}.")
    if check_device and dev_a is not None and dev_e is not None and dev_a != dev_e:
        raise AssertionError(msg or f"The values for attribute 'device' do not match: {dev_a} != {dev_e}.")
    if rtol is None:   # the looser of the two dtypes' (torch's), exact for integers and bools
        rtol, atol = (max(t) for t in zip(_TOLERANCES.get(a.dtype, (0.0, 0.0)), _TOLERANCES.get(e.dtype, (0.0, 0.0))))
    if a.dtype.kind in "biu" and e.dtype.kind in "biu":
        close = a.astype(np.int64) == e.astype(np.int64) if a.dtype.kind != "u" or e.dtype.kind != "u" else a == e
    else:
        close = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if not close.all():
        bad = int((~close).sum())
        diff = np.abs(a.astype(np.float64) - e.astype(np.float64))
        where = np.unravel_index(int(np.argmax(np.where(close, -1, diff))), a.shape) if a.ndim else ()
        rel = diff / np.maximum(np.abs(e.astype(np.float64)), np.finfo(np.float64).tiny)
        raise AssertionError(msg or (f"Tensor-likes are not close!\n\nMismatched elements: {bad} / {a.size} "
                                     f"({100.0 * bad / max(a.size, 1):.1f}%)\nGreatest absolute difference: "
                                     f"{float(diff.max())} at index {where} (up to {atol} allowed)\n"
                                     f"Greatest relative difference: {float(rel.max())} (up to {rtol} allowed)"))


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg=""):
    """The deprecated form: dtypes need not match."""
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=False, msg=msg or None)
