"""Recurrent layers over any cell description (tinygrad_seq/cellspec.py): nn.RNN, nn.LSTM, nn.GRU,
the variants (nn/variants.py) and nn.Recurrent for a user's own cell. PyTorch's multi-layer,
bidirectional layers: num_layers, bias, batch_first, dropout, bidirectional, hx, lengths,
unbatched input; LSTM's proj_size; zoneout for gated cells.

Each (layer, direction) runs fused (`fused=True`, the default) or as a Python loop over the cell's
step of Tensor ops (`fused=False`: the reference the fused kernels are tested against). Fused
means, in order: the hand-written kernels of RNN / LSTM / GRU (CPU and CUDA), else on the CPU the
kernel generated from the description (tinygrad_seq.cellgen), else the loop (with a warning once
when the step cannot be fused; on "cuda" the variants run the loop).
"""
import numbers
import warnings

import numpy as np

from tinygrad_seq import cell_library, cellgen, dtypes, random, recurrent
from tinygrad_seq.cellspec import CellSpec, run_sequence
from tinygrad_seq.creation import cat, full, stack, tensor, zeros
from tinygrad_seq.grad_fn_names import named
from tinygrad_seq.nn.module import Module
from tinygrad_seq.nn.rnn_forward_checks import RNNForwardChecks
from tinygrad_seq.nn.rnn_half import HALF, half_forward, runs_in_half, weights_in_float32
from tinygrad_seq.nn.rnn_hidden_dims import check_hidden, check_hidden_dims, check_state_count, one_tensor_for_states
from tinygrad_seq.nn.rnn_layer_dropout import inter_layer_dropout
from tinygrad_seq.nn.rnn_weight_checks import check_param_shapes
from tinygrad_seq.nn.rnn_weights import RNNWeights
from tinygrad_seq.nn.utils import rnn as _rnn_utils
from tinygrad_seq.tensor import Tensor
from tinygrad_seq.errors import DTypeMismatch, InvalidArgument, NotATensor, ShapeMismatch, StateCountError

_HAND_WRITTEN = {"lstm": "LSTM", "gru": "GRU", "rnn_tanh": "RNN", "rnn_relu": "RNN"}
_warned = set()


