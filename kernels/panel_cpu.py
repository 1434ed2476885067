"""The step product on weights packed into panels, with a register tile written in LLVM vector IR.

A recurrent step multiplies a few rows by a weight matrix: out [M, N] = a [M, K] @ B [K, N]. The
weight is packed once per kernel call into panels of PANEL_VECTORS vectors' width (BLIS, oneDNN):

    panels [N / P, K, P]    panels[p, k, :] = B[k, p*P:(p+1)*P],   P = PANEL_VECTORS * VECTOR_BYTES / itemsize

so that the tile streams one panel contiguously, k after k. A tile of R rows keeps R x
PANEL_VECTORS accumulator vectors in registers; per k it loads PANEL_VECTORS vectors of the panel,
broadcasts a[m + r, k] and does R x PANEL_VECTORS fused multiply-adds. Nothing is summed across a
vector's lanes, which is where activations_cpu.matmul_nt_into (dot products along k) spends a
quarter of its time at K=256.

Numba cannot express a vector of floats, so the tile is an intrinsic that emits the loop in LLVM
IR (<16 x float> or <8 x double>, llvm.fma); LLVM splits the 64-byte vectors for the instruction
set it targets. Measured (AMD EPYC Zen 4, AVX-512, one thread, float32, GFLOP/s, best of 7
interleaved; matmul_nt_into / 4-row tile): M=16 K=256 N=1024 84 / 115; M=32 K=256 N=1024 76 / 113;
M=64 K=64 N=256 47 / 109; M=16 K=1024 N=256 72 / 106; M=32 K=512 N=2048 64 / 106. numpy's
OpenBLAS 2048^3 on the same core: 92-99.

The tile's rows follow the register file of the instruction set Numba compiles for (TILE_ROWS):
4 rows x 2 vectors (8 accumulators) with AVX-512's 32 vector registers, 2 rows with AVX2's 16 (a
64-byte vector is two AVX2 registers). Numba's cache is keyed by the CPU's name and features, so
a cached kernel never runs with another machine's tile.
"""
import numpy as np
from llvmlite import ir
import numba
from llvmlite import binding as llvm
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from .cache_load import njit
from . import tuning

_JIT = dict(cache=True, nogil=True, fastmath=True, error_model="numpy")
_INNER = dict(_JIT, no_cpython_wrapper=True, no_cfunc_wrapper=True)

VECTOR_BYTES = 64    # one LLVM vector: 16 float32 or 8 float64 (one AVX-512 register, two AVX2)
PANEL_VECTORS = 2    # vectors across a panel
PANEL_BYTES = PANEL_VECTORS * VECTOR_BYTES


def _tile_rows():
    features = numba.config.CPU_FEATURES or llvm.get_host_cpu_features().flatten()
    return 4 if "+avx512f" in features.split(",") else 2


TILE_ROWS = _tile_rows()   # rows of the main tile (read when panel_product compiles)


def panel_width(dtype):
    """P, the columns of one panel: 32 for float32, 16 for float64."""
    return PANEL_BYTES // np.dtype(dtype).itemsize


