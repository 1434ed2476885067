"""torch.ao.nn.quantized.dynamic.LSTM / GRU (DynamicQuantizedLSTM / DynamicQuantizedGRU):
the recurrences of nn.LSTM / nn.GRU with every matrix product a dynamically quantized Linear,
in the order torch's quantized_lstm / quantized_gru (aten RNN.cpp) runs them on the CPU:

    per layer and direction: G = linear_ih(x)      one quantization of the whole [T, B, C] input
    per step t:              gates = linear_hh(h) + G[t]      h [B, H] quantized on its own
                             then the float32 gate math of nn.LSTM / nn.GRU

Buffers per layer and direction (k = l0, l0_reverse, l1, ...): weight_ih_{k} / weight_hh_{k}
(int8, or float16), weight_ih_{k}_scale / _zero_point (qint8), bias_ih_{k} / bias_hh_{k}
(float32). Input [T, B, C] (batch_first: [B, T, C]) float32; PackedSequence and unbatched
(2-D) input are not supported (torch's dynamic RNNs take no 2-D input either)."""
import numbers
import warnings

import numpy as np

from tinygrad_seq.creation import randn
from tinygrad_seq.nn.module import Module
from tinygrad_seq.tensor import Tensor
from tinygrad_seq.dtypes import float16
from tinygrad_seq.quantized_dtypes import qint8
from tinygrad_seq.ao.nn.quantized.dynamic import common

F32 = np.float32
_GATES = {"LSTM": 4, "GRU": 3}


def _sigmoid(x):
    return F32(1) / (F32(1) + np.exp(-x))


def lstm_step(gates, c):
    """torch's LSTMCell on precomputed gates [B, 4H] (i, f, g, o): (h', c')."""
    i, f, g, o = np.split(gates, 4, axis=1)
    c_new = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
    return _sigmoid(o) * np.tanh(c_new), c_new


def gru_step(gi, gh, h):
    """torch's GRUCell on the input and hidden products [B, 3H] (r, z, n): h'."""
    ir, iz, i_n = np.split(gi, 3, axis=1)
    hr, hz, h_n = np.split(gh, 3, axis=1)
    r, z = _sigmoid(hr + ir), _sigmoid(hz + iz)
    n = np.tanh(i_n + h_n * r)
    return (h - n) * z + n


