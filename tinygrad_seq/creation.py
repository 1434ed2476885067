"""Free tensor constructors (torch's): ts.tensor, as_tensor, from_numpy, zeros, ones, empty,
full, eye, arange, linspace, randn, rand, randint, randperm, multinomial, the *_like forms, the
legacy ts.LongTensor / FloatTensor / BoolTensor; each takes dtype=, device=, requires_grad= as torch's."""
import numbers
import operator
import sys
import warnings

import numpy as np

from tinygrad_seq import creation_checks as checks, device as _device, dtypes, random
from tinygrad_seq.errors import DTypeMismatch, InvalidArgument, UnsupportedData
from tinygrad_seq.host_data import to_array
from tinygrad_seq.int_convert import float_scalar, int_array, int_scalar
from tinygrad_seq.like_strides import laid_out, like_strides
from tinygrad_seq.list_dtype import list_data, only_python_numbers
from tinygrad_seq.numpy_interop import check_numpy_array, shared_array
from tinygrad_seq.range_out import RANGE_FACTORIES, shaped_like_out
from tinygrad_seq.size import Size
from tinygrad_seq.argument_types import as_tensor_argument, is_tensor  # noqa: F401  (ts.is_tensor)
from tinygrad_seq.tensor import Tensor
from tinygrad_seq.user_warning import warn_once


def _shape(shape, size=None):
    """The shape from varargs (2, 3) or one sequence ((2, 3)), or torch's size= keyword."""
    if size is not None:
        if shape:
            raise TypeError(f"got a shape both as arguments {shape} and as size={size!r}")
        shape = (size,)
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    elif not shape:   # torch: zeros() is missing its size (zeros(()) is the 0-d shape)
        raise TypeError("missing the size argument: pass the shape, e.g. zeros(2, 3), or () for a 0-d tensor")
    try:   # operator.index: ints, numpy ints and integer tensors; a float size is a TypeError, as torch's
        out = tuple(map(operator.index, shape))
    except TypeError:
        raise TypeError(f"size must be a tuple of ints, got {shape!r}") from None
    if any(s < 0 for s in out):
        raise InvalidArgument(f"negative dimension in shape {out}: dimension sizes must be non-negative")
    return out


def _float_dtype(dtype):
    return dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)


def _write_out(out, t, name):
    """torch's out= of a creation function: out (resized as needed) holds the result in out's dtype."""
    from tinygrad_seq.functions import _into
    if name in RANGE_FACTORIES:   # an out of the same element count keeps its shape
        t = shaped_like_out(out, t, name)
    return _into(out, t if t.dtype == getattr(out, "dtype", t.dtype) else t.to(dtype=out.dtype), name)


def _real_number(value, name):
    """value as a real number: complex ones raise (tinygrad_seq has no complex dtypes)."""
    if isinstance(value, (complex, np.complexfloating)):
        raise InvalidArgument(f"{name}: complex value {value!r}: tinygrad_seq has no complex dtypes")
    return value


def _range_bound(value, name, which):
    """linspace / logspace's start or end: a number, or the value of a 0-d tensor (torch's)."""
    if isinstance(value, Tensor):
        if value.ndim:
            raise InvalidArgument(f"{name} only supports 0-dimensional start and end tensors, but got {which} "
                                  f"with {value.ndim} dimension(s).")
        value = value.item()
    return _real_number(value, name)