def _tile(rows, accumulate=False):
    """An intrinsic tile(a, panels, out, m, p): out[m:m+rows, p*P:(p+1)*P] = a[m:m+rows] @ panels[p]
    (accumulate: +=)
    (a [M, K] of any strides: a transposed view, the dG^T of a weight gradient, reads its rows'
    elements side by side; panels [N/P, K, P]; out [M, N] with rows strided, each row and each
    panel row contiguous)."""

    @intrinsic
    def tile(typingctx, a, panels, out, m, p):
        sig = types.void(a, panels, out, m, p)

        def codegen(context, builder, signature, args):
            a_type, panels_type, out_type = signature.args[:3]
            a_arr = context.make_array(a_type)(context, builder, args[0])
            panels_arr = context.make_array(panels_type)(context, builder, args[1])
            out_arr = context.make_array(out_type)(context, builder, args[2])
            m_index = context.cast(builder, args[3], signature.args[3], types.intp)
            p_index = context.cast(builder, args[4], signature.args[4], types.intp)
            element = context.get_data_type(a_type.dtype)
            itemsize = a_type.dtype.bitwidth // 8
            lanes = VECTOR_BYTES // itemsize
            vector = ir.VectorType(element, lanes)
            intp = context.get_value_type(types.intp)
            byte_ptr = ir.IntType(8).as_pointer()

            k_dim = cgutils.unpack_tuple(builder, a_arr.shape, 2)[1]
            a_row_stride, a_k_stride = cgutils.unpack_tuple(builder, a_arr.strides, 2)
            panel_strides = cgutils.unpack_tuple(builder, panels_arr.strides, 3)
            out_row_stride = cgutils.unpack_tuple(builder, out_arr.strides, 2)[0]

            def const(v):
                return ir.Constant(intp, v)

            a_rows = [builder.gep(builder.bitcast(a_arr.data, byte_ptr),
                                  [builder.mul(builder.add(m_index, const(r)), a_row_stride)]) for r in range(rows)]
            panel = builder.gep(builder.bitcast(panels_arr.data, byte_ptr), [builder.mul(p_index, panel_strides[0])])
            zero = ir.Constant(vector, [ir.Constant(element, 0.0)] * lanes)
            column_bytes = builder.mul(p_index, const(PANEL_VECTORS * VECTOR_BYTES))
            out_vectors = []
            for r in range(rows):
                out_row = builder.gep(builder.bitcast(out_arr.data, byte_ptr),
                                      [builder.add(builder.mul(builder.add(m_index, const(r)), out_row_stride),
                                                   column_bytes)])
                out_vectors.append([builder.bitcast(builder.gep(out_row, [const(v * VECTOR_BYTES)]), vector.as_pointer())
                                    for v in range(PANEL_VECTORS)])
            # accumulators as stack slots: LLVM's mem2reg keeps them in registers
            acc = [[cgutils.alloca_once_value(builder, builder.load(out_vectors[r][v], align=itemsize)
                                              if accumulate else zero)
                    for v in range(PANEL_VECTORS)] for r in range(rows)]
            fma = cgutils.get_or_insert_function(builder.module, ir.FunctionType(vector, [vector] * 3),
                                                 f"llvm.fma.v{lanes}f{a_type.dtype.bitwidth}")
            undef = ir.Constant(vector, ir.Undefined)
            splat = ir.Constant(ir.VectorType(ir.IntType(32), lanes), [0] * lanes)
            with cgutils.for_range(builder, k_dim) as loop:
                k = loop.index
                panel_row = builder.gep(panel, [builder.mul(k, panel_strides[1])])
                w = [builder.load(builder.bitcast(builder.gep(panel_row, [const(v * VECTOR_BYTES)]),
                                                  vector.as_pointer()), align=itemsize) for v in range(PANEL_VECTORS)]
                k_bytes = builder.mul(k, a_k_stride)
                for r in range(rows):
                    x = builder.load(builder.bitcast(builder.gep(a_rows[r], [k_bytes]), element.as_pointer()),
                                     align=itemsize)
                    xs = builder.shuffle_vector(builder.insert_element(undef, x, ir.Constant(ir.IntType(32), 0)),
                                                undef, splat)
                    for v in range(PANEL_VECTORS):
                        builder.store(builder.call(fma, [xs, w[v], builder.load(acc[r][v])]), acc[r][v])
            for r in range(rows):
                for v in range(PANEL_VECTORS):
                    builder.store(builder.load(acc[r][v]), out_vectors[r][v], align=itemsize)
            return context.get_dummy_value()

        return sig, codegen

    return tile


_tile4 = _tile(4)
_tile2 = _tile(2)
_tile1 = _tile(1)
_tile4_add = _tile(4, accumulate=True)
_tile8 = _tile(8)
_tile8_add = _tile(8, accumulate=True)
_tile2_add = _tile(2, accumulate=True)
_tile1_add = _tile(1, accumulate=True)


