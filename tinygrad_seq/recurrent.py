"""Fused recurrent Functions: one layer, one direction, the whole sequence per call.

Each wraps a kernel pair from tinygrad_seq.kernels (chosen by device.kernels: the Numba CPU file or
the numba.cuda file of the cell, which export the same signatures). Shapes, time-major:
    x (T, B, I), h0/c0 (B, H), w_ih (G*H, I), w_hh (G*H, H), b_ih/b_hh (G*H,), lengths (B,) int64
    -> y (T, B, H), h_n (B, H) [, c_n (B, H)]
"""
# from the module itself: `from tinygrad_seq import device` gives ts.device, the class, whose
# attribute lookup goes through its metaclass on every call
import numpy as np

from tinygrad_seq.device import kernels as _kernels
from tinygrad_seq.autograd import Function
from tinygrad_seq.outer_grad import OuterGrad


def _grad_or_zeros(B, g, shape, dtype):
    """An output's gradient as the kernels take it, zeros of `shape` when it did not arrive (the
    output was unused)."""
    return B.zeros(shape, dtype) if g is None else B.ascontiguous(g)


# The states: [B, H], or [1, B, H] as nn.RNNBase passes a one-layer, one-direction module's h_0
# (no indexing node on the way in, no stacking node on the way out). The kernels take [B, H]
# views; the leaving states and the entering states' gradients come back in the given shape.
def _as_2d(B, s):
    return s if len(s.shape) == 2 else B.reshape(s, s.shape[1:])


def _as_given(B, a, layered):
    return B.reshape(a, (1,) + tuple(a.shape)) if layered else a


# The input: (T, B, I), or a cell's step (B, I), taken as a sequence of one (no unsqueeze node on
# the way in: torch's cells have none); its gradient comes back in the given shape.
def _as_sequence(ctx, B, x):
    x = B.ascontiguous(x)
    ctx.one_step_input = len(x.shape) == 2
    return B.reshape(x, (1,) + tuple(x.shape)) if ctx.one_step_input else x


def _dx_as_given(ctx, B, dx):
    return B.reshape(dx, tuple(dx.shape[1:])) if ctx.one_step_input and dx is not None else dx


def _dx_option(ctx):
    """The backward kernels' need_dx=False when the input needs no gradient (a first layer's data,
    a frozen encoder's output) and the kernels take it: a sequence's dx GEMM, about a sixth of an
    LSTM's forward + backward products, is not run; dx comes back None."""
    return _NO_DX if not ctx.needs_input_grad[0] and getattr(ctx.K, "INPUT_GRAD_OPTIONAL", False) else {}


_NO_DX = {"need_dx": False}


def _checked_w_ih(ctx, w_ih):
    """What the Functions save of W_ih: W_ih reaches only dx, so when the input needs no gradient
    it is kept without the in-place check (None saved; as torch's input projection keeps it only
    then: its CPU GRU and RNN and its cells are compositions of linear ops) and may change in
    place before backward. (Kept in a tuple: writes.saved_was_written checks the arrays a node
    keeps as attributes too.)"""
    ctx.w_ih_unchecked = None if ctx.needs_input_grad[0] else (w_ih,)
    return w_ih if ctx.needs_input_grad[0] else None


def _kept_w_ih(ctx, saved_w_ih):
    """W_ih as _checked_w_ih kept it."""
    return saved_w_ih if ctx.w_ih_unchecked is None else ctx.w_ih_unchecked[0]


def _checked_w_hh(ctx, w_hh, steps, states):
    """W_hh as _checked_w_ih keeps W_ih: over one step from states that need no gradient it
    reaches only their unused gradient, so torch's compositions do not keep it (a weight written
    under no_grad between a decoder's step and its backward); `states`: the parents' positions."""
    needed = steps > 1 or any(ctx.needs_input_grad[k] for k in states)
    ctx.w_hh_unchecked = None if needed else (w_hh,)
    return w_hh if needed else None


def _kept_w_hh(ctx, saved_w_hh):
    return saved_w_hh if ctx.w_hh_unchecked is None else ctx.w_hh_unchecked[0]