def _make(arr, dtype, device, requires_grad):
    """Tensor of host array arr (already of its final dtype) on device."""
    dev = _device.canonical(device)
    if requires_grad and arr.dtype.kind != "f":
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    data = arr if dev == "cpu" else _device.backend(dev).asarray(arr)
    return Tensor._wrap(data, dev, bool(requires_grad))


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of data (torch.tensor); a Tensor's copy stays on its device
    unless device= says otherwise. pin_memory is accepted, as CPU memory needs no pinning here."""
    if type(data) is list:
        # the common case first: Python numbers (flat, or nested lists of them) go straight to
        # API.md's conversion; anything else in the list takes torch's typed inference below
        kinds = set(map(type, data))
        if kinds <= _PLAIN or (kinds == _LIST and only_python_numbers(data, depth=1)):
            try:
                arr = to_array(data, dtype)
            except (OverflowError, ValueError) as e:   # (ValueError: numpy's for nan)
                arr = _int_data(data, dtype, e)
            return _make(arr, dtype, device or "cpu", requires_grad)
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() "
                      "or sourceTensor.detach().clone().requires_grad_(True), rather than "
                      "torch.tensor(sourceTensor).", UserWarning, stacklevel=2)   # torch's
        device = device or data.device
        data = data.numpy()
    elif isinstance(data, Size):   # torch.tensor(x.size()): the sizes as int64 data (Tensor(size) is a shape)
        data = tuple(data)
    elif data is None:
        raise DTypeMismatch("Could not infer dtype of NoneType: tensor(None) has no data")
    elif isinstance(data, (list, tuple)) and not only_python_numbers(data):
        # torch's inference for a list: numpy scalars, arrays and 0-d tensors keep their dtypes
        if data and isinstance(data[0], np.ndarray):
            _warn_list_of_ndarrays()
        data, inferred = list_data(data)
        dtype = inferred if dtype is None else dtype
    if isinstance(data, np.ndarray):
        check_numpy_array(data)
    if dtype is None and isinstance(data, (np.ndarray, np.generic)) and data.dtype.kind in "iu":
        dtype = data.dtype   # torch.tensor keeps a numpy array's integer type (Tensor(): int64)
    if isinstance(data, (complex, np.complexfloating)) or "complex" in str(getattr(data, "dtype", "")):
        # (str: a foreign tensor's dtype, torch's, is no numpy dtype)
        raise InvalidArgument("tensor: complex data: tinygrad_seq has no complex dtypes")
    try:
        return Tensor(np.array(data, copy=True) if isinstance(data, np.ndarray) else data, dtype=dtype,
                      device=device or "cpu", requires_grad=requires_grad)
    except (OverflowError, ValueError) as e:
        if "inhomogeneous" in str(e):   # a number where the other rows hold sequences: torch's TypeError
            raise UnsupportedData(f"not a sequence ({e})") from None
        return _make(_int_data(data, dtype, e), dtype, device or "cpu", requires_grad)


_PLAIN = frozenset((float, int, bool))
_LIST = frozenset((list,))
def _warn_list_of_ndarrays():   # torch's TORCH_WARN_ONCE: once a process, whatever the warning filters
    warn_once("tensor_from_ndarray_list", "Creating a tensor from a list of numpy.ndarrays is extremely slow. Please "
              "consider converting the list to a single numpy.ndarray with numpy.array() before converting to a "
              "tensor.")


def _int_data(data, dtype, error):
    """Python ints that numpy refused for dtype: torch wraps a negative one into an unsigned
    dtype (tensor([-1], dtype=uint8) is 255) and raises for the others (int_convert)."""
    dt = dtypes.as_dtype(dtype) if dtype is not None else None
    if dt is None or dt.kind not in "iu":
        raise error
    checks.check_float_data_into_int(data, dt)   # nan, inf, 1e30 for int64: torch's RuntimeError
    if not isinstance(error, OverflowError):
        raise error
    return int_array(data, dt)


def as_tensor(data, dtype=None, device=None):
    """data as a tensor, sharing memory when it already is one of the right dtype and device."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype)
    if isinstance(data, Size):   # the sizes as data, as torch.as_tensor(x.size())
        data = tuple(data)
    elif isinstance(data, np.ndarray):
        check_numpy_array(data)
    elif dtype is None and isinstance(data, np.generic) and data.dtype.kind in "biuf":
        dtype = data.dtype   # as_tensor(np.int32(42)) is int32, as torch's
    if isinstance(data, np.ndarray) and (dtype is None or dtypes.as_dtype(dtype) == data.dtype) \
            and _device.canonical(device or "cpu") == "cpu":
        return from_numpy(data)
    if dtype is None and isinstance(data, (list, tuple)):   # torch.tensor's inference (numpy scalars keep theirs)
        return tensor(data, device=device or "cpu")
    return Tensor(data, dtype=dtype, device=device or "cpu")