@njit(**_INNER)
def panel_product(a, panels, out):
    """out [M, N] = a [M, K] @ B [K, N], B given as panels [N / P, K, P] (pack_columns or
    pack_rows); a of any strides, each row of out contiguous. The panels run outermost, each
    read once per tile of rows (_set_tiles: 8 rows with AVX-512). With 4-row tiles a step's product
    ran at 143-187 GFLOP/s, with 8-row tiles at 205-222 (one thread, float32, M = 8-32 rows,
    K = 256 and 512, N = 4K; AMD EPYC znver5, 2026-12-02): each panel row then feeds 16 FMAs
    instead of 8, and at H=512 (4 MiB of panels, streamed from L3 each step) one tile of 8 rows
    reads it once where two tiles of 4 read it twice. Only the tiles that set out are compiled
    into a time loop (the adding ones are panel_gemm's)."""
    for p in range(panels.shape[0]):
        _set_tiles(a, panels, out, 0, a.shape[0], p)


@njit(**_INNER)
def _set_tiles(a, panels, out, m0, m1, p):
    """out[m0:m1, panel p] = a[m0:m1] @ panels[p]: 8-row tiles and then one of 4 with AVX-512's
    32 registers (TILE_ROWS == 4), then tiles of 2 rows and 1."""
    m = m0
    if TILE_ROWS == 4:
        while m + 8 <= m1:
            _tile8(a, panels, out, m, p)
            m += 8
        if m + 4 <= m1:
            _tile4(a, panels, out, m, p)
            m += 4
    while m + 2 <= m1:
        _tile2(a, panels, out, m, p)
        m += 2
    if m < m1:
        _tile1(a, panels, out, m, p)


@njit(**_INNER)
def _add_tiles(a, panels, out, m0, m1, p):
    """out[m0:m1, panel p] += a[m0:m1] @ panels[p], tiled as _set_tiles."""
    m = m0
    if TILE_ROWS == 4:
        while m + 8 <= m1:
            _tile8_add(a, panels, out, m, p)
            m += 8
        if m + 4 <= m1:
            _tile4_add(a, panels, out, m, p)
            m += 4
    while m + 2 <= m1:
        _tile2_add(a, panels, out, m, p)
        m += 2
    if m < m1:
        _tile1_add(a, panels, out, m, p)


# elements of padding after each k's rows of a block of the left operand (panel_gemm's pack_a)
A_BLOCK_PAD = 16


@njit(**_JIT)
def panel_gemm(a, panels, out, k_block, m_block, a_rows):
    """out [M, N] = a [M, K] @ B [K, N] for a whole-sequence GEMM (blas_cpu.panel_gemm), B as
    panels [N / P, K, P]: panel_product blocked as BLIS blocks a GEMM, so that a block of k_block
    panel rows (k_block x P) stays in L1 while the tiles of m_block rows pass over it, and those
    rows' k_block columns of a stay in L2 while the panels pass over them; the blocks along K
    after the first add into out. a may be a transposed view (the dG^T of a weight gradient):
    its tiles read each k's few rows side by side.

    a_rows: a.T [K, M] C-contiguous, where each block of a is first copied into a buffer [k_block,
    m_block + A_BLOCK_PAD] that stays in L2 (blas_cpu.panel_gemm passes it for a transposed view
    whose k lie a multiple of 1 KiB apart; otherwise an empty array, and a is read in place). Read in place, every k of a tile fell in one L1 set (dG^T at 4H = 1024: 4 KiB apart) and
    the tiles ran at 91-97 GFLOP/s against 130-205 with padding; a padded copy of the whole
    operand (the way before) wrote and read back T*B x 4H floats through memory (26 MB at T=50
    B=64 H=512, ~3 ms a copy, one for each of dW_ih and dW_hh)."""
    m_rows, k_dim = a.shape
    pack_a = a_rows.shape[0] > 0
    buffer = np.empty((k_block if pack_a else 0, m_block + A_BLOCK_PAD), a.dtype)
    for k0 in range(0, k_dim, k_block):
        k1 = min(k_dim, k0 + k_block)
        panels_k = panels[:, k0:k1]
        for m0 in range(0, m_rows, m_block):
            m1 = min(m_rows, m0 + m_block)
            a_block = a[m0:m1, k0:k1]
            if pack_a:
                for k in range(k1 - k0):
                    src = a_rows[k0 + k, m0:m1]
                    dst = buffer[k]
                    for m in range(m1 - m0):
                        dst[m] = src[m]
                a_block = buffer[:k1 - k0, :m1 - m0].T
            out_block = out[m0:m1]
            for p in range(panels.shape[0]):
                if k0 > 0:
                    _add_tiles(a_block, panels_k, out_block, 0, m1 - m0, p)
                else:
                    _set_tiles(a_block, panels_k, out_block, 0, m1 - m0, p)


