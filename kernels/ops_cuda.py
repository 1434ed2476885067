"""Primitive array ops on numba.cuda device arrays: launch configs, device views, elementwise
ops, creation, copies and shapes. The other op modules build on these: gemm_cuda (GEMM, matmul),
reduce_cuda (sum, max, argmax, mean), softmax_cuda (softmax, log-softmax, cross entropy),
gather_cuda (embedding gathers and scatters).

Arrays in, arrays out; every function accepts numba device arrays (host numpy arrays are copied
to the device first) and returns new C-contiguous device arrays unless it says "in place".
Floating ops keep the input dtype (float32 or float64); comparisons return that float dtype
(1.0 / 0.0). Kernels are built per (op, dtype) on first use and cached; every launch
configuration comes from `launch_1d` (gemm_cuda: `gemm_config`), so the simulator gets small
blocks.

Operands that are not C-contiguous (numba slices, broadcasts) are read through a flat 1-D
view of the memory they span plus element strides, so views never need a copy to be read.
"""
import builtins
import math

import numpy as np
from numba import config, cuda, from_dtype

SIM = bool(config.ENABLE_CUDASIM)
THREADS = 32 if SIM else 256          # threads per block of the 1-D and row kernels
MAX_BLOCKS = 1 if SIM else 65535      # grid-stride loops cover the rest
_cache = {}


# ---------------------------------------------------------------- launch configs and views

