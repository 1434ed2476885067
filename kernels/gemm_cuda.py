"""Tiled batched GEMM on numba.cuda device arrays: gemm (transpose flags, bias, accumulate, no
transposed copies) and numpy's matmul over it. Arrays in, arrays out, as in ops_cuda; the tile
shape comes from gemm_config, so the simulator gets a 16-thread block.
"""
import builtins

import numpy as np
from numba import cuda, from_dtype

from .ops_cuda import SIM, as_device, ascontiguous, broadcast_to, fill, ptx_listing

_cache = {}


# ---------------------------------------------------------------- GEMM

def gemm_config(dtype):
    """Tile shape (BM, BN, BK, TM, TN) of the GEMM: a BM x BN output tile per block, each
    thread owning a TM x TN register tile; the simulator uses a 16-thread block."""
    if SIM:
        return (8, 8, 4, 2, 2)
    # 256 threads, 16 accumulators each. The sgemm classic 128 x 128 tile with 8 x 8 per thread
    # leaves numba's acc/af/bf local arrays in local memory (LLVM does not unroll 8*8*8 fully)
    return (64, 64, 8, 4, 4)


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
        # a 1-D grid over (M tile, N tile, batch), M tiles fastest (blocks in flight share B's
        # columns): grid x takes 2^31 - 1 blocks where y and z stop at 65535. Grid-stride loops
        # around the tile instead took 161 registers per thread at float32 (1 block of 256 per
        # SM); this takes 114 (2 blocks, as the 90 of a 3-D grid did)
        m_tiles = (M + BM - 1) // BM
        n_tiles = (N + BN - 1) // BN
        bid = cuda.blockIdx.x
        m0 = (bid % m_tiles) * BM
        n0 = ((bid // m_tiles) % n_tiles) * BN
        z = bid // (m_tiles * n_tiles)
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
        # the BM x BN tile of C[z] at (m0, n0)
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
    kern[-(-M // BM) * -(-N // BN) * Z, (BN // TN, BM // TM)](
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


# ---------------------------------------------------------------- PTX listing

def ptx_kernels():
    """The GEMM kernel at the production tile configuration."""
    def kernels(dt, ty):
        cfg = gemm_config(dt)
        return [(f"gemm_{ty.name}_{cfg}", _gemm_kernel(dt, cfg),
                 (ty.a3, ty.a3, ty.a3, ty.a1, ty.i64, ty.i64, ty.i64) + (ty.boolean,) * 4)]
    return ptx_listing(kernels)