class RNNBase(RNNWeights, RNNForwardChecks, Module):
    """The layer over a CellSpec. `mode`: a PyTorch mode string ("LSTM", "GRU", "RNN_TANH",
    "RNN_RELU") or a built-in cell name; `cell`: a CellSpec (overrides mode)."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, fused=True, dtype=None, device=None,
                 zoneout=0.0, cell=None):
        super().__init__()
        spec = cell if cell is not None else cell_library.get(mode)
        if not isinstance(spec, CellSpec):
            raise TypeError(f"cell must be a CellSpec, got {type(spec).__name__}")
        if isinstance(num_layers, np.integer):   # torch checks sizes' types, not the layer count's
            num_layers = int(num_layers)
        for name, v in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if not isinstance(v, int):   # torch's TypeError (a numpy integer too; a bool is an int there)
                raise TypeError(f"{name} should be of type int, got: {type(v).__name__}")
            if v <= 0:
                raise ValueError(f"{name} must be greater than zero, got {v!r}")
        for name, v in (("bias", bias), ("batch_first", batch_first)):
            if not isinstance(v, bool):   # torch's TypeError (an int or numpy's bool included)
                raise TypeError(f"{name} should be of type bool, got: {type(v).__name__}")
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an element "
                             f"being zeroed (got {dropout!r})")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                          UserWarning, stacklevel=3)
        if isinstance(zoneout, bool) or not isinstance(zoneout, (int, float, np.integer, np.floating)) \
                or not 0 <= zoneout < 1:
            raise ValueError(f"zoneout should be a number in range [0, 1), got {zoneout!r}")
        if not isinstance(proj_size, (int, np.integer)) or isinstance(proj_size, bool):
            raise TypeError(f"proj_size should be of type int, got: {type(proj_size).__name__}")
        if proj_size and spec.name != "lstm":
            raise ValueError(f"proj_size is supported by LSTM only, not by {spec.name}")
        if proj_size and zoneout:
            raise ValueError(f"zoneout={zoneout} with proj_size={proj_size} is not supported: zoneout mixes "
                             f"each step's new state with the previous one unit by unit, and the projected "
                             f"h has proj_size units where c has hidden_size; use one or the other")
        if proj_size < 0 or proj_size >= hidden_size:
            raise ValueError(f"proj_size has to be a non-negative integer smaller than hidden_size "
                             f"({hidden_size}), got {proj_size}")
        self.mode, self.cell_spec = mode, spec
        cellgen.check(spec)
        self.input_size, self.hidden_size, self.num_layers = int(input_size), int(hidden_size), int(num_layers)
        self.bias, self.batch_first, self.dropout = bool(bias), bool(batch_first), float(dropout)
        self.bidirectional, self.proj_size, self.fused = bool(bidirectional), int(proj_size), fused
        self.zoneout = float(zoneout)
        self._make_weights(np.dtype(dtype or dtypes.get_default_dtype()))  # PyTorch: the default dtype
        self.reset_parameters()
        if device is not None and device != "cpu":
            self.to(device)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        for name, default in (("proj_size", 0), ("num_layers", 1), ("bias", True), ("batch_first", False),
                              ("dropout", 0.0), ("bidirectional", False), ("zoneout", 0.0),   # torch's order
                              ("reset_after", True)):   # (then this library's options)
            v = getattr(self, name, default)
            if v != default:
                s += f", {name}={v}"
        return s

    # ------------------------------------------------------------ input checks
    def _check_input(self, x):
        name = type(self).__name__
        if not isinstance(x, Tensor):
            raise NotATensor(f"{name}: input must be a Tensor, got {type(x).__name__}")
        if x.dtype not in (np.float32, np.float64):
            raise DTypeMismatch(f"{name}: input must be float32 or float64, got {x.dtype} "
                            "(convert it with .float() or .double())")
        if x.ndim not in (2, 3):
            tail = " tensor" if self.mode in ("RNN_TANH", "RNN_RELU") else ""   # torch's texts
            raise ValueError(f"{name}: Expected input to be 2D or 3D, got {x.ndim}D{tail} instead")
        if x.shape[-1] != self.input_size:
            raise ShapeMismatch(f"{name}: input.size(-1) must be equal to input_size. "
                             f"Expected {self.input_size}, got {x.shape[-1]} (input shape {x.shape})")
        time_axis = 1 if x.ndim == 3 and self.batch_first else 0
        if x.shape[time_axis] == 0:
            raise ShapeMismatch(f"Expected sequence length to be larger than 0 in RNN; {name} got input of shape "
                                f"{x.shape} (time axis {time_axis})")

    @staticmethod
    def _check_lengths(lengths, batch, steps):
        # a bad length: RuntimeError as pack_padded_sequence's (and ValueError, as before)
        arr = lengths.numpy() if isinstance(lengths, Tensor) else np.asarray(lengths)
        if arr.dtype.kind not in "iu":
            if arr.dtype.kind == "f" and np.all(arr == np.round(arr)):
                arr = arr.astype(np.int64)
            else:
                raise TypeError(f"lengths must be integers, got dtype {arr.dtype}")
        if arr.ndim > 1:
            raise InvalidArgument(f"lengths must be 1-D (one length per sequence), got shape {arr.shape}")
        arr = arr.reshape(-1)
        if arr.shape[0] != batch:
            raise InvalidArgument(f"lengths has {arr.shape[0]} entries but the batch has {batch} sequences")
        low = arr < 1 if arr.dtype.kind == "i" else arr == 0  # compared in their own dtype: no wrap
        bad = np.nonzero(low | (arr > steps))[0]
        if bad.size:
            i = int(bad[0])
            raise InvalidArgument(f"lengths[{i}] = {int(arr[i])} is out of range 1..{steps} (the sequence length)")
        return np.ascontiguousarray(arr.astype(np.int64))

    def _initial_states(self, hx, x, B, unbatched):
        n_states = len(self.cell_spec.states)
        dirs = 2 if self.bidirectional else 1
        sizes = [self.proj_size or self.hidden_size] + [self.hidden_size] * (n_states - 1)
        if hx is None:
            return [zeros((self.num_layers * dirs, B, n), dtype=x.dtype, device=x.device) for n in sizes]
        if n_states == 1:
            hx = (hx,)
        elif not isinstance(hx, (tuple, list)) or len(hx) != n_states:
            if isinstance(hx, (tuple, list)):
                check_state_count(hx, self.cell_spec.states, self.cell_spec.name)
            elif isinstance(hx, Tensor):
                raise one_tensor_for_states(hx, self.cell_spec.states, type(self).__name__, unbatched)
            raise StateCountError(f"{type(self).__name__}: hx must be a tuple of {n_states} tensors "
                                  f"{self.cell_spec.states}")
        out = []
        layers = self.num_layers * dirs
        for k, (h, n) in enumerate(zip(hx, sizes)):
            want = (layers, n) if unbatched else (layers, B, n)
            if not (isinstance(h, Tensor) and h.shape == want and h.dtype == x.dtype and h.device == x.device):
                # the messages are built only for a state that fails (a layer call's fixed cost);
                # torch checks the input against the weights first (its ValueError)
                if isinstance(h, Tensor) and h.dtype != x.dtype and self._flat_weights[0].dtype != x.dtype:
                    self.check_input(x, None)
                check_hidden_dims(hx, self.cell_spec.states, unbatched)
                what = f"hidden[{k}] ({self.cell_spec.states[k]}_0)" if n_states > 1 else "hidden (h_0)"
                check_hidden(type(self).__name__, h, want, what, x)
            out.append(h.unsqueeze(1) if unbatched else h)
        return out

    # ------------------------------------------------------------ forward
    def forward(self, input, hx=None, lengths=None):
        if isinstance(input, _rnn_utils.PackedSequence):  # unpack, run with lengths, repack
            if lengths is not None:
                raise ValueError(f"{type(self).__name__}: lengths= was given with a PackedSequence, which "
                                 "carries its own lengths (batch_sizes): pass one or the other")
            return _rnn_utils.packed_forward(self, input, hx)
        if runs_in_half(self, input):   # torch runs float16 layers on the CPU: here in float32 (rnn_half.py)
            return half_forward(self, input, hx, lengths)
        self._update_flat_weights()   # torch's reads of the weights (a parametrized one's draws)
        self._check_input(input)
        unbatched = input.ndim == 2
        x = input.unsqueeze(1) if unbatched else (input.transpose(0, 1) if self.batch_first else input)
        T, B = x.shape[0], x.shape[1]
        states0 = self._initial_states(hx, x, B, unbatched)
        if lengths is None:
            lens = np.empty(B, np.int64)   # np.full's Python costs ~1.5 us a call
            lens.fill(T)
        else:
            lens = self._check_lengths(lengths, B, T)
        dirs = 2 if self.bidirectional else 1
        if self.num_layers * dirs == 1:
            # the states go in and come out as [1, B, H]: no indexing or stacking node per call
            out, finals = self._run_direction(x, states0, "_l0", lens, False)
            if unbatched:
                out, finals = out.squeeze(1), [f.squeeze(1) for f in finals]
            elif self.batch_first:
                out = self._batch_first_out(out)
            return out, (finals[0] if len(finals) == 1 else tuple(finals))
        finals = [[] for _ in states0]
        layer_in = x
        for layer in range(self.num_layers):
            outs = []
            for d in range(dirs):
                k = layer * dirs + d
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                y, states = self._run_direction(layer_in, [s[k] for s in states0], sfx, lens, bool(d))
                outs.append(y)
                for f, s in zip(finals, states):
                    f.append(s)
            layer_in = outs[0] if dirs == 1 else cat(outs, dim=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_in = inter_layer_dropout(self, layer_in, None if lengths is None else lens)
        out = layer_in
        finals = [stack(f, 0) for f in finals]  # a copy: a view could alias an array saved for backward
        if unbatched:
            out, finals = out.squeeze(1), [f.squeeze(1) for f in finals]
        elif self.batch_first:
            out = self._batch_first_out(out)
        return out, (finals[0] if len(finals) == 1 else tuple(finals))

    def _batch_first_out(self, out):
        """out [T, B, *] as [B, T, *]; torch's node: TransposeBackward0 for an LSTM, 1 otherwise."""
        out = out.transpose(0, 1)
        return out if self.mode == "LSTM" else named(out, "TransposeBackward1")

    def _params(self, sfx, like):
        params = {}
        registered = self._parameters  # where Module.__setattr__ keeps them: no __getattr__ per name
        dtype, device = like.array.dtype, like.device
        for name in [p.name for p in self.cell_spec.params] + (["weight_hr"] if self.proj_size else []):
            key = name + sfx
            t = registered[key] if key in registered else self._weight_now(key)
            if t is not None:
                if t.array.dtype is not dtype and t.array.dtype == HALF and weights_in_float32():
                    t = t.float()   # a float16 layer's call, run in float32 (rnn_half.py)
                if t.array.dtype != dtype:
                    raise DTypeMismatch(f"RNN input dtype (torch.{like.dtype}) does not match weight dtype "   # torch's
                                        f"(torch.{t.dtype}). Convert input: input.to(torch.{t.dtype}), or convert "
                                        f"model: model.to(torch.{like.dtype})")
                if t.device != device:
                    raise RuntimeError(f"input is on {like.device} but the weights are on {t.device}")
            params[name] = t
        check_param_shapes(self, sfx, params)   # torch's RuntimeError for a weight of the wrong shape
        return params

    def _zoneout_masks(self, x):
        """[T, B, S*H] per-step keep-previous masks: Bernoulli(zoneout) in training, zoneout in eval."""
        T, B = x.shape[0], x.shape[1]
        shape = (T, B, len(self.cell_spec.states) * self.hidden_size)
        if self.training:
            return tensor((random.uniform(0.0, 1.0, shape) < self.zoneout).astype(x.dtype), device=x.device)
        return full(shape, self.zoneout, dtype=x.dtype, device=x.device)

    def _run_direction(self, x, states, sfx, lens, reverse):
        """x (T, B, I), states [(B, H)] -> y (T, B, H), leaving states [(B, H)]; or states
        [(1, B, H)] -> leaving states [(1, B, H)] (a one-layer, one-direction module's)."""
        params = self._params(sfx, x)
        spec = self.cell_spec
        ext = None
        if self.zoneout:
            spec, ext = zoneout_spec(spec), self._zoneout_masks(x)
        fused = self.fused and x.shape[1] > 0 and not self.proj_size
        if fused and not self.zoneout and spec.name in _HAND_WRITTEN and spec is cell_library.CELLS[spec.name]:
            # the GRU and RNN with fewer batch rows than threads: the generated kernel's hidden-units
            # split, where the hand-written one runs the time loop on one thread (T=200 B=1 H=512:
            # GRU 21.4 against 27.1 ms, RNN 7.5 against 10.6; AMD EPYC, 2 threads, 2026-12-03,
            # bench/results/few_rows_and_generated_overhead_2026-12-03.md)
            if spec.name == "lstm" or not recurrent.generated_splits_units(
                    x.device, spec.name, lambda: _generated(spec, 0, x.device, x.dtype), x.shape[0], x.shape[1],
                    x.shape[2], self.hidden_size, x.array.dtype):
                return self._hand_written(x, states, params, lens, reverse)
        if fused:
            kern = _generated(spec, len(spec.states) if ext is not None else 0, x.device, x.dtype)
            if kern is not None:
                return self._generated(kern, spec, x, states, params, lens, reverse, ext)
        if states[0].ndim == 3:
            y, states = self._unfused(spec, x, [s[0] for s in states], params, lens, reverse, ext)
            return y, [stack([s], 0) for s in states]  # a copy: a view could alias an array saved for backward
        return self._unfused(spec, x, states, params, lens, reverse, ext)

    def _zero_bias(self, x, params):
        n = params["weight_ih"].shape[0]
        return [params[b] if params[b] is not None else zeros((n,), dtype=x.dtype, device=x.device)
                for b in ("bias_ih", "bias_hh")]

    def _hand_written(self, x, states, params, lens, reverse):
        w_ih, w_hh = params["weight_ih"], params["weight_hh"]
        b_ih, b_hh = self._zero_bias(x, params)
        name = self.cell_spec.name
        if name == "lstm":
            y, h, c = recurrent.LSTMFunction.apply(x, states[0], states[1], w_ih, w_hh, b_ih, b_hh,
                                                   lengths=lens, reverse=reverse)
            return y, [h, c]
        if name == "gru":
            y, h = recurrent.GRUFunction.apply(x, states[0], w_ih, w_hh, b_ih, b_hh, lengths=lens, reverse=reverse)
        else:
            y, h = recurrent.RNNFunction.apply(x, states[0], w_ih, w_hh, b_ih, b_hh, lengths=lens,
                                               reverse=reverse, relu=name == "rnn_relu")
        return y, [h]

    def _generated(self, kern, spec, x, states, params, lens, reverse, ext):
        w_ih, mats, pv_names = _kernel_inputs(kern)
        pv = []
        for name in pv_names:
            t = params.get(name)
            if t is None:
                shape = next(p for p in spec.params if p.name == name).resolve(0, self.hidden_size, spec.gates)
                t = zeros(shape, dtype=x.dtype, device=x.device)
            pv.append(t)
        inputs = [x, *states, params[w_ih], *[params[m] for m in mats], *pv]
        outs = recurrent.CellFunction.apply(*inputs, kern=kern, n_states=len(states), mats=mats,
                                            ext=None if ext is None else ext.array, lengths=lens, reverse=reverse,
                                            spec=spec)
        return outs[0], list(outs[1:])

    def _unfused(self, spec, x, states, params, lens, reverse, ext):
        """The reference: the step once per time step (cellspec.run_sequence)."""
        return run_sequence(spec, params, x, states, self.hidden_size, lens, reverse, ext,
                            params["weight_hr"] if self.proj_size else None)