class RNNBase(Module):
    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, dtype=qint8):
        super().__init__()
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}", UserWarning, stacklevel=2)
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode} (LSTM or GRU)")
        if dtype is not qint8 and dtype != float16:
            raise RuntimeError(f"Unsupported dtype for dynamic RNN quantization: {dtype}")
        self.mode, self.input_size, self.hidden_size = mode, int(input_size), int(hidden_size)
        self.num_layers, self.bias, self.batch_first = int(num_layers), bias, batch_first
        self.dropout, self.bidirectional = float(dropout), bidirectional
        self.dtype, self.version, self.training = (qint8 if dtype is qint8 else float16), 2, False
        gate_size = _GATES[mode] * self.hidden_size
        for layer, suffix in self._keys():
            sizes = {"ih": self.input_size if layer == 0 else self.hidden_size * self._dirs,
                     "hh": self.hidden_size}
            # torch's constructor draws placeholder weights (replaced by from_float's): the same
            # draws here keep the random stream where torch's is after quantize_dynamic
            for shape in ((gate_size, sizes["ih"]), (gate_size, sizes["hh"]), (gate_size,), (gate_size,)):
                randn(*shape)
            for kind, width in sizes.items():
                name = f"weight_{kind}_l{layer}{suffix}"
                if self.dtype is qint8:
                    self.register_buffer(name, Tensor._wrap(np.zeros((gate_size, width), np.int8)))
                    self.register_buffer(name + "_scale", Tensor._wrap(np.ones((), F32)))
                    self.register_buffer(name + "_zero_point", Tensor._wrap(np.zeros((), np.int64)))
                else:
                    self.register_buffer(name, Tensor._wrap(np.zeros((gate_size, width), np.float16)))
                self.register_buffer(f"bias_{kind}_l{layer}{suffix}", Tensor._wrap(np.zeros(gate_size, F32)))
        self.__dict__["_prepared"] = common.PreparedCache()

    @property
    def _dirs(self):
        return 2 if self.bidirectional else 1

    def _keys(self):
        return [(layer, "_reverse" if d else "") for layer in range(self.num_layers) for d in range(self._dirs)]

    def _get_name(self):
        return f"DynamicQuantized{self.mode}"

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        for name, default in (("num_layers", 1), ("bias", True), ("batch_first", False), ("dropout", 0),
                              ("bidirectional", False)):
            if getattr(self, name) != default or (name == "bias" and self.bias is not True):
                s += f", {name}={getattr(self, name)}"
        return s

    def __repr__(self):
        return f"{self._get_name()}({self.extra_repr()})"

    # ------------------------------------------------------------ weights
    def _buffers_of(self, kind, layer, suffix):
        name = f"weight_{kind}_l{layer}{suffix}"
        qint = self.dtype is qint8
        return [getattr(self, name), getattr(self, name + "_scale") if qint else None,
                getattr(self, name + "_zero_point") if qint else None, getattr(self, f"bias_{kind}_l{layer}{suffix}")]

    def _prepared_weights(self):
        """{(layer, suffix): (prepared ih, prepared hh)}, rebuilt when a buffer changes."""
        groups = {key: (self._buffers_of("ih", *key), self._buffers_of("hh", *key)) for key in self._keys()}
        flat = [t for ih, hh in groups.values() for t in ih + hh]
        return self._prepared.get(flat, lambda: {key: (common.prepare(self.dtype, *ih), common.prepare(self.dtype, *hh))
                                                 for key, (ih, hh) in groups.items()})

    def set_weight_bias(self, name, weight, scale=None, zero_point=None, bias=None):
        """Sets weight_{name} (name: "ih_l0", "hh_l1_reverse", ...) and bias_{name} from arrays."""
        key = f"weight_{name}"
        if self.dtype is qint8:
            setattr(self, key, Tensor._wrap(np.asarray(weight, np.int8)))
            setattr(self, key + "_scale", Tensor._wrap(np.asarray(scale, F32)))
            setattr(self, key + "_zero_point", Tensor._wrap(np.asarray(zero_point, np.int64)))
        else:
            from tinygrad_seq.ao.quantization.qparams import to_float16
            setattr(self, key, Tensor._wrap(to_float16(weight)))
        setattr(self, f"bias_{name}", Tensor._wrap(np.asarray(bias, F32)))

    # ------------------------------------------------------------ forward
    def _check_args(self, x, hidden):
        if x.ndim != 3:
            raise RuntimeError(f"input must have 3 dimensions, got {x.ndim}")
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {x.shape[-1]}")
        batch = x.shape[0] if self.batch_first else x.shape[1]
        expected = (self.num_layers * self._dirs, batch, self.hidden_size)
        for k, h in enumerate(hidden):
            common.check_input(self._op, h, "hidden state")
            if tuple(h.shape) != expected:
                what = f"hidden[{k}]" if len(hidden) > 1 else "hidden"
                raise RuntimeError(f"Expected {what} size {expected}, got {list(h.shape)}")

    def forward(self, input, hx=None):
        from tinygrad_seq.nn.utils.rnn import PackedSequence
        if isinstance(input, PackedSequence):
            raise NotImplementedError(f"{self._get_name()}: PackedSequence input is not supported by tinygrad_seq; "
                                      "pass the padded tensor (rnn_utils.pad_packed_sequence)")
        common.check_input(self._op, input)
        if self.training and self.dropout > 0 and self.num_layers > 1:
            raise NotImplementedError(f"{self._get_name()}: dropout between layers in training mode is not "
                                      "supported (a quantized module is for inference: call .eval())")
        n_states = 2 if self.mode == "LSTM" else 1
        if hx is None:
            batch = input.shape[0] if self.batch_first else input.shape[1]
            zeros = Tensor._wrap(np.zeros((self.num_layers * self._dirs, batch, self.hidden_size), F32))
            hx = (zeros,) * n_states
        elif n_states == 1:
            hx = (hx,)
        self._check_args(input, hx)
        prepared, batch_first = self._prepared_weights(), self.batch_first

        def compute(x, *states):
            x = x.transpose(1, 0, 2) if batch_first else x
            out, finals = self._run(np.ascontiguousarray(x, F32), [s.astype(F32) for s in states], prepared)
            out = out.transpose(1, 0, 2) if batch_first else out
            return (np.ascontiguousarray(out),) + tuple(np.stack(f, 0) for f in finals)
        outs = common.run(self._op, compute, input, *hx)
        return outs[0], (tuple(outs[1:]) if n_states == 2 else outs[1])

    def _run(self, x, states, prepared):
        """x [T, B, C], states: [L*D, B, H] arrays -> (output [T, B, D*H], finals per state)."""
        finals = [[] for _ in states]
        layer_in = x
        T, B = x.shape[0], x.shape[1]
        for layer in range(self.num_layers):
            outs = []
            for d in range(self._dirs):
                k = layer * self._dirs + d
                ih, hh = prepared[(layer, "_reverse" if d else "")]
                projected = common.apply_linear(self.dtype, ih, layer_in.reshape(T * B, -1)).reshape(T, B, -1)
                y, ends = self._direction(projected, [s[k] for s in states], hh, reverse=bool(d))
                outs.append(y)
                for f, s in zip(finals, ends):
                    f.append(s)
            layer_in = outs[0] if self._dirs == 1 else np.concatenate(outs, axis=2)
        return layer_in, finals

    def _direction(self, projected, states, hh, reverse):
        """One direction of one layer over the projected inputs [T, B, G*H]: (y [T, B, H], end states)."""
        steps = range(projected.shape[0] - 1, -1, -1) if reverse else range(projected.shape[0])
        y = np.empty(projected.shape[:2] + (self.hidden_size,), F32)
        h = states[0]
        c = states[1] if self.mode == "LSTM" else None
        for t in steps:
            gh = common.apply_linear(self.dtype, hh, h)
            if self.mode == "LSTM":
                h, c = lstm_step(gh + projected[t], c)
            else:
                h = gru_step(projected[t], gh, h)
            y[t] = h
        return y, ([h, c] if self.mode == "LSTM" else [h])

    @property
    def _op(self):
        return f"quantized_{self.mode.lower()}"

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The quantized copy of a float nn.LSTM / nn.GRU carrying a qconfig (quantize_dynamic
        sets it): every weight through its own weight observer (qint8), or to float16."""
        from tinygrad_seq.nn.rnn import GRU as FloatGRU, LSTM as FloatLSTM
        if type(mod) not in (FloatLSTM, FloatGRU):
            raise AssertionError("nn.quantized.dynamic.RNNBase.from_float only works for nn.LSTM and nn.GRU")
        if not hasattr(mod, "qconfig"):
            raise AssertionError("Input float module must have qconfig defined")
        _check_float_options(mod)
        dtype, factory = common.weight_dtype(mod.qconfig)
        if dtype is not qint8 and dtype != float16:
            raise RuntimeError(f"Unsupported dtype for dynamic RNN quantization: {dtype}")
        if not mod.bias:
            raise AssertionError("mod.bias must be True")
        qcls = LSTM if type(mod) is FloatLSTM else GRU
        qrnn = qcls(mod.input_size, mod.hidden_size, mod.num_layers, mod.bias, mod.batch_first, mod.dropout,
                    mod.bidirectional, dtype)
        for layer, suffix in qrnn._keys():
            for kind in ("ih", "hh"):
                name = f"{kind}_l{layer}{suffix}"
                weight, bias = getattr(mod, f"weight_{name}"), getattr(mod, f"bias_{name}")
                if dtype is qint8:
                    q, scale, zero_point, _ = common.quantize_float_weight(weight, factory())
                    qrnn.set_weight_bias(name, q, scale, zero_point, bias.detach().numpy())
                else:
                    qrnn.set_weight_bias(name, weight.detach().numpy(), bias=bias.detach().numpy())
        return qrnn


def _check_float_options(mod):
    """tinygrad_seq's own RNN options torch's quantized RNNs have no form of."""
    if getattr(mod, "proj_size", 0):
        raise NotImplementedError(f"quantize_dynamic: nn.LSTM with proj_size={mod.proj_size} is not supported")
    if getattr(mod, "zoneout", 0.0):
        raise NotImplementedError(f"quantize_dynamic: an RNN with zoneout={mod.zoneout} is not supported")
    if getattr(mod, "reset_after", True) is not True:
        raise NotImplementedError("quantize_dynamic: nn.GRU(reset_after=False) is not supported (torch's GRU "
                                  "applies the reset gate after the product)")


class LSTM(RNNBase):
    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    def __init__(self, *args, **kwargs):
        super().__init__("GRU", *args, **kwargs)
