"""Primitive array ops on numba.cuda device arrays: what a "cuda" tensor backend needs.

Arrays in, arrays out; every function accepts numba device arrays (host numpy arrays are copied
to the device first) and returns new C-contiguous device arrays unless it says "in place".
Floating ops keep the input dtype (float32 or float64); comparisons return that float dtype
(1.0 / 0.0). Kernels are built per (op, dtype) on first use and cached; every launch
configuration comes from `launch_1d` / `gemm_config`, so the simulator gets small blocks.

Operands that are not C-contiguous (numba slices, broadcasts) are read through a flat 1-D
view of the memory they span plus element strides, so views never need a copy to be read.
"""
import builtins
import math

import numpy as np
from numba import config, cuda, float32, float64, from_dtype

SIM = bool(config.ENABLE_CUDASIM)
_THREADS = 32 if SIM else 256          # threads per block of the 1-D and row kernels
_MAX_BLOCKS = 1 if SIM else 65535      # grid-stride loops cover the rest
_cache = {}


# ---------------------------------------------------------------- launch configs and views

def launch_1d(n, threads=_THREADS):
    """(blocks, threads) for a grid-stride loop over n items."""
    return builtins.max(1, min(_MAX_BLOCKS, -(-n // threads))), threads


def gemm_config(dtype):
    """Tile shape (BM, BN, BK, TM, TN) of the GEMM: a BM x BN output tile per block, each
    thread owning a TM x TN register tile; the simulator uses a 16-thread block."""
    if SIM:
        return (8, 8, 4, 2, 2)
    # 256 threads, 16 accumulators each. The sgemm classic 128 x 128 tile with 8 x 8 per thread
    # leaves numba's acc/af/bf local arrays in local memory (LLVM does not unroll 8*8*8 fully)
    return (64, 64, 8, 4, 4)


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


def _flat(a):
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
    _, st = _flat(a)
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


_offset_dev = cuda.jit(device=True, inline=True)(_offset)


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


def _ew_kernels(name, dtype):
    """(flat, strided) kernels of op `name`: out [n] contiguous, operands flat + strides."""
    key = ("ew", name, np.dtype(dtype))
    if key in _cache:
        return _cache[key]
    f = _scalar_fn(name, dtype)
    nin = 3 if name == "where" else (2 if name in BINARY else 1)
    if nin == 1:
        @cuda.jit(fastmath=True)
        def flat(out, a):
            for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
                out[i] = f(a[i])

        @cuda.jit(fastmath=True)
        def strided(out, shape, a, sa):
            for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
                out[i] = f(a[_offset_dev(i, shape, sa)])
    elif nin == 2:
        @cuda.jit(fastmath=True)
        def flat(out, a, b):
            for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
                out[i] = f(a[i], b[i])

        @cuda.jit(fastmath=True)
        def strided(out, shape, a, sa, b, sb):
            for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
                out[i] = f(a[_offset_dev(i, shape, sa)], b[_offset_dev(i, shape, sb)])
    else:
        @cuda.jit(fastmath=True)
        def flat(out, c, a, b):
            for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
                out[i] = f(c[i], a[i], b[i])

        @cuda.jit(fastmath=True)
        def strided(out, shape, c, sc, a, sa, b, sb):
            for i in range(cuda.grid(1), out.size, cuda.gridsize(1)):
                out[i] = f(c[_offset_dev(i, shape, sc)], a[_offset_dev(i, shape, sa)],
                           b[_offset_dev(i, shape, sb)])
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
            args += [_flat(o)[0], _bstrides(o, shape)]
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
        dst[_offset_dev(i, shape, sd)] = src[_offset_dev(i, shape, ss)]


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


def copy_into(dst, src):
    """In place: dst[...] = src (src broadcast to dst.shape, any strides, dtype converted)."""
    if dst.size == 0:
        return dst
    src = _scalar_operand(src, dst.dtype)
    shape = tuple(dst.shape) or (1,)
    dflat, dstr = _flat(dst)
    sflat, _ = _flat(src)
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
    sflat, st = _flat(a)
    blocks, threads = launch_1d(out.size)
    _copy_kernel[blocks, threads](out.reshape(out.size), _flat(out)[1] or (1,),
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


# ---------------------------------------------------------------- GEMM

def _gemm_kernel(dtype, cfg):
    """Tiled shared-memory GEMM, C[z] (+)= op(A[z]) @ op(B[z]) (+ bias), per tile config."""
    key = ("gemm", np.dtype(dtype), cfg)
    if key in _cache:
        return _cache[key]
    BM, BN, BK, TM, TN = cfg
    TX, TY = BN // TN, BM // TM
    NT = TX * TY
    LA, LB = BM * BK // NT, BN * BK // NT   # tile elements each thread loads
    nbt = from_dtype(np.dtype(dtype))
    zero = nbt.cast_python_value(0.0)
    PAD = 4   # shared rows padded so the k-fastest stores do not hit one bank
    BMP, BNP = BM + PAD, BN + PAD   # shared-array shapes must be plain constants

    @cuda.jit(fastmath=True)
    def gemm(A, B, C, bias, M, N, K, trans_a, trans_b, has_bias, accumulate):
        # A [Za, M, K] ([Za, K, M] if trans_a); B [Zb, K, N] ([Zb, N, K] if trans_b); C [Z, M, N];
        # Za/Zb is Z or 1 (broadcast); bias [N] added when has_bias; C added to when accumulate
        z = cuda.blockIdx.z
        za = z if A.shape[0] > 1 else 0
        zb = z if B.shape[0] > 1 else 0
        As = cuda.shared.array((BK, BMP), nbt)
        Bs = cuda.shared.array((BK, BNP), nbt)
        acc = cuda.local.array((TM, TN), nbt)
        af = cuda.local.array(TM, nbt)
        bf = cuda.local.array(TN, nbt)
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        tid = ty * TX + tx
        m0 = cuda.blockIdx.y * BM
        n0 = cuda.blockIdx.x * BN
        for i in range(TM):
            for j in range(TN):
                acc[i, j] = zero
        for k0 in range(0, K, BK):
            for l in range(LA):
                idx = tid + l * NT
                if trans_a:
                    mm = idx % BM
                    kk = idx // BM
                    v = A[za, k0 + kk, m0 + mm] if (k0 + kk < K and m0 + mm < M) else zero
                else:
                    kk = idx % BK
                    mm = idx // BK
                    v = A[za, m0 + mm, k0 + kk] if (k0 + kk < K and m0 + mm < M) else zero
                As[kk, mm] = v
            for l in range(LB):
                idx = tid + l * NT
                if trans_b:
                    kk = idx % BK
                    nn = idx // BK
                    v = B[zb, n0 + nn, k0 + kk] if (k0 + kk < K and n0 + nn < N) else zero
                else:
                    nn = idx % BN
                    kk = idx // BN
                    v = B[zb, k0 + kk, n0 + nn] if (k0 + kk < K and n0 + nn < N) else zero
                Bs[kk, nn] = v
            cuda.syncthreads()
            for kk in range(BK):
                for i in range(TM):
                    af[i] = As[kk, ty + TY * i]
                for j in range(TN):
                    bf[j] = Bs[kk, tx + TX * j]
                for i in range(TM):
                    for j in range(TN):
                        acc[i, j] += af[i] * bf[j]
            cuda.syncthreads()
        for i in range(TM):
            m = m0 + ty + TY * i
            if m < M:
                for j in range(TN):
                    n = n0 + tx + TX * j
                    if n < N:
                        v = acc[i, j]
                        if has_bias:
                            v += bias[n]
                        if accumulate:
                            v += C[z, m, n]
                        C[z, m, n] = v

    _cache[key] = gemm
    return gemm


def gemm(a, b, out=None, trans_a=False, trans_b=False, bias=None, accumulate=False):
    """Batched GEMM on contiguous arrays, no transposed copies.
    a [Z|1, M, K] (or [Z|1, K, M] with trans_a), b [Z|1, K, N] (or [Z|1, N, K] with trans_b),
    2-D operands are batch 1; bias [N]; out [Z, M, N] (accumulated into when accumulate)."""
    a, b = ascontiguous(as_device(a)), ascontiguous(as_device(b))
    a3 = a.reshape((1,) + tuple(a.shape)) if a.ndim == 2 else a
    b3 = b.reshape((1,) + tuple(b.shape)) if b.ndim == 2 else b
    M, K = (a3.shape[2], a3.shape[1]) if trans_a else (a3.shape[1], a3.shape[2])
    N, Kb = (b3.shape[1], b3.shape[2]) if trans_b else (b3.shape[2], b3.shape[1])
    assert K == Kb, f"gemm: inner dims {K} != {Kb}"
    Z = builtins.max(a3.shape[0], b3.shape[0])
    squeeze = a.ndim == 2 and b.ndim == 2
    if out is None:
        out = cuda.device_array((M, N) if squeeze else (Z, M, N), a.dtype)
    c3 = out.reshape((1, M, N)) if out.ndim == 2 else out
    if M == 0 or N == 0:
        return out
    if K == 0:
        if not accumulate:
            fill(out, 0)
        return out
    cfg = gemm_config(a.dtype)
    BM, BN, BK, TM, TN = cfg
    kern = _gemm_kernel(a.dtype, cfg)
    bias_arr = bias if bias is not None else c3.reshape(c3.size)
    kern[(-(-N // BN), -(-M // BM), Z), (BN // TN, BM // TM)](
        a3, b3, c3, bias_arr, M, N, K, bool(trans_a), bool(trans_b), bias is not None, bool(accumulate))
    return out


def matmul(a, b, trans_a=False, trans_b=False):
    """numpy matmul: a (..., M, K), b (..., K, N) -> (..., M, N); 1-D operands are promoted and
    squeezed as numpy does; leading dims must match or one side must be 2-D (or batch 1)."""
    a, b = as_device(a), as_device(b)
    va, vb = a.ndim == 1, b.ndim == 1
    a2 = a.reshape((1, a.shape[0])) if va else a
    b2 = b.reshape((b.shape[0], 1)) if vb else b
    lead_a, lead_b = tuple(a2.shape)[:-2], tuple(b2.shape)[:-2]
    lead = np.broadcast_shapes(lead_a, lead_b)
    nz = int(np.prod(lead)) if lead else 1

    def batch3(x, lead_x):
        x = ascontiguous(x)
        if int(np.prod(lead_x)) == nz or not lead_x:
            return x.reshape((int(np.prod(lead_x)) if lead_x else 1,) + tuple(x.shape)[-2:])
        return broadcast_to(x, lead + tuple(x.shape)[-2:]).reshape((nz,) + tuple(x.shape)[-2:])
    out = gemm(batch3(a2, lead_a), batch3(b2, lead_b), trans_a=trans_a, trans_b=trans_b)
    shape = lead + tuple(out.shape)[-2:]
    if va:
        shape = shape[:-2] + shape[-1:]
    if vb:
        shape = shape[:-1]
    return out.reshape(shape)


# ---------------------------------------------------------------- reductions

_SUM, _MAX, _ARGMAX = 0, 1, 2


def _reduce_kernels(op, dtype):
    """(row, serial) kernels reducing `a` (flat + strides) over the reduced dims to out [O * P]:
    row: one block per (output, chunk) with a shared-memory tree; serial: a thread per output."""
    key = ("red", op, np.dtype(dtype))
    if key in _cache:
        return _cache[key]
    nbt = from_dtype(np.dtype(dtype))
    ident = nbt.cast_python_value(0.0 if op == _SUM else -np.inf)
    NT = _THREADS

    @cuda.jit(device=True, inline=True)
    def combine(v, i, w, j):
        # (value, index) pair of the reduction of two pairs; argmax keeps the first on ties
        if op == _SUM:
            return v + w, i
        if w > v or (w == v and j < i):
            return w, j
        return v, i

    @cuda.jit(fastmath=True)
    def row(out, a, kshape, kst, rshape, rst, R, P, chunk):
        sv = cuda.shared.array(NT, nbt)
        si = cuda.shared.array(NT, np_int64)
        t = cuda.threadIdx.x
        O = out.size // P
        for blk in range(cuda.blockIdx.x, O * P, cuda.gridDim.x):
            o = blk // P
            p = blk % P
            base = _offset_dev(o, kshape, kst)
            v = ident
            vi = R
            for r in range(p * chunk + t, min(R, (p + 1) * chunk), NT):
                v, vi = combine(v, vi, a[base + _offset_dev(r, rshape, rst)], r)
            sv[t] = v
            si[t] = vi
            cuda.syncthreads()
            s = NT // 2
            while s > 0:
                if t < s:
                    v2, i2 = combine(sv[t], si[t], sv[t + s], si[t + s])
                    sv[t] = v2
                    si[t] = i2
                cuda.syncthreads()
                s //= 2
            if t == 0:
                out[blk] = si[0] if op == _ARGMAX else sv[0]
            cuda.syncthreads()

    @cuda.jit(fastmath=True)
    def serial(out, a, kshape, kst, rshape, rst, R):
        for o in range(cuda.grid(1), out.size, cuda.gridsize(1)):
            base = _offset_dev(o, kshape, kst)
            v = ident
            vi = R
            for r in range(R):
                v, vi = combine(v, vi, a[base + _offset_dev(r, rshape, rst)], r)
            out[o] = vi if op == _ARGMAX else v

    _cache[key] = (row, serial)
    return row, serial


np_int64 = from_dtype(np.dtype(np.int64))


def _reduce(a, axis, keepdims, op):
    a = as_device(a)
    nd = a.ndim
    axes = tuple(range(nd)) if axis is None else tuple(ax % nd for ax in np.atleast_1d(axis))
    kept = [d for d in range(nd) if d not in axes]
    flat, st = _flat(a)
    kshape = (1,) + tuple(a.shape[d] for d in kept)
    kst = (0,) + tuple(st[d] for d in kept)
    rshape = (1,) + tuple(a.shape[d] for d in axes)
    rst = (0,) + tuple(st[d] for d in axes)
    O = int(np.prod(kshape))
    R = int(np.prod(rshape))
    out_shape = tuple(1 if d in axes else a.shape[d] for d in range(nd)) if keepdims else \
        tuple(a.shape[d] for d in kept)
    out_dtype = np.int64 if op == _ARGMAX else a.dtype
    out = cuda.device_array(O, out_dtype)
    if O == 0:
        return out.reshape(out_shape)
    if R == 0:
        assert op == _SUM, "max/argmax of an empty axis"
        return fill(out, 0).reshape(out_shape)
    row, serial = _reduce_kernels(op, a.dtype)
    if R < 64 and O >= 64:
        serial[launch_1d(O)](out, flat, kshape, kst, rshape, rst, R)
    elif op != _ARGMAX and O < 64 and R >= (1 << 16) and not SIM:
        # two passes: P partial results per output, then a contiguous reduction of the partials
        P = min(1024, -(-R // (1 << 14)))
        chunk = -(-R // P)
        part = cuda.device_array(O * P, a.dtype)
        row[min(O * P, 65535), _THREADS](part, flat, kshape, kst, rshape, rst, R, P, chunk)
        row[min(O, 65535), _THREADS](out, part, (1, O), (0, P), (1, P), (0, 1), P, 1, P)
    else:
        row[min(O, _MAX_BLOCKS * 64), _THREADS](out, flat, kshape, kst, rshape, rst, R, 1, R)
    return out.reshape(out_shape)


def sum(a, axis=None, keepdims=False):
    """Sum over axis (int, tuple or None for all) -> reduced shape (a 0-d array for None)."""
    return _reduce(a, axis, keepdims, _SUM)


def max(a, axis=None, keepdims=False):
    """Maximum over axis (int, tuple or None) -> reduced shape."""
    return _reduce(a, axis, keepdims, _MAX)


def argmax(a, axis=None):
    """int64 index of the first maximum along one axis (None: of the flattened array)."""
    if axis is None:
        return _reduce(ascontiguous(as_device(a)).reshape(a.size), 0, False, _ARGMAX)
    return _reduce(a, axis, False, _ARGMAX)


def mean(a, axis=None, keepdims=False):
    s = sum(a, axis, keepdims)
    n = a.size // builtins.max(s.size, 1)
    return elementwise("mul", s, 1.0 / builtins.max(n, 1))


# ---------------------------------------------------------------- row-wise fused kernels

def _row_kernels(dtype):
    """Kernels working on the rows of a contiguous [N, C] matrix, one block per row."""
    key = ("rows", np.dtype(dtype))
    if key in _cache:
        return _cache[key]
    nbt = from_dtype(np.dtype(dtype))
    NT = _THREADS
    zero = nbt.cast_python_value(0.0)
    one = nbt.cast_python_value(1.0)
    ninf = nbt.cast_python_value(-np.inf)

    @cuda.jit(device=True, inline=True)
    def block_reduce(sh, v, is_max):
        # all threads of the block get the sum (or max) of v; sh is NT of shared memory
        t = cuda.threadIdx.x
        sh[t] = v
        cuda.syncthreads()
        s = NT // 2
        while s > 0:
            if t < s:
                if is_max:
                    if sh[t + s] > sh[t]:
                        sh[t] = sh[t + s]
                else:
                    sh[t] += sh[t + s]
            cuda.syncthreads()
            s //= 2
        r = sh[0]
        cuda.syncthreads()
        return r

    @cuda.jit(device=True, inline=True)
    def row_lse(x, n, sh):
        # log-sum-exp of row n of x [N, C], max subtracted
        C = x.shape[1]
        t = cuda.threadIdx.x
        m = ninf
        for c in range(t, C, NT):
            if x[n, c] > m:
                m = x[n, c]
        m = block_reduce(sh, m, True)
        s = zero
        for c in range(t, C, NT):
            s += math.exp(x[n, c] - m)
        s = block_reduce(sh, s, False)
        return m + math.log(s)

    @cuda.jit(fastmath=True)
    def softmax_rows(x, out, log):
        # x, out [N, C]: out = softmax(x) (log-softmax when log) along C
        sh = cuda.shared.array(NT, nbt)
        for n in range(cuda.blockIdx.x, x.shape[0], cuda.gridDim.x):
            lse = row_lse(x, n, sh)
            for c in range(cuda.threadIdx.x, x.shape[1], NT):
                out[n, c] = x[n, c] - lse if log else math.exp(x[n, c] - lse)

    @cuda.jit(fastmath=True)
    def ce_rows(x, target, ignore_index, lse_out, loss, valid):
        # x [N, C], target [N] int64 -> lse_out [N], loss [N] (0 where ignored), valid [N] (1/0)
        sh = cuda.shared.array(NT, nbt)
        for n in range(cuda.blockIdx.x, x.shape[0], cuda.gridDim.x):
            lse = row_lse(x, n, sh)
            if cuda.threadIdx.x == 0:
                tg = target[n]
                lse_out[n] = lse
                if tg == ignore_index:
                    loss[n] = zero
                    valid[n] = zero
                else:
                    loss[n] = lse - x[n, tg]
                    valid[n] = one

    _cache[key] = (softmax_rows, ce_rows)
    return softmax_rows, ce_rows


def _rows(a, axis):
    """a with axis moved last, as a contiguous [N, C] matrix, and the permutation used."""
    axis %= a.ndim
    perm = tuple(d for d in range(a.ndim) if d != axis) + (axis,)
    moved = transpose(a, perm) if axis != a.ndim - 1 else ascontiguous(a)
    return moved, perm


def _softmax(a, axis, log):
    a = as_device(a)
    moved, perm = _rows(a, axis)
    C = tuple(moved.shape)[-1] if moved.ndim else 1
    x2 = moved.reshape((moved.size // builtins.max(C, 1), C))
    out = cuda.device_array(x2.shape, a.dtype)
    if out.size:
        softmax_rows, _ = _row_kernels(a.dtype)
        softmax_rows[min(x2.shape[0], _MAX_BLOCKS * 64), _THREADS](x2, out, log)
    out = out.reshape(moved.shape)
    if perm != tuple(range(a.ndim)):
        out = transpose(out, tuple(np.argsort(perm)))
    return out


def softmax(a, axis=-1):
    """Numerically stable softmax along axis -> a.shape."""
    return _softmax(a, axis, False)


def log_softmax(a, axis=-1):
    """Numerically stable log-softmax along axis -> a.shape."""
    return _softmax(a, axis, True)


@cuda.jit
def _ce_finish(total, count, out, mean):
    # out [1] = total[0] / count[0] (mean over non-ignored rows) or total[0]
    if cuda.grid(1) == 0:
        out[0] = total[0] / count[0] if mean else total[0]


def _ce_backward_kernel(dtype):
    key = ("ce_bwd", np.dtype(dtype))
    if key in _cache:
        return _cache[key]
    zero = from_dtype(np.dtype(dtype)).cast_python_value(0.0)
    one = from_dtype(np.dtype(dtype)).cast_python_value(1.0)

    @cuda.jit(fastmath=True)
    def ce_backward(x, target, lse, g, per_row, count, ignore_index, dx):
        # dx [N, C] = (softmax(x) - onehot(target)) * scale; scale = g[n] (per_row), g[0] / count[0]
        # (count given, reduction mean) or g[0]; rows with target == ignore_index get 0
        N, C = x.shape
        for i in range(cuda.grid(1), N * C, cuda.gridsize(1)):
            n = i // C
            c = i % C
            tg = target[n]
            if tg == ignore_index:
                dx[n, c] = zero
                continue
            s = g[n] if per_row else g[0]
            if count.size > 0:
                s = s / count[0]
            p = math.exp(x[n, c] - lse[n])
            dx[n, c] = (p - (one if c == tg else zero)) * s

    _cache[key] = ce_backward
    return ce_backward


def cross_entropy(logits, targets, ignore_index=-100, reduction="mean"):
    """logits [N, C], targets [N] int64 -> (loss, lse, count):
    loss: shape () for "mean"/"sum", [N] for "none" (0 on ignored rows); lse [N] the rows'
    log-sum-exp; count [1] the number of non-ignored rows (all three stay on the device)."""
    x = ascontiguous(as_device(logits))
    tg = ascontiguous(as_device(targets, np.int64))
    N = x.shape[0]
    lse = cuda.device_array(N, x.dtype)
    loss = cuda.device_array(N, x.dtype)
    valid = cuda.device_array(N, x.dtype)
    _, ce_rows = _row_kernels(x.dtype)
    if N:
        ce_rows[min(N, _MAX_BLOCKS * 64), _THREADS](x, tg, int(ignore_index), lse, loss, valid)
    count = sum(valid, keepdims=False).reshape(1)
    if reduction == "none":
        return loss, lse, count
    out = cuda.device_array(1, x.dtype)
    _ce_finish[1, 1](sum(loss).reshape(1), count, out, reduction == "mean")
    return out.reshape(()), lse, count


def cross_entropy_backward(logits, targets, lse, grad, count, ignore_index=-100, reduction="mean"):
    """Gradient of cross_entropy w.r.t. logits [N, C]. grad: the loss gradient, shape ()/[1]
    ("mean"/"sum") or [N] ("none"); lse and count from cross_entropy."""
    x = ascontiguous(as_device(logits))
    tg = ascontiguous(as_device(targets, np.int64))
    g = as_device(grad, x.dtype)
    g = ascontiguous(g).reshape(builtins.max(g.size, 1))
    dx = cuda.device_array(x.shape, x.dtype)
    if dx.size:
        cnt = count if reduction == "mean" else cuda.device_array(0, x.dtype)
        _ce_backward_kernel(x.dtype)[launch_1d(dx.size)](
            x, tg, lse, g, reduction == "none", cnt, int(ignore_index), dx)
    return dx


# ---------------------------------------------------------------- gathers and scatters

@cuda.jit
def _take_rows_kernel(w, idx, out):
    # w [V, D], idx [N] int64, out [N, D]: out[n] = w[idx[n]]
    D = w.shape[1]
    for i in range(cuda.grid(1), out.shape[0] * D, cuda.gridsize(1)):
        n = i // D
        out[n, i % D] = w[idx[n], i % D]


@cuda.jit
def _index_add_rows_kernel(out, idx, g, skip_row):
    # out [V, D] += g [N, D] at rows idx [N] (atomics: repeated indices accumulate); rows equal
    # to skip_row (>= 0) are left alone
    D = out.shape[1]
    for i in range(cuda.grid(1), g.shape[0] * D, cuda.gridsize(1)):
        n = i // D
        r = idx[n]
        if r != skip_row:
            cuda.atomic.add(out, (r, i % D), g[n, i % D])


@cuda.jit
def _pick_kernel(a, idx, out):
    # a [N, C], idx [N] -> out [N] = a[n, idx[n]]
    for n in range(cuda.grid(1), a.shape[0], cuda.gridsize(1)):
        out[n] = a[n, idx[n]]


@cuda.jit
def _pick_backward_kernel(out, idx, g):
    # out [N, C] (zeroed) gets g[n] at [n, idx[n]]
    for n in range(cuda.grid(1), out.shape[0], cuda.gridsize(1)):
        out[n, idx[n]] = g[n]


def take_rows(w, idx):
    """w [V, D], idx int (any shape) -> idx.shape + (D,): the embedding lookup (take axis 0)."""
    w = ascontiguous(as_device(w))
    idx = ascontiguous(as_device(idx, np.int64))
    flat = idx.reshape(idx.size)
    out = cuda.device_array((idx.size, w.shape[1]), w.dtype)
    if out.size:
        _take_rows_kernel[launch_1d(out.size)](w, flat, out)
    return out.reshape(tuple(idx.shape) + (w.shape[1],))


def index_add_rows(shape, idx, g, skip_row=None):
    """zeros(shape=(V, D)) with each row of g (idx.shape + (D,)) added at row idx[...]; repeats
    accumulate (atomic adds); row skip_row (an embedding's padding_idx) stays zero."""
    g = ascontiguous(as_device(g))
    idx = ascontiguous(as_device(idx, np.int64))
    out = zeros(tuple(shape), g.dtype)
    if idx.size:
        g2 = g.reshape((idx.size, shape[1]))
        _index_add_rows_kernel[launch_1d(g2.size)](out, idx.reshape(idx.size), g2,
                                                   -1 if skip_row is None else int(skip_row))
    return out


def pick(a, idx):
    """a [N, C], idx [N] int -> a[n, idx[n]] [N]."""
    a = ascontiguous(as_device(a))
    idx = ascontiguous(as_device(idx, np.int64))
    out = cuda.device_array(a.shape[0], a.dtype)
    if a.shape[0]:
        _pick_kernel[launch_1d(a.shape[0])](a, idx, out)
    return out


def pick_backward(shape, idx, g):
    """zeros(shape=(N, C)) with g[n] placed at [n, idx[n]] (the adjoint of pick)."""
    g = ascontiguous(as_device(g))
    idx = ascontiguous(as_device(idx, np.int64))
    out = zeros(tuple(shape), g.dtype)
    if shape[0]:
        _pick_backward_kernel[launch_1d(shape[0])](out, idx, g)
    return out


# ---------------------------------------------------------------- PTX listing

def ptx_kernels():
    """[(name, kernel py_func, argument types, threads per block)] of every kernel here, both
    float dtypes, at the
    production configurations (2-d operands for the strided variants), for tests/test_cuda_ptx.py."""
    from numba import types
    i64 = types.int64
    tup2 = types.UniTuple(i64, 2)
    idx1 = types.Array(i64, 1, "C")
    out = []
    for dt in (np.float32, np.float64):
        name = np.dtype(dt).name
        nbt = from_dtype(np.dtype(dt))
        a1, a2, a3 = (types.Array(nbt, n, "C") for n in (1, 2, 3))
        for op in UNARY + BINARY + ("where",):
            flat, strided = _ew_kernels(op, dt)
            nin = 3 if op == "where" else (2 if op in BINARY else 1)
            out.append((f"ew_{op}_{name}", flat.py_func, (a1,) * (1 + nin)))
            out.append((f"ew_{op}_strided_{name}", strided.py_func, (a1, tup2) + (a1, tup2) * nin))
        out.append((f"fill_{name}", _fill_kernel.py_func, (a1, nbt)))
        out.append((f"copy_{name}", _copy_kernel.py_func, (a1, tup2, tup2, a1, tup2)))
        cfg = gemm_config(dt)
        out.append((f"gemm_{name}_{cfg}", _gemm_kernel(dt, cfg).py_func,
                    (a3, a3, a3, a1, i64, i64, i64, types.boolean, types.boolean, types.boolean,
                     types.boolean)))
        for op in (_SUM, _MAX, _ARGMAX):
            row, serial = _reduce_kernels(op, dt)
            o = idx1 if op == _ARGMAX else a1
            out.append((f"reduce{op}_row_{name}", row.py_func, (o, a1, tup2, tup2, tup2, tup2, i64, i64, i64)))
            out.append((f"reduce{op}_serial_{name}", serial.py_func, (o, a1, tup2, tup2, tup2, tup2, i64)))
        softmax_rows, ce_rows = _row_kernels(dt)
        out.append((f"softmax_rows_{name}", softmax_rows.py_func, (a2, a2, types.boolean)))
        out.append((f"ce_rows_{name}", ce_rows.py_func, (a2, idx1, i64, a1, a1, a1)))
        out.append((f"ce_backward_{name}", _ce_backward_kernel(dt).py_func,
                    (a2, idx1, a1, a1, types.boolean, a1, i64, a2)))
        out.append((f"ce_finish_{name}", _ce_finish.py_func, (a1, a1, a1, types.boolean)))
        out.append((f"take_rows_{name}", _take_rows_kernel.py_func, (a2, idx1, a2)))
        out.append((f"index_add_rows_{name}", _index_add_rows_kernel.py_func, (a2, idx1, a2, i64)))
        out.append((f"pick_{name}", _pick_kernel.py_func, (a2, idx1, a1)))
        out.append((f"pick_backward_{name}", _pick_backward_kernel.py_func, (a2, idx1, a1)))
    return [(n, f, sig, 256) for n, f, sig in out]