def _kernel_inputs(kern):
    """(weight_ih's name, the product weights' names, the pointwise parameters' names) of a
    generated kernel, in CellFunction's input order; once per kernel (a layer call asks)."""
    inputs = _inputs_of.get(kern)
    if inputs is None:
        L = kern.LAYOUT
        inputs = _inputs_of[kern] = (L["w_ih"], tuple(dict.fromkeys(name for name, _, _ in L["p_rows"])),
                                     tuple(name for name, _ in L["pv_names"]))
    return inputs


_inputs_of = {}


def _generated(spec, n_ext, device, dtype):
    """The generated kernel of spec, or None (with a warning once) when its step cannot fuse."""
    try:
        return cellgen.fused_kernel(spec, n_ext, "cpu" if device == "cpu" else "cuda", dtype)
    except cellgen.Unfusable as e:
        if (id(spec), n_ext) not in _warned:
            _warned.add((id(spec), n_ext))
            warnings.warn(f"cell {spec.name}: {e} cannot be fused; running the step unfused", stacklevel=4)
        return None


_zoneout_specs = {}


def zoneout_spec(spec):
    """spec with zoneout: each new state mixed with the previous one by the mask cell.ext(k)."""
    z = _zoneout_specs.get(id(spec))
    if z is None or z[0] is not spec:
        def step(cell, x, s):
            new = spec.new_states(spec.step(cell, x, s))
            return {name: n + cell.ext(k) * (getattr(s, name) - n)
                    for k, (name, n) in enumerate(zip(spec.states, new))}
        z = (spec, CellSpec(spec.name + "_zoneout", spec.gates, spec.states, step, spec.params, spec.doc))
        _zoneout_specs[id(spec)] = z
    return z[1]


