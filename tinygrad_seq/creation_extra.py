"""torch's less common constructors: scalar_tensor (a 0-d tensor in the default float dtype),
asarray (shares memory with a tensor or numpy array when dtype and device allow, as torch's) and
the deprecated range (end included, with torch's warning)."""
import math
import numbers
import warnings

import numpy as np

from tinygrad_seq import device as _device
from tinygrad_seq import dtypes


def scalar_tensor(s, *, dtype=None, layout=None, device=None, pin_memory=None, requires_grad=False):
    """s as a 0-d tensor of dtype (the default float dtype when not given, whatever s is)."""
    from tinygrad_seq.creation import tensor
    if getattr(s, "ndim", None) == 0 and hasattr(s, "item"):   # a 0-d tensor is a number to torch's parser
        s = s.item()
    if not isinstance(s, (numbers.Number, np.generic)):
        raise TypeError(f"scalar_tensor(): argument 's' must be Number, not {type(s).__name__}")
    return tensor(s, dtype=dtypes.get_default_dtype() if dtype is None else dtype, device=device,
                  requires_grad=requires_grad)


def _cannot_alias(what):
    return ValueError(f"can't alias {what}: asarray(..., copy=False) needs the data's own dtype and device")


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=None):
    """obj as a tensor. A tensor or numpy array of the asked dtype and device is shared (the
    tensor itself is returned; a numpy array's memory is used), unless copy=True; copy=False
    where a copy is needed raises ValueError, as torch's. Other data (lists, numbers) is copied
    into a new tensor (torch.tensor's dtype rules). requires_grad, as torch 2.13's: None (the
    default) keeps a tensor's own (its grad_fn too, through a cast or copy); True sets it on the
    result, which may be obj itself; False gives a result outside the graph: a leaf's flag is
    cleared (obj itself, when returned, as torch does) and a computed tensor is detached (an
    alias sharing its memory)."""
    from tinygrad_seq.creation import from_numpy, tensor
    from tinygrad_seq.tensor import Tensor
    dt = dtypes.as_dtype(dtype)
    dev = None if device is None else _device.canonical(device)
    if isinstance(obj, Tensor):
        same = (dt is None or dt == obj.dtype) and (dev is None or dev == _device.canonical(obj.device))
        if not same and copy is False:
            raise _cannot_alias(f"tensor with dtype {obj.dtype} into dtype {dt}")
        out = obj.to(device=dev, dtype=dt) if not same else obj
        out = out.clone() if copy and out is obj else out
    elif isinstance(obj, np.ndarray) and obj.dtype.kind in "fiub":
        same = (dt is None or dt == obj.dtype) and (dev is None or dev == "cpu")
        if not same and copy is False:
            raise _cannot_alias(f"numpy array with dtype {obj.dtype} into dtype {dt}")
        if same and not copy:
            out = from_numpy(obj)
        else:
            out = tensor(obj, dtype=dt, device=dev)
    else:
        if copy is False:
            raise ValueError("can't alias arbitrary sequence into a tensor.")
        out = tensor(obj, dtype=dt, device=dev)
    if requires_grad:
        out.requires_grad_(True)
    elif requires_grad is not None and out.requires_grad:
        out = out.requires_grad_(False) if out._ctx is None else out.detach()
    return out


def _range_number(value, name, position):
    """A bound or step of range as a Python number: a 0-d tensor is one to torch's parser."""
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        value = value.item()
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if not isinstance(value, numbers.Real):
        raise TypeError(f"range(): argument '{name}' (position {position}) must be Number, not {type(value).__name__}")
    return value


def range(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """[start, start + step, ..., end] (end included, unlike arange) in the default float dtype
    (out's with out= and no dtype) unless dtype= says; deprecated in torch, which warns as here.
    out= is resized to the result, as torch's."""
    from tinygrad_seq.creation import _make
    from tinygrad_seq.functions import _into
    from tinygrad_seq.range_out import shaped_like_out
    from tinygrad_seq.tensor_matmul import scalar_name
    warnings.warn("torch.range is deprecated and will be removed in a future release because its behavior is "
                  "inconsistent with Python's range builtin. Instead, use torch.arange, which produces values in "
                  "[start, end).", UserWarning, stacklevel=2)
    if end is None:
        raise TypeError('range() missing 1 required positional arguments: "end"')
    start, end, step = (_range_number(v, n, i) for i, (v, n) in enumerate(
        ((start, "start"), (end, "end"), (step, "step")), 1))
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (step > 0 and end < start) or (step < 0 and end > start):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if out is not None and dtype is not None and dtypes.as_dtype(dtype) != out.dtype:
        raise RuntimeError(f"dtype {scalar_name(dtypes.as_dtype(dtype))} does not match dtype of out "
                           f"parameter ({scalar_name(out.dtype)})")
    dt = dtypes.as_dtype(dtype) if dtype is not None else out.dtype if out is not None else dtypes.get_default_dtype()
    n = int(math.floor((end - start) / step)) + 1
    values = (start + np.arange(n, dtype=np.float64) * step).astype(dt)
    if out is None:
        return _make(values, dt, device or "cpu", requires_grad)
    _into(out, shaped_like_out(out, _make(values, dt, out.device, False), "range"), "range")
    return out.requires_grad_(True) if requires_grad else out


FUNCTIONS = dict(scalar_tensor=scalar_tensor, asarray=asarray, range=range)