def from_numpy(arr):
    """A CPU tensor over arr's memory: writes to one show in the other (torch.from_numpy)."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(arr).__name__}")
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"from_numpy: unsupported dtype {arr.dtype}")
    check_numpy_array(arr)
    return Tensor._wrap(shared_array(arr), "cpu")


def numel(t):
    return t.numel()


# out= (torch's): one `out is None` test at the end keeps the common call as fast as before
def zeros(*shape, size=None, dtype=None, device="cpu", requires_grad=False, out=None):
    t = _make(np.zeros(_shape(shape, size), _float_dtype(dtype)), dtype, device, requires_grad)
    return t if out is None else _write_out(out, t, "zeros")


def ones(*shape, size=None, dtype=None, device="cpu", requires_grad=False, out=None):
    t = _make(np.ones(_shape(shape, size), _float_dtype(dtype)), dtype, device, requires_grad)
    return t if out is None else _write_out(out, t, "ones")


def empty(*shape, size=None, dtype=None, device="cpu", requires_grad=False, out=None):
    """Uninitialised in torch; zeros here (the same cost for numpy, and reproducible)."""
    return zeros(*shape, size=size, dtype=dtype, device=device, requires_grad=requires_grad, out=out)


def full(size, fill_value, dtype=None, device="cpu", requires_grad=False, out=None):
    if isinstance(size, numbers.Integral):   # torch's: full(2, v) is a TypeError, full((2,), v) the form
        raise TypeError(f"full(): argument 'size' must be a tuple of ints, not {type(size).__name__}")
    fill_value = _real_number(fill_value.item() if isinstance(fill_value, Tensor) and fill_value.ndim == 0
                              else fill_value, "full")   # (a 0-d tensor counts as its Python number, as torch's)
    if dtype is None:   # torch infers the dtype from the fill value
        if isinstance(fill_value, (bool, np.bool_)):
            dtype = np.bool_
        elif isinstance(fill_value, numbers.Integral):
            dtype = np.int64
    dt = _float_dtype(dtype)
    if dt.kind == "f":
        float_scalar(fill_value, dt)   # full((2,), 1e5, dtype=float16) raises, as torch's
    elif dt.kind in "iu" and isinstance(fill_value, (float, np.floating)):
        checks.check_float_into_int(fill_value, dt)   # inf, nan, 1e10 into int32 raise, as torch's
    try:
        arr = np.full(_shape((tuple(size),)), fill_value, dt)
    except OverflowError:   # an int outside an integer dtype: wrapped or refused as torch's (int_convert)
        if dt.kind not in "iu" or not isinstance(fill_value, numbers.Integral):
            raise
        arr = np.full(_shape((tuple(size),)), int_scalar(fill_value, dt), dt)
    t = _make(arr, dtype, device, requires_grad)
    return t if out is None else _write_out(out, t, "full")


def eye(n, m=None, dtype=None, device="cpu", requires_grad=False, out=None):
    if n < 0 or (m is not None and m < 0):
        raise InvalidArgument(f"eye: n and m must be greater or equal to 0, got n={n}, m={m}")
    t = _make(np.eye(n, m, dtype=_float_dtype(dtype)), dtype, device, requires_grad)
    return t if out is None else _write_out(out, t, "eye")


def arange(start=None, end=None, step=1, dtype=None, device="cpu", requires_grad=False, out=None):
    """arange(end), arange(start, end, step=1), or with start=/end=/step= keywords."""
    if end is None:
        if start is None:
            raise TypeError("arange() missing the end argument")
        start, end = 0, start
    elif start is None:
        start = 0
    vals = [_real_number(v.item() if isinstance(v, Tensor) else v, "arange") for v in (start, end, step)]
    if not all(map(np.isfinite, vals[:2])):   # (int(inf) would be an OverflowError)
        raise InvalidArgument(f"unsupported range: {vals[0]} -> {vals[1]}")
    dtype = checks.dtype_of_out(dtype, out)
    if dtype is None:
        is_int = all(isinstance(v, numbers.Integral) for v in vals)
        dtype = np.int64 if is_int else dtypes.get_default_dtype()
    dt = dtypes.as_dtype(dtype)
    if dt.kind in "iub":
        if dt.itemsize < 8:   # int32 and narrower, bool: torch's other rules
            arr = _narrow_arange(vals, dt)
        else:   # int64: torch's kernel truncates start, end and step to integers first
            vals = [int(v) for v in vals]
            if vals[2] == 0:
                raise InvalidArgument("arange: step must be nonzero")
            arr = np.arange(*vals).astype(dt)
    else:
        if vals[2] == 0:
            raise InvalidArgument("arange: step must be nonzero")
        try:
            arr = np.arange(*vals).astype(dt)
        except ValueError:   # nan or inf bounds
            raise InvalidArgument(f"unsupported range: {vals[0]} -> {vals[1]}") from None
    if not arr.size:
        _check_step_sign(*vals)   # (a sign mismatch gives no elements: only then the check)
    t = _make(arr, dtype, device, requires_grad)
    return t if out is None else _write_out(out, t, "arange")


def _check_step_sign(start, end, step):
    if (step > 0 and end < start) or (step < 0 and end > start):
        raise InvalidArgument("upper bound and lower bound inconsistent with step sign")


def _narrow_arange(vals, dt):
    """arange in an integer dtype narrower than int64, as torch's kernel gives it: it counts the
    elements from the values as given and steps from the truncated start by the truncated step
    (arange(0, 3, 0.7, dtype=int32) is five 0s; int64 truncates all three first, so a step
    truncated to 0 raises there). bool has no kernel (NotImplementedError)."""
    if dt.kind == "b":
        raise NotImplementedError('"arange_cpu" not implemented for \'Bool\'')
    start, end, step = vals
    if step == 0:
        raise InvalidArgument("arange: step must be nonzero")
    if all(isinstance(v, numbers.Integral) for v in vals):
        return np.arange(start, end, step).astype(dt)
    _check_step_sign(start, end, step)
    n = max(0, int(np.ceil((end - start) / step)))
    return (int(start) + np.arange(n, dtype=np.int64) * int(step)).astype(dt)


def linspace(start, end, steps, dtype=None, device="cpu", requires_grad=False, out=None):
    start, end = _range_bound(start, "linspace", "start"), _range_bound(end, "linspace", "end")
    dtype = checks.dtype_of_out(dtype, out, same=True)
    dt = checks.range_dtype(_float_dtype(dtype), steps, "linspace_cpu")
    arr = _torch_linspace(start, end, int(steps), dt) if dt in (np.float32, np.float64) else \
        np.linspace(start, end, int(steps)).astype(dt)
    t = _make(arr, dtype, device, requires_grad)
    return t if out is None else _write_out(out, t, "linspace")


def _torch_linspace(start, end, steps, dt):
    """torch's CPU kernel: step in dt, start + step i (first half) or end - step (steps-1-i), one
    rounding each (a wider type for its FMA): float32 bit-equal to torch's, float64 nearly."""
    if steps <= 1:
        if steps < 0:
            raise InvalidArgument("number of steps must be non-negative")
        return np.full(steps, start, dt)
    dt, wide = np.dtype(dt).type, (np.longdouble if np.dtype(dt) == np.float64 else np.float64)
    s, e = dt(start), dt(end)
    step = dt((e - s) / dt(steps - 1))
    i = np.arange(steps).astype(wide)
    return np.where(i < steps // 2, wide(s) + wide(step) * i, wide(e) - wide(step) * (steps - 1 - i)).astype(dt)


def logspace(start, end, steps, base=10.0, dtype=None, device="cpu", requires_grad=False, out=None):
    """base ** linspace(start, end, steps), computed in double and cast, as torch's; an integer
    dtype truncates start and end first, as torch's kernel does (2 ** 1.5 counts from 2 ** 1)."""
    start, end = _range_bound(start, "logspace", "start"), _range_bound(end, "logspace", "end")
    if int(steps) < 0:
        raise InvalidArgument("number of steps must be non-negative")
    dtype = checks.dtype_of_out(dtype, out, same=True)
    dt = checks.range_dtype(_float_dtype(dtype), steps, "logspace_cpu")
    if dt.kind in "iu":
        start, end = int(start), int(end)
    arr = np.power(float(base), np.linspace(start, end, int(steps))).astype(dt)
    t = _make(arr, dtype, device, requires_grad)
    return t if out is None else _write_out(out, t, "logspace")


def _random_float_dtype(dtype, name):
    dt = _float_dtype(dtype)
    if dt.kind != "f":   # torch: NotImplementedError "check_uniform_bounds" not implemented for 'Long'
        raise NotImplementedError(f"{name}: random floats need a floating point dtype, got {dt}; "
                                  f"use randint for integers")
    return dt


def randn(*shape, size=None, dtype=None, device="cpu", requires_grad=False, generator=None, out=None):
    dt = _float_dtype(dtype) if dtype is None else _random_float_dtype(dtype, "randn")
    t = _make(random.normal(_shape(shape, size), generator, dt).astype(dt), dtype, device, requires_grad)
    return t if out is None else _write_out(out, t, "randn")


def rand(*shape, size=None, dtype=None, device="cpu", requires_grad=False, generator=None, out=None):
    dt = _float_dtype(dtype) if dtype is None else _random_float_dtype(dtype, "rand")
    arr = random.uniform(0.0, 1.0, _shape(shape, size), generator, dt).astype(dt)
    t = _make(arr, dtype, device, requires_grad)
    return t if out is None else _write_out(out, t, "rand")


def randint(*args, size=None, dtype=None, device="cpu", generator=None, requires_grad=False, low=None, high=None,
            out=None):
    """randint(high, size), randint(low, high, size), or with low=/high=/size= keywords."""
    pos = list(args)
    if size is None and pos and isinstance(pos[-1], (tuple, list)):
        size = pos.pop()
    if high is None:
        if not pos:
            raise TypeError("randint: missing high")
        high = pos.pop()
    if low is None:
        low = pos.pop() if pos else 0
    if pos or size is None:
        raise TypeError("randint(low=0, high, size): size must be a tuple of ints")
    if high <= low:
        raise InvalidArgument(f"randint: high ({high}) must be greater than low ({low})")
    dt = np.dtype(np.int64) if dtype is None else dtypes.as_dtype(dtype)
    checks.check_randint_bounds(low, high, dt)
    arr = random.generator(generator).integers(low, high, size=_shape((size,))).astype(dt)
    t = _make(arr, dt, device, requires_grad)
    return t if out is None else _write_out(out, t, "randint")


def randperm(n, dtype=None, device="cpu", generator=None, requires_grad=False, out=None):
    dt = np.dtype(np.int64) if dtype is None else dtypes.as_dtype(dtype)
    checks.check_randperm(int(n), dt)
    t = _make(random.generator(generator).permutation(int(n)).astype(dt), dt, device, requires_grad)
    return t if out is None else _write_out(out, t, "randperm")


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """torch.normal: mean and std as tensors (broadcast, one draw each) or numbers with size."""
    m = mean.numpy() if isinstance(mean, Tensor) else np.asarray(mean, dtype=np.float64)
    s = std.numpy() if isinstance(std, Tensor) else np.asarray(std, dtype=np.float64)
    from tinygrad_seq.random_fills import check_normal_std
    check_normal_std(std)
    from tinygrad_seq.broadcast_errors import broadcast_shape   # (torch's RuntimeError for mismatched ones)
    shape = tuple(size) if size is not None else broadcast_shape(m.shape, s.shape)
    ref = mean if isinstance(mean, Tensor) else std if isinstance(std, Tensor) else None
    dt = np.dtype(dtype) if dtype is not None else ref.dtype if ref is not None else dtypes.get_default_dtype()
    dev = device or (ref.device if ref is not None else "cpu")
    if not isinstance(mean, Tensor) and not isinstance(std, Tensor):   # torch's normal_(mean, std)
        out = random.normal(shape, generator, dt, float(m), float(s))
    else:   # torch's normal_(0, 1), then mul_(std) and add_(mean), in dt
        out = random.normal(shape, generator, dt) * s.astype(dt) + m.astype(dt)
    out = out.astype(dt)
    return _make(out, dt, dev, requires_grad)


def _like(fn, t, dtype, device, requires_grad, *args, memory_format=None, fill=None, **kw):
    """fn(*args, t.shape) of t's dtype and device, laid out as memory_format says (like_strides.py); fill:
    the in-place random fill drawing a non-row-major one in its memory order (torch's empty_like(t).uniform_())."""
    if getattr(type(t), "_is_uninitialized", False):   # an nn.UninitializedParameter: torch's ValueError
        t._refuse_use(sys._getframe(1).f_code.co_name)   # named by the caller (empty_like, ...)
    t = as_tensor_argument(t, sys._getframe(1).f_code.co_name)   # named by the caller (zeros_like, ...)
    strides = like_strides(t, memory_format, device)   # None: row-major, the common case
    kw.update(dtype=dtype or t.dtype, device=device or t.device, requires_grad=requires_grad)
    if strides is None:
        return fn(*args, t.shape, **kw)
    if fill is not None:
        return laid_out(zeros(t.shape, dtype=kw["dtype"]), strides, requires_grad, fill)
    return laid_out(fn(*args, t.shape, **kw), strides, requires_grad)


def zeros_like(input, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _like(zeros, input, dtype, device, requires_grad, memory_format=memory_format)


def ones_like(input, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _like(ones, input, dtype, device, requires_grad, memory_format=memory_format)


def empty_like(input, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _like(zeros, input, dtype, device, requires_grad, memory_format=memory_format)


def randn_like(input, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _like(randn, input, dtype, device, requires_grad, memory_format=memory_format, fill=lambda o: o.normal_())


def rand_like(input, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _like(rand, input, dtype, device, requires_grad, memory_format=memory_format, fill=lambda o: o.uniform_())


def randint_like(input, low=0, high=None, dtype=None, device=None, requires_grad=False, memory_format=None,
                 generator=None):
    """randint_like(input, high) or randint_like(input, low, high): input's shape, dtype and device, as torch's."""
    if high is None:
        low, high = 0, low
    return _like(randint, input, dtype, device, requires_grad, low, high, memory_format=memory_format,
                 fill=lambda o: o.random_(low, high, generator=generator), generator=generator)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False, memory_format=None):
    return _like(lambda shape, **kw: full(shape, fill_value, **kw), input, dtype, device, requires_grad,
                 memory_format=memory_format)


from tinygrad_seq.bernoulli_draws import bernoulli  # noqa: E402,F401  (its old home)
from tinygrad_seq.functions import cat, stack, where  # noqa: E402,F401  (their old home: nn imports them here)
from tinygrad_seq.random_multinomial import _multinomial_rows, multinomial  # noqa: E402,F401  (their old home)