class RNN(RNNBase):
    r"""Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu).

    Args as torch.nn.RNN, plus fused=True (False: the unfused reference path).
    Call: rnn(input, hx=None, lengths=None) -> (output, h_n); input (T, B, I) or (B, T, I) with
    batch_first, or unbatched (T, I); h_n (num_layers * num_directions, B, H).
    """
    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, fused=True, dtype=None, device=None, **kwargs):
        _no_proj_size(kwargs)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size,
                         num_layers, bias, batch_first, dropout, bidirectional, fused=fused, dtype=dtype,
                         device=device)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    r"""Long short-term memory, gates in PyTorch's order i, f, g, o:

        i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)     f = sigmoid(W_if x + b_if + W_hf h + b_hf)
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)        o = sigmoid(W_io x + b_io + W_ho h + b_ho)
        c' = f * c + i * g                             h' = o * tanh(c')

    proj_size > 0: h' = W_hr (o * tanh(c')) (weight_hr_l{k} [proj_size, H]), as PyTorch.
    zoneout > 0: each unit of h and c keeps its previous value with that probability in
    training, and the expectation p * previous + (1 - p) * new in eval (Krueger et al. 2016).
    Call: lstm(input, hx=None, lengths=None) -> (output, (h_n, c_n)).
    """
    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, fused=True, dtype=None, device=None,
                 zoneout=0.0):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size=proj_size, fused=fused, dtype=dtype, device=device,
                         zoneout=zoneout)