class RNNFunction(Function):
    fresh_grads = True  # the kernels allocate every gradient they return (leaf_grads.adoptable)

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, lengths=None, reverse=False, relu=False):
        K = _kernels(ctx.device, "rnn")
        B = ctx.b
        x = _as_sequence(ctx, B, x)
        ctx.layered = layered = len(h0.shape) == 3
        h0 = _as_2d(B, h0)
        y, h_n, saved = K.rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths, reverse, relu)
        ctx.save_for_backward(x, h0, _checked_w_ih(ctx, w_ih), _checked_w_hh(ctx, w_hh, x.shape[0], (1,)), saved)
        ctx.K, ctx.lengths, ctx.reverse, ctx.relu = K, lengths, reverse, relu
        return y, _as_given(B, h_n, layered)

    @staticmethod
    def backward(ctx, dy, dh_n):
        x, h0, w_ih, w_hh, saved = ctx.saved_tensors
        w_ih, w_hh = _kept_w_ih(ctx, w_ih), _kept_w_hh(ctx, w_hh)
        B = ctx.b
        dy = _grad_or_zeros(B, dy, (x.shape[0],) + tuple(h0.shape), x.dtype)
        dh_n = _grad_or_zeros(B, None if dh_n is None else _as_2d(B, dh_n), h0.shape, h0.dtype)
        dx, dh0, *dweights = ctx.K.rnn_backward(dy, dh_n, x, h0, w_ih, w_hh, ctx.lengths, ctx.reverse, ctx.relu,
                                                saved, **_dx_option(ctx))
        return (_dx_as_given(ctx, B, dx), _as_given(B, dh0, ctx.layered), *dweights)


class LSTMFunction(Function):
    fresh_grads = True  # the kernels allocate every gradient they return (leaf_grads.adoptable)

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths=None, reverse=False):
        K = _kernels(ctx.device, "lstm")
        B = ctx.b
        x = _as_sequence(ctx, B, x)
        ctx.layered = layered = len(h0.shape) == 3
        h0, c0 = _as_2d(B, h0), _as_2d(B, c0)
        y, h_n, c_n, saved = K.lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, lengths, reverse,
                                            True in ctx.needs_input_grad)
        if layered and x.dtype == np.float32:   # torch's oneDNN layer keeps every weight and bias
            ctx.w_ih_unchecked = ctx.w_hh_unchecked = None
            ctx.kept_b_ih, ctx.kept_b_hh = b_ih, b_hh   # (attributes: a write to them before backward raises)
            ctx.save_for_backward(x, h0, c0, w_ih, w_hh, saved)
        else:   # a cell's step, a float64 layer: torch's compositions of linear ops
            ctx.save_for_backward(x, h0, c0, _checked_w_ih(ctx, w_ih), _checked_w_hh(ctx, w_hh, x.shape[0], (1, 2)),
                                  saved)
        ctx.K, ctx.lengths, ctx.reverse = K, lengths, reverse
        return y, _as_given(B, h_n, layered), _as_given(B, c_n, layered)

    @staticmethod
    def backward(ctx, dy, dh_n, dc_n):
        x, h0, c0, w_ih, w_hh, saved = ctx.saved_tensors
        w_ih, w_hh = _kept_w_ih(ctx, w_ih), _kept_w_hh(ctx, w_hh)
        B = ctx.b
        dy = _grad_or_zeros(B, dy, (x.shape[0],) + tuple(h0.shape), x.dtype)
        dh_n = _grad_or_zeros(B, None if dh_n is None else _as_2d(B, dh_n), h0.shape, h0.dtype)
        dc_n = _grad_or_zeros(B, None if dc_n is None else _as_2d(B, dc_n), c0.shape, c0.dtype)
        layered = ctx.layered
        if x.shape[0] == 1 and getattr(ctx.K, "WEIGHT_FACTORS", False):
            # a decoder's step: the weights' gradients as factors, multiplied once over all steps
            dx, dh0, dc0, f_ih, f_hh, db_ih, db_hh = ctx.K.lstm_backward(
                dy, dh_n, dc_n, x, h0, c0, w_ih, w_hh, ctx.lengths, ctx.reverse, saved, weight_factors=True)
            return (_dx_as_given(ctx, B, dx), _as_given(B, dh0, layered), _as_given(B, dc0, layered), OuterGrad(*f_ih),
                    OuterGrad(*f_hh),
                    db_ih, db_hh)
        dx, dh0, dc0, *dweights = ctx.K.lstm_backward(dy, dh_n, dc_n, x, h0, c0, w_ih, w_hh, ctx.lengths,
                                                      ctx.reverse, saved, **_dx_option(ctx))
        return (_dx_as_given(ctx, B, dx), _as_given(B, dh0, layered), _as_given(B, dc0, layered), *dweights)