def launch_1d(n, threads=THREADS):
    """(blocks, threads) for a grid-stride loop over n items."""
    return builtins.max(1, min(MAX_BLOCKS, -(-n // threads))), threads


def is_device(a):
    return hasattr(a, "copy_to_host")


def as_device(a, dtype=None):
    """Device array of `a`; host data is copied over (cast to dtype when given)."""
    if is_device(a):
        return a if dtype is None or a.dtype == np.dtype(dtype) else astype(a, dtype)
    return cuda.to_device(np.ascontiguousarray(np.asarray(a, dtype=dtype)))


def to_host(a):
    return a.copy_to_host() if is_device(a) else np.asarray(a)


def empty(shape, dtype):
    """Uninitialised device array."""
    return cuda.device_array(shape, np.dtype(dtype))


def flat_view(a):
    """(1-D array over the memory a spans, element strides of a). Nonnegative strides only."""
    item = a.dtype.itemsize
    strides = tuple(int(s) // item for s in a.strides)
    if a.size == 0:
        return a.reshape(0) if a.is_c_contiguous() else cuda.device_array(0, a.dtype), strides
    if a.is_c_contiguous() and all(s != 0 for s, n in zip(strides, a.shape) if n > 1):
        return a.reshape(a.size), strides
    assert all(s >= 0 for s in strides), "negative strides are not supported"
    extent = 1 + builtins.sum((n - 1) * s for n, s in zip(a.shape, strides))
    if SIM:
        from numba.cuda.simulator.cudadrv.devicearray import FakeCUDAArray
        base = np.lib.stride_tricks.as_strided(a._ary, (extent,), (item,))
        return FakeCUDAArray(base), strides
    from numba.cuda.cudadrv.devicearray import DeviceNDArray
    return DeviceNDArray((extent,), (item,), a.dtype, gpu_data=a.gpu_data), strides


def _bstrides(a, shape):
    """Element strides of a broadcast to shape (0 on broadcast dims), numpy rules."""
    _, st = flat_view(a)
    pad = len(shape) - a.ndim
    out = [0] * pad
    for d in range(a.ndim):
        out.append(0 if a.shape[d] == 1 and shape[pad + d] != 1 else st[d])
    return tuple(out)


def _offset(i, shape, st):
    # element offset of flat output index i (C order over shape) in an operand with strides st
    off = 0
    for d in range(len(shape) - 1, -1, -1):
        n = shape[d]
        off += (i % n) * st[d]
        i //= n
    return off


offset_dev = cuda.jit(device=True, inline=True)(_offset)


# ---------------------------------------------------------------- elementwise

def _scalar_fns(dt):
    """Device functions of one scalar per op, with constants of dtype dt (no float64 leaks)."""
    one = dt(1.0)
    zero = dt(0.0)
    dj = cuda.jit(device=True, inline=True)

    def sigmoid(x):
        if x >= zero:
            return one / (one + math.exp(-x))
        e = math.exp(x)
        return e / (one + e)

    def sign(x):
        return one if x > zero else (-one if x < zero else zero)

    return {
        "neg": dj(lambda x: -x), "exp": dj(lambda x: math.exp(x)), "log": dj(lambda x: math.log(x)),
        "tanh": dj(lambda x: math.tanh(x)), "sigmoid": dj(sigmoid),
        "relu": dj(lambda x: x if x > zero else zero), "abs": dj(lambda x: math.fabs(x)),
        "sqrt": dj(lambda x: math.sqrt(x)), "sign": dj(sign),
        "logical_not": dj(lambda x: one if x == zero else zero),
        "add": dj(lambda x, y: x + y), "sub": dj(lambda x, y: x - y), "mul": dj(lambda x, y: x * y),
        "div": dj(lambda x, y: x / y), "power": dj(lambda x, y: x ** y),
        "maximum": dj(lambda x, y: x if x >= y else y), "minimum": dj(lambda x, y: x if x <= y else y),
        "gt": dj(lambda x, y: one if x > y else zero), "ge": dj(lambda x, y: one if x >= y else zero),
        "lt": dj(lambda x, y: one if x < y else zero), "le": dj(lambda x, y: one if x <= y else zero),
        "eq": dj(lambda x, y: one if x == y else zero), "ne": dj(lambda x, y: one if x != y else zero),
        "where": dj(lambda c, x, y: x if c != 0 else y),
    }


UNARY = ("neg", "exp", "log", "tanh", "sigmoid", "relu", "abs", "sqrt", "sign", "logical_not")
BINARY = ("add", "sub", "mul", "div", "power", "maximum", "minimum", "gt", "ge", "lt", "le", "eq", "ne")


def _scalar_fn(name, dtype):
    key = ("fns", np.dtype(dtype))
    if key not in _cache:
        _cache[key] = _scalar_fns(from_dtype(np.dtype(dtype)).cast_python_value)
    return _cache[key][name]


def _arity(name):
    return 3 if name == "where" else (2 if name in BINARY else 1)


def _ew_kernels(name, dtype):
    """(flat, strided) kernels of op `name`: out [n] contiguous, operands flat + strides."""
    key = ("ew", name, np.dtype(dtype))
    if key in _cache:
        return _cache[key]
    f = _scalar_fn(name, dtype)
    nin = _arity(name)
    if nin == 1:
        @cuda.jit(fastmath=True)
        def flat(out, a):
            for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
                out[i] = f(a[i])

        @cuda.jit(fastmath=True)
        def strided(out, shape, a, sa):
            for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
                out[i] = f(a[offset_dev(i, shape, sa)])
    elif nin == 2:
        @cuda.jit(fastmath=True)
        def flat(out, a, b):
            for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
                out[i] = f(a[i], b[i])

        @cuda.jit(fastmath=True)
        def strided(out, shape, a, sa, b, sb):
            for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
                out[i] = f(a[offset_dev(i, shape, sa)], b[offset_dev(i, shape, sb)])
    else:
        @cuda.jit(fastmath=True)
        def flat(out, c, a, b):
            for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
                out[i] = f(c[i], a[i], b[i])

        @cuda.jit(fastmath=True)
        def strided(out, shape, c, sc, a, sa, b, sb):
            for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
                out[i] = f(c[offset_dev(i, shape, sc)], a[offset_dev(i, shape, sa)],
                           b[offset_dev(i, shape, sb)])
    _cache[key] = (flat, strided)
    return flat, strided


def _scalar_operand(v, dtype):
    return v if is_device(v) else cuda.to_device(np.asarray(v, dtype).reshape(np.shape(v)))


def elementwise(name, *operands):
    """Apply op `name` (UNARY, BINARY or "where") with numpy broadcasting -> broadcast shape.
    Python scalars are accepted as operands; the result dtype is the first float operand's."""
    dtype = next((o.dtype for o in operands if is_device(o) and o.dtype.kind == "f"),
                 next((o.dtype for o in operands if is_device(o)), np.dtype(np.float64)))
    ops = [_scalar_operand(o, dtype) for o in operands]
    if name == "where":
        ops = [ops[0] if ops[0].dtype == dtype else astype(ops[0], dtype)] + ops[1:]
    ops = [o if o.dtype == dtype else astype(o, dtype) for o in ops]
    shape = np.broadcast_shapes(*[o.shape for o in ops])
    out = cuda.device_array(shape, dtype)
    if out.size == 0:
        return out
    flat, strided = _ew_kernels(name, dtype)
    blocks, threads = launch_1d(out.size)
    if all(o.shape == shape and o.is_c_contiguous() for o in ops):
        flat[blocks, threads](out.reshape(out.size), *[o.reshape(o.size) for o in ops])
    else:
        args = []
        for o in ops:
            args += [flat_view(o)[0], _bstrides(o, shape)]
        strided[blocks, threads](out.reshape(out.size), tuple(shape) or (1,), *args)
    return out


def _unary(name):
    def fn(a):
        return elementwise(name, a)
    fn.__name__ = name
    fn.__doc__ = f"{name}(a) elementwise -> a.shape"
    return fn


def _binary(name):
    def fn(a, b):
        return elementwise(name, a, b)
    fn.__name__ = name
    fn.__doc__ = f"{name}(a, b) elementwise with numpy broadcasting -> broadcast shape"
    return fn


neg, exp, log, tanh, sigmoid, relu = (_unary(n) for n in ("neg", "exp", "log", "tanh", "sigmoid", "relu"))
abs, sqrt, sign, logical_not = (_unary(n) for n in ("abs", "sqrt", "sign", "logical_not"))
add, sub, mul, div, power = (_binary(n) for n in ("add", "sub", "mul", "div", "power"))
maximum, minimum = _binary("maximum"), _binary("minimum")
gt, ge, lt, le, eq, ne = (_binary(n) for n in ("gt", "ge", "lt", "le", "eq", "ne"))
pow = power


def where(cond, a, b):
    """cond (nonzero = true), a, b broadcast together -> a where cond else b."""
    return elementwise("where", cond, a, b)

# ---------------------------------------------------------------- creation, copies, shapes

@cuda.jit
def _fill_kernel(out, value):
    for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
        out[i] = value


@cuda.jit
def _copy_kernel(dst, sd, shape, src, ss):
    # strided copy with dtype conversion: dst/src flat views, sd/ss element strides over shape
    n = 1
    for d in range(len(shape)):
        n *= shape[d]
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        dst[offset_dev(i, shape, sd)] = src[offset_dev(i, shape, ss)]


def fill(a, value):
    """In place: every element of the contiguous device array a set to value -> a."""
    if a.size:
        blocks, threads = launch_1d(a.size)
        _fill_kernel[blocks, threads](a.reshape(a.size), a.dtype.type(value))
    return a


def full(shape, value, dtype):
    return fill(cuda.device_array(shape, np.dtype(dtype)), value)


def zeros(shape, dtype):
    return full(shape, 0, dtype)


def ones(shape, dtype):
    return full(shape, 1, dtype)


def _byte_span(a):
    """[first, end) device addresses of the memory a's elements span (nonnegative strides)."""
    start = a._ary.__array_interface__["data"][0] if SIM else a.__cuda_array_interface__["data"][0]
    return start, start + sum((n - 1) * s for n, s in zip(a.shape, a.strides)) + a.dtype.itemsize


def may_overlap(a, b):
    """True when device arrays a and b may share memory (their address ranges meet)."""
    if a.size == 0 or b.size == 0:
        return False
    a0, a1 = _byte_span(a)
    b0, b1 = _byte_span(b)
    return a0 < b1 and b0 < a1


def copy_into(dst, src):
    """In place: dst[...] = src (src broadcast to dst.shape, any strides, dtype converted). A src
    sharing memory with dst (x[1:] = x[:-1]) is copied first: the kernel's threads would read
    elements other threads have already written."""
    if dst.size == 0:
        return dst
    src = _scalar_operand(src, dst.dtype)
    if may_overlap(dst, src):
        src = copy(src)
    shape = tuple(dst.shape) or (1,)
    dflat, dstr = flat_view(dst)
    sflat, _ = flat_view(src)
    sstr = _bstrides(src, tuple(dst.shape)) or (0,)
    blocks, threads = launch_1d(dst.size)
    _copy_kernel[blocks, threads](dflat, dstr or (1,), shape, sflat, sstr)
    return dst


def astype(a, dtype):
    """a converted to dtype, C-contiguous copy."""
    return copy_into(cuda.device_array(a.shape, np.dtype(dtype)), a)


def copy(a):
    """C-contiguous copy of a (any strides)."""
    return astype(a, a.dtype)


def ascontiguous(a):
    return a if a.is_c_contiguous() else copy(a)


def broadcast_to(a, shape):
    """Contiguous copy of a broadcast to shape."""
    return copy_into(cuda.device_array(tuple(shape), a.dtype), a)


def transpose(a, axes=None):
    """a.transpose(axes) as a contiguous array (permute + copy in one strided pass)."""
    axes = tuple(range(a.ndim))[::-1] if axes is None else tuple(ax % a.ndim for ax in axes)
    out = cuda.device_array(tuple(a.shape[ax] for ax in axes), a.dtype)
    if out.size == 0:
        return out
    sflat, st = flat_view(a)
    blocks, threads = launch_1d(out.size)
    _copy_kernel[blocks, threads](out.reshape(out.size), flat_view(out)[1] or (1,),
                                  tuple(out.shape) or (1,), sflat, tuple(st[ax] for ax in axes) or (0,))
    return out


permute = transpose


def reshape(a, shape):
    return ascontiguous(a).reshape(tuple(shape))


def concatenate(arrays, axis=0):
    """Arrays equal in every dim but axis -> one contiguous array."""
    arrays = [as_device(a) for a in arrays]
    axis %= arrays[0].ndim
    shape = list(arrays[0].shape)
    shape[axis] = builtins.sum(a.shape[axis] for a in arrays)
    out = cuda.device_array(tuple(shape), arrays[0].dtype)
    off = 0
    for a in arrays:
        idx = tuple(slice(off, off + a.shape[axis]) if d == axis else slice(None) for d in range(a.ndim))
        copy_into(out[idx], a)
        off += a.shape[axis]
    return out


def stack(arrays, axis=0):
    arrays = [as_device(a) for a in arrays]
    axis %= arrays[0].ndim + 1
    return concatenate([ascontiguous(a).reshape(tuple(a.shape)[:axis] + (1,) + tuple(a.shape)[axis:]) for a in arrays], axis)


def split(a, sizes, axis):
    """Contiguous pieces of a along axis with the given sizes."""
    axis %= a.ndim
    out, off = [], 0
    for n in sizes:
        idx = tuple(slice(off, off + n) if d == axis else slice(None) for d in range(a.ndim))
        out.append(copy(a[idx]))
        off += n
    return out


# ---------------------------------------------------------------- PTX listing

def ptx_listing(kernels_of):
    """The body of a kernel module's ptx_kernels(), for tests/test_cuda_ptx.py. kernels_of(dt, ty)
    lists (name, kernel, argument types[, threads per block]) for float dtype dt, the threads 256
    (the production block of the op kernels) where left out; ty holds the numba types: name (the
    dtype's), f (its scalar), a1/a2/a3 (C arrays of 1-3 dims), i64, idx1 (int64 [n]), tup2 (2
    int64s), boolean. -> [(name, kernel py_func, argument types, threads per block)], both dtypes."""
    from types import SimpleNamespace

    from numba import types
    i64 = types.int64
    out = []
    for dt in (np.float32, np.float64):
        nbt = from_dtype(np.dtype(dt))
        ty = SimpleNamespace(name=np.dtype(dt).name, f=nbt, i64=i64, idx1=types.Array(i64, 1, "C"),
                             tup2=types.UniTuple(i64, 2), boolean=types.boolean,
                             a1=types.Array(nbt, 1, "C"), a2=types.Array(nbt, 2, "C"),
                             a3=types.Array(nbt, 3, "C"))
        for entry in kernels_of(dt, ty):
            name, kernel, sig, threads = entry if len(entry) == 4 else (*entry, 256)
            out.append((name, kernel.py_func, sig, threads))
    return out


def ptx_kernels():
    """The elementwise (flat, and strided over 2-d operands), fill and copy kernels."""
    def kernels(dt, ty):
        out = []
        for op in UNARY + BINARY + ("where",):
            flat, strided = _ew_kernels(op, dt)
            nin = _arity(op)
            out.append((f"ew_{op}_{ty.name}", flat, (ty.a1,) * (1 + nin)))
            out.append((f"ew_{op}_strided_{ty.name}", strided, (ty.a1, ty.tup2) + (ty.a1, ty.tup2) * nin))
        out.append((f"fill_{ty.name}", _fill_kernel, (ty.a1, ty.f)))
        out.append((f"copy_{ty.name}", _copy_kernel, (ty.a1, ty.tup2, ty.tup2, ty.a1, ty.tup2)))
        return out
    return ptx_listing(kernels)