class GRU(RNNBase):
    r"""Gated recurrent unit, gates in PyTorch's order r, z, n:

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)     z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))  h' = (1 - z) * n + z * h

    reset_after=False gives Cho et al. 2014's n = tanh(W_in x + b_in + W_hn (r * h) + b_hn).
    Call: gru(input, hx=None, lengths=None) -> (output, h_n).
    """
    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, fused=True, dtype=None, device=None, zoneout=0.0,
                 reset_after=True, **kwargs):
        _no_proj_size(kwargs)
        _check_flag("reset_after", reset_after)
        super().__init__("GRU" if reset_after else "gru_reset_before", input_size, hidden_size, num_layers, bias,
                         batch_first, dropout, bidirectional, fused=fused, dtype=dtype, device=device,
                         zoneout=zoneout)
        self.reset_after = bool(reset_after)


class Recurrent(RNNBase):
    r"""A recurrent layer over any cell description: Recurrent(cell, input_size, hidden_size, ...)
    with cell a CellSpec (see tinygrad_seq.cellspec) and the layer options of nn.LSTM
    (num_layers, bias, batch_first, dropout, bidirectional, fused, dtype, device, zoneout).
    Returns (output, h_n) for a one-state cell, (output, (h_n, c_n, ...)) otherwise."""
    def __init__(self, cell, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, fused=True, dtype=None, device=None, zoneout=0.0):
        super().__init__(None, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         fused=fused, dtype=dtype, device=device, zoneout=zoneout, cell=cell)

    def extra_repr(self):
        return f"{self.cell_spec.name}, " + super().extra_repr()


def _no_proj_size(kwargs):
    """torch's RNN and GRU take **kwargs and refuse proj_size with a ValueError."""
    if "proj_size" in kwargs:
        raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
    if kwargs:
        raise TypeError(f"__init__() got an unexpected keyword argument '{next(iter(kwargs))}'")


def _check_flag(name, value):
    """A True/False option: anything else (a string "False", None) would pick a cell silently."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