class GRUFunction(Function):
    fresh_grads = True  # the kernels allocate every gradient they return (leaf_grads.adoptable)

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, lengths=None, reverse=False):
        K = _kernels(ctx.device, "gru")
        B = ctx.b
        x = _as_sequence(ctx, B, x)
        ctx.layered = layered = len(h0.shape) == 3
        h0 = _as_2d(B, h0)
        y, h_n, saved = K.gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, lengths, reverse,
                                      True in ctx.needs_input_grad)
        # b_hh is not kept: neither backward reads it (the forward saved W_hn h + b_hn), so it may
        # be written in place before backward, as in PyTorch
        ctx.save_for_backward(x, h0, _checked_w_ih(ctx, w_ih), _checked_w_hh(ctx, w_hh, x.shape[0], (1,)), saved)
        ctx.K, ctx.lengths, ctx.reverse = K, lengths, reverse
        return y, _as_given(B, h_n, layered)

    @staticmethod
    def backward(ctx, dy, dh_n):
        x, h0, w_ih, w_hh, saved = ctx.saved_tensors
        w_ih, w_hh = _kept_w_ih(ctx, w_ih), _kept_w_hh(ctx, w_hh)
        b_hh = None   # not read (see forward)
        B = ctx.b
        dy = _grad_or_zeros(B, dy, (x.shape[0],) + tuple(h0.shape), x.dtype)
        dh_n = _grad_or_zeros(B, None if dh_n is None else _as_2d(B, dh_n), h0.shape, h0.dtype)
        dx, dh0, *dweights = ctx.K.gru_backward(dy, dh_n, x, h0, w_ih, w_hh, b_hh, ctx.lengths, ctx.reverse, saved,
                                                **_dx_option(ctx))
        return (_dx_as_given(ctx, B, dx), _as_given(B, dh0, ctx.layered), *dweights)


def generated_splits_units(device, cell, kernel_of, seq_len, batch, n_in, hidden, dtype):
    """For the hand-written GRU and RNN, whose CPU kernels split only the batch rows over threads:
    whether a call with fewer rows than threads should run the generated kernel of the same cell
    (kernel_of(), asked only then), which splits its hidden units there when its plan says so."""
    return device == "cpu" and _kernels("cpu", "cell").units_split_below_threads(cell, kernel_of, seq_len, batch,
                                                                                   n_in, hidden, dtype)


class CellFunction(Function):
    """Any described cell, fused: the generated kernel module `kern` (tinygrad_seq.cellgen) in the
    shared time loop of the device (kernels/cell_cpu.py, kernels/cell_cuda.py). Inputs: x, the S
    entering states, weight_ih, the weight matrices the step's products read (`mats`), then the
    pointwise parameters in the kernel's order. kwargs: kern, n_states, mats (names, in input
    order), ext (None or [T,B,E*H] masks, on the device), lengths, reverse. Outputs: y, then the S
    leaving states."""
    fresh_grads = True  # the kernels allocate every gradient they return (leaf_grads.adoptable)


    @staticmethod
    def forward(ctx, x, *arrays, kern, n_states, mats, ext, lengths, reverse, spec=None):
        K = _kernels(ctx.device, "cell")
        B = ctx.b
        x = _as_sequence(ctx, B, x)
        n_mats = len(mats)
        ctx.layered = layered = len(arrays[0].shape) == 3
        # the drivers take the S states as they are (no stacked copy)
        states0 = [_as_2d(B, a) for a in arrays[:n_states]] if layered else arrays[:n_states]
        w_ih = arrays[n_states]
        mat_arrays = arrays[n_states + 1:n_states + 1 + n_mats]
        pv_arrays = arrays[n_states + 1 + n_mats:]
        hidden = states0[0].shape[1]
        whole, p_rows, pv_kept = _inputs_layout(kern, mats)
        if whole >= 0 and p_rows[0][2] * hidden == mat_arrays[whole].shape[0]:
            # one product reading a whole weight: wcat is that weight (saved as the hand-written
            # Functions save W_hh), no copy of [G*H, H] per call
            wcat = B.ascontiguous(mat_arrays[whole])
        else:
            by_name = dict(zip(mats, mat_arrays))
            pieces = [B.ascontiguous(by_name[name][row0 * hidden:(row0 + rows) * hidden])
                      for name, row0, rows in p_rows]
            wcat = (pieces[0] if len(pieces) == 1 else B.concatenate(pieces, 0)) if pieces else B.zeros((0, hidden), x.dtype)
        pv = (B.concatenate([a if len(a.shape) == 1 else B.reshape(a, (-1,)) for a in pv_arrays], 0) if pv_arrays
              else B.zeros((0,), x.dtype))
        # the last argument: a backward will follow (the CPU driver then compiles it aside)
        y, states_n, saved = K.cell_forward(kern, x, states0, w_ih, wcat, pv, ext, lengths, reverse,
                                            True in ctx.needs_input_grad)
        # the entering states, the weights and the parameters the backward reads, as given (wcat
        # and pv may be copies): one written in place before backward raises there, as for the
        # hand-written Functions and in PyTorch; a bias (never read by the backward) may be written
        ctx.save_for_backward(x, _checked_w_ih(ctx, w_ih), wcat, pv, saved, *arrays[:n_states], *mat_arrays,
                              *(pv_arrays if pv_kept is None else [pv_arrays[i] for i in pv_kept]))
        ctx.K, ctx.kern, ctx.lengths, ctx.reverse = K, kern, lengths, reverse
        ctx.spec, ctx.ext = spec, ext   # the cell's description: its composition for create_graph (recompose.py)
        ctx.state_shape = states0[0].shape
        ctx.mat_shapes = [a.shape for a in mat_arrays]
        ctx.pv_shapes = [a.shape for a in pv_arrays]
        ctx.n_states, ctx.mats = n_states, mats
        # states_n [S, B, H] is the kernels' own (not saved): its rows are the leaving states
        if n_states == 1:
            return y, (states_n[0:1] if layered else states_n[0])
        return (y,) + tuple(states_n[k:k + 1] if layered else states_n[k] for k in range(n_states))

    @staticmethod
    def backward(ctx, dy, *dstates):
        x, w_ih, wcat, pv, saved = ctx.saved_tensors[:5]
        w_ih = _kept_w_ih(ctx, w_ih)
        B = ctx.b
        state_shape, layered = ctx.state_shape, ctx.layered
        hidden = state_shape[1]
        dy = _grad_or_zeros(B, dy, (x.shape[0],) + tuple(state_shape), x.dtype)
        dst = [_grad_or_zeros(B, None if g is None else _as_2d(B, g), state_shape, x.dtype) for g in dstates]
        dx, dst0, dw_ih, dwcat, dpv = ctx.K.cell_backward(ctx.kern, dy, dst, x, w_ih, wcat, pv, ctx.lengths,
                                                          ctx.reverse, saved, **_dx_option(ctx))
        grads = ([_dx_as_given(ctx, B, dx)] + [dst0[k:k + 1] if layered else dst0[k] for k in range(ctx.n_states)]
                 + [dw_ih])
        p_rows = ctx.kern.LAYOUT["p_rows"]
        for name, shape in zip(ctx.mats, ctx.mat_shapes):
            grads.append(_matrix_grad(B, name, shape, dwcat, p_rows, hidden, x.dtype))
        off = 0
        for shape in ctx.pv_shapes:
            size = int(_prod(shape))
            g = dpv[off:off + size]  # a slice of the flat dpv: contiguous
            grads.append(g if len(shape) == 1 else B.reshape(g, shape))
            off += size
        return tuple(grads)


