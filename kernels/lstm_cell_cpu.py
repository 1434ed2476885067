"""The LSTM's pointwise gate math for one batch row, forward and backward (lstm_cpu's time
loops call it once per row and step): whole rows for the batch split, a range of units for the
hidden-units split. Gate order i, f, g, o (PyTorch).

LLVM vectorizes these loops to 16 lanes, guarded by a test of every pair of arrays a loop writes
and reads: the fewer arrays a loop touches, the cheaper its start. Measured per row (float32, one
thread, AMD EPYC znver5, 2026-12-02): the forward as one loop over 13 arrays took 725 ns at H=64
and 1010 at H=256 (~225 compares, ~600 ns, before its first unit), as the short loops below 115
and 320 ns; the backward over slices 173 ns at H=64 and 230 at H=256, over one array's offsets
(cell_row_backward) 104 and 150 ns. Loops over a range of units (jlo..jhi) rather than 0..n are
not vectorized: an index that may be negative wraps around (1330 against 290 ns at H=512).
"""

from .cache_load import njit
from .activations_cpu import fast_sigmoid, fast_tanh   # inlined: activations_cpu.REVISION 2

_JIT = dict(cache=True, nogil=True, fastmath=True, error_model="numpy")
# helpers called only from @njit code: no Python or C entry point to build (compile time)
_INNER = dict(_JIT, no_cpython_wrapper=True, no_cfunc_wrapper=True)


@njit(inline="always", **_INNER)
def _activate(g, sigmoid):
    # g <- sigmoid(g) or tanh(g) in place (which: a constant where it inlines)
    for j in range(g.shape[0]):
        g[j] = fast_sigmoid(g[j]) if sigmoid else fast_tanh(g[j])


@njit(inline="always", **_INNER)
def _add_into(g, r, b):
    # g <- g + r + b
    for j in range(g.shape[0]):
        g[j] = g[j] + r[j] + b[j]


@njit(inline="always", **_INNER)
def _cell_state(gi, gf, gg, go, c_in, c_out, tanh_c, h_out, y):
    # from the activations [n] of one row's units: c_out = f c_in + i g, tanh_c = tanh(c_out),
    # h_out = y = o tanh_c
    n = gi.shape[0]
    for j in range(n):
        c_out[j] = gf[j] * c_in[j] + gi[j] * gg[j]
    for j in range(n):
        tanh_c[j] = fast_tanh(c_out[j])
    for j in range(n):
        h_out[j] = go[j] * tanh_c[j]
    for j in range(n):
        y[j] = h_out[j]


@njit(**_INNER)
def cell_row(a, r, bias, c_in, c_out, h_out, tanh_c, y):
    # one batch row, all units: a [4H] input projection -> activations i, f, g, o in place; r [4H]
    # the row's h W_hh^T; c_in, c_out, h_out, tanh_c, y [H]
    hidden = c_in.shape[0]
    _add_into(a, r, bias)
    _activate(a[:2 * hidden], True)
    _activate(a[2 * hidden:3 * hidden], False)
    _activate(a[3 * hidden:], True)
    _cell_state(a[:hidden], a[hidden:2 * hidden], a[2 * hidden:3 * hidden], a[3 * hidden:], c_in, c_out, tanh_c,
                h_out, y)


@njit(**_INNER)
def cell_row_units(a, ri, rf, rg, ro, bias, c_in, c_out, h_out, tanh_c, y, jlo, jhi):
    # cell_row for units jlo..jhi-1 of a row (the units split): ri, rf, rg, ro [jhi-jlo] the
    # gates' share of h W_hh^T
    hidden = c_in.shape[0]
    _add_into(a[jlo:jhi], ri, bias[jlo:jhi])
    _add_into(a[hidden + jlo:hidden + jhi], rf, bias[hidden + jlo:hidden + jhi])
    _add_into(a[2 * hidden + jlo:2 * hidden + jhi], rg, bias[2 * hidden + jlo:2 * hidden + jhi])
    _add_into(a[3 * hidden + jlo:3 * hidden + jhi], ro, bias[3 * hidden + jlo:3 * hidden + jhi])
    _activate(a[jlo:jhi], True)
    _activate(a[hidden + jlo:hidden + jhi], True)
    _activate(a[2 * hidden + jlo:2 * hidden + jhi], False)
    _activate(a[3 * hidden + jlo:3 * hidden + jhi], True)
    _cell_state(a[jlo:jhi], a[hidden + jlo:hidden + jhi], a[2 * hidden + jlo:2 * hidden + jhi],
                a[3 * hidden + jlo:3 * hidden + jhi], c_in[jlo:jhi], c_out[jlo:jhi], tanh_c[jlo:jhi], h_out[jlo:jhi],
                y[jlo:jhi])


@njit(**_INNER)
def cell_row_backward_units(a, c_in, tanh_c, dy, dh, dc, dg, jlo, jhi):
    # cell_row_backward for units jlo..jhi-1 of a row (the units split), through slices
    hidden = dh.shape[0]
    one = a.dtype.type(1)
    gi = a[jlo:jhi]
    gf = a[hidden + jlo:hidden + jhi]
    gg = a[2 * hidden + jlo:2 * hidden + jhi]
    go = a[3 * hidden + jlo:3 * hidden + jhi]
    dgi = dg[jlo:jhi]
    dgf = dg[hidden + jlo:hidden + jhi]
    dgg = dg[2 * hidden + jlo:2 * hidden + jhi]
    dgo = dg[3 * hidden + jlo:3 * hidden + jhi]
    dhu = dh[jlo:jhi]
    dcu = dc[jlo:jhi]
    dyu = dy[jlo:jhi]
    tc = tanh_c[jlo:jhi]
    ci = c_in[jlo:jhi]
    n = jhi - jlo
    for j in range(n):
        dhu[j] += dyu[j]
    for j in range(n):
        th = tc[j]
        dcu[j] += dhu[j] * go[j] * (one - th * th)
        dgo[j] = dhu[j] * th * go[j] * (one - go[j])
    for j in range(n):
        dgi[j] = dcu[j] * gg[j] * gi[j] * (one - gi[j])
        dgg[j] = dcu[j] * gi[j] * (one - gg[j] * gg[j])
    for j in range(n):
        dgf[j] = dcu[j] * ci[j] * gf[j] * (one - gf[j])
        dcu[j] = dcu[j] * gf[j]


@njit(**_INNER)
def cell_row_backward(a, c_in, tanh_c, dy, dh, dc, dg):
    # one batch row, all units: a [4H] activations i, f, g, o; c_in, tanh_c, dy [H]; dh, dc [H]
    # carried gradients (updated in place: dh <- dh + dy, dc <- dc_prev); dg [4H] <- the
    # pre-activation gate gradients. The gates as offsets into a and dg, not as slices.
    n = dh.shape[0]
    one = a.dtype.type(1)
    for j in range(n):
        dh[j] += dy[j]
    for j in range(n):
        th = tanh_c[j]
        dc[j] += dh[j] * a[3 * n + j] * (one - th * th)
    for j in range(n):
        o = a[3 * n + j]
        dg[3 * n + j] = dh[j] * tanh_c[j] * o * (one - o)
    for j in range(n):
        i = a[j]
        g = a[2 * n + j]
        dg[j] = dc[j] * g * i * (one - i)
        dg[2 * n + j] = dc[j] * i * (one - g * g)
    for j in range(n):
        f = a[n + j]
        dg[n + j] = dc[j] * c_in[j] * f * (one - f)
        dc[j] = dc[j] * f