def pack_columns(b, dtype, col0=0, n_cols=None, out=None):
    """panels [N / P, K, P] of columns col0..col0+N-1 of b [K, *] (a weight whose rows run along
    N: W_hh for dh = dG @ W_hh; N = n_cols, all of b's columns by default): contiguous runs of P
    elements. N must be a multiple of P. out: a C-contiguous array of that shape to fill (a
    thread's share of a larger packing, blas_cpu.packed_columns), else a new one."""
    b = np.ascontiguousarray(b, dtype)
    n_cols = b.shape[1] - col0 if n_cols is None else n_cols
    width = panel_width(dtype)
    if out is None:
        out = np.empty((n_cols // width, b.shape[0], width), dtype)
    if b.nbytes < tuning.setting("PACK_LOOP_BYTES"):
        np.copyto(out, b[:, col0:col0 + n_cols].reshape(b.shape[0], n_cols // width, width).transpose(1, 0, 2))
    else:
        _pack_columns_into(b, col0, out)
    return out


def pack_rows(w, dtype, row0=0, n_rows=None, out=None):
    """panels [N / P, K, P] of B = w[row0:row0+N].T for w [*, K] (a weight as nn stores it, rows
    along K: W_hh for h @ W_hh^T; N = n_rows, all of w's rows by default): each panel is a P x K
    block of w transposed. N must be a multiple of P. out: as for pack_columns."""
    w = np.ascontiguousarray(w, dtype)
    n_rows = w.shape[0] - row0 if n_rows is None else n_rows
    width = panel_width(dtype)
    if out is None:
        out = np.empty((n_rows // width, w.shape[1], width), dtype)
    if w.nbytes < tuning.setting("PACK_LOOP_BYTES"):
        np.copyto(out, w[row0:row0 + n_rows].reshape(n_rows // width, width, w.shape[1]).transpose(0, 2, 1))
    else:
        _pack_rows_into(w, row0, out)
    return out


# The packing loops, for weights of tuning.PACK_LOOP_BYTES or more (numpy's copy below: as fast
# there, and no compile on a first run): numpy's copy of the same transposed views took 1.9-2.1
# ms for W_hh at H=512 (4 MiB, float32) against 0.9-1.1 here reading w's rows, and 0.6-1.1
# against 0.2-0.4 ms for the plain column runs; at H=256 (1 MiB) 0.15-0.17 against 0.12-0.16 and
# 0.08 against 0.04 ms (AMD EPYC, medians of 15, 2026-12-02).
@njit(**_JIT)
def _pack_rows_into(w, row0, out):
    n_panels, k_dim, width = out.shape
    for p in range(n_panels):
        panel = out[p]
        for j in range(width):
            row = w[row0 + p * width + j]
            for k in range(k_dim):
                panel[k, j] = row[k]


@njit(**_JIT)
def _pack_columns_into(b, col0, out):
    n_panels, k_dim, width = out.shape
    for p in range(n_panels):
        panel = out[p]
        for k in range(k_dim):
            src = b[k, col0 + p * width:]
            dst = panel[k]
            for j in range(width):
                dst[j] = src[j]


def fits_panels(n_cols, dtype):
    """Whether a product with n_cols output columns can run on panels."""
    return n_cols > 0 and n_cols % panel_width(dtype) == 0