_inputs_layouts = {}


def _inputs_layout(kern, mats):
    """Once per kernel and mats: (the index in mats of the weight the kernel's one product reads
    from row 0, or -1: wcat may be that weight itself when the product reads all of its rows,
    which the caller checks against its shape; the kernel's p_rows; the indices of the pointwise
    parameters its backward reads, LAYOUT["pv_backward"], or None where the layout does not say
    (the CUDA kernels): all are kept for the in-place check)."""
    key = (kern, tuple(mats))
    hit = _inputs_layouts.get(key)
    if hit is None:
        L = kern.LAYOUT
        p_rows = L["p_rows"]
        whole = list(mats).index(p_rows[0][0]) if len(p_rows) == 1 and p_rows[0][1] == 0 else -1
        read = L.get("pv_backward")
        kept = None if read is None else [i for i, (name, _) in enumerate(L["pv_names"]) if name in read]
        hit = _inputs_layouts[key] = (whole, p_rows, kept)
    return hit


def _matrix_grad(B, name, shape, dwcat, p_rows, hidden, dtype):
    """The gradient of weight matrix `name` from the stacked products' dwcat: its row blocks in
    order, zeros where no product reads it (rows read twice are added, on the host)."""
    if len(p_rows) == 1 and p_rows[0][0] == name and tuple(dwcat.shape) == tuple(shape):
        return dwcat  # one product reading all of the weight (an LSTM's W_hh): dwcat is its gradient
    blocks, off = [], 0
    for n, row0, rows in p_rows:
        if n == name:
            blocks.append((row0 * hidden, rows * hidden, dwcat[off:off + rows * hidden]))
        off += rows * hidden
    blocks.sort(key=lambda blk: blk[0])
    pieces, at = [], 0
    for lo, size, g in blocks:
        if lo < at:  # overlapping rows: add on the host
            import numpy as np
            out = np.zeros(shape, dtype)
            o = 0
            for n, row0, rows in p_rows:
                if n == name:
                    out[row0 * hidden:(row0 + rows) * hidden] += B.to_host(dwcat[o:o + rows * hidden])
                o += rows * hidden
            return B.asarray(out)
        if lo > at:
            pieces.append(B.zeros((lo - at,) + tuple(shape[1:]), dtype))
        pieces.append(B.ascontiguous(g))
        at = lo + size
    if at < shape[0]:
        pieces.append(B.zeros((shape[0] - at,) + tuple(shape[1:]), dtype))
    return B.concatenate(pieces, 0) if len(pieces) > 1 else pieces[0]


def _prod(shape):
    n = 1
    for s in shape:
        n *= s
    return n
