"""The parameters of a recurrent layer (nn/rnn.py's RNNBase): made, drawn (reset_parameters)
and listed as torch's RNNBase lists them (_flat_weights_names, _flat_weights, _all_weights,
all_weights): per layer and direction weight_ih, weight_hh, bias_ih, bias_hh (the cell's
parameters, in its description's order) and LSTM's weight_hr, names suffixed _l{k}[_reverse]."""
import numpy as np

from tinygrad_seq import random
from tinygrad_seq.nn.parameter import empty_parameter, fill_parameter


class RNNWeights:
    """A mixin of RNNBase; uses its cell_spec, input_size, hidden_size, num_layers, bias,
    bidirectional and proj_size."""

    def _suffixes(self):
        """(layer, suffix) per layer and direction, forward before reverse."""
        dirs = [""] + (["_reverse"] if self.bidirectional else [])
        return [(k, f"_l{k}{d}") for k in range(self.num_layers) for d in dirs]

    def _layer_input_size(self, layer):
        return self.input_size if layer == 0 else \
            (self.proj_size or self.hidden_size) * (2 if self.bidirectional else 1)

    def _make_weights(self, dtype):
        """Registers each layer's parameters (zeros of dtype); reset_parameters draws them."""
        H, P = self.hidden_size, self.proj_size
        for layer, sfx in self._suffixes():
            shapes = self.cell_spec.param_shapes(self._layer_input_size(layer), H, self.bias)
            if P:
                shapes["weight_hh"], shapes["weight_hr"] = (4 * H, P), (P, H)
            for name, shape in shapes.items():
                setattr(self, name + sfx, empty_parameter(shape, dtype))

    def reset_parameters(self):
        """Draws every parameter as its cell description says (PyTorch's cells: U(-1/sqrt(H),
        1/sqrt(H))), layer by layer, forward before reverse, with torch's draws in the parameters'
        dtype; with proj_size in torch's parameter order (weight_hr last)."""
        H, P = self.hidden_size, self.proj_size
        dtype = next(iter(self._parameters.values())).dtype   # torch draws in the parameters' dtype
        bound = 1.0 / np.sqrt(H)
        for layer, sfx in self._suffixes():
            if P:   # torch's order: weight_ih, weight_hh [4H, P], the biases, weight_hr [P, H]
                shapes = {"weight_ih": (4 * H, self._layer_input_size(layer)), "weight_hh": (4 * H, P),
                          "bias_ih": (4 * H,), "bias_hh": (4 * H,), "weight_hr": (P, H)}
                arrays = {name: random.uniform(-bound, bound, shape, dtype=dtype) for name, shape in shapes.items()
                          if self.bias or not name.startswith("bias")}
            else:
                arrays = self.cell_spec.init_params(self._layer_input_size(layer), H, self.bias, dtype)
            parametrized = self._modules.get("parametrizations") or {}
            for name, arr in arrays.items():
                if name + sfx in parametrized:
                    # nn.utils.parametrize: torch's reset draws the originals (original or
                    # original0, original1, ...) from the same uniform as the weight
                    for orig in parametrized[name + sfx].parameters():
                        fill_parameter(orig, random.uniform(-bound, bound, orig.shape, dtype=orig.dtype))
                else:
                    fill_parameter(self._parameters[name + sfx], arr)

    def flatten_parameters(self):
        """PyTorch compatibility: the weights are always laid out for the kernels."""

    @property
    def _all_weights(self):
        """The parameter names of each layer and direction, as torch's."""
        names = [p.name for p in self.cell_spec.params] + (["weight_hr"] if self.proj_size else [])
        parametrized = self._modules.get("parametrizations") or ()   # nn.utils.parametrize
        plain = self.__dict__   # a weight nn.utils.prune recomputes: a plain tensor attribute
        return [[n + sfx for n in names
                 if self._parameters.get(n + sfx) is not None or n + sfx in parametrized or n + sfx in plain]
                for _, sfx in self._suffixes()]

    @property
    def _flat_weights_names(self):
        return [n for names in self._all_weights for n in names]

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        """The parameters of each layer and direction, in PyTorch's order ([weight_ih, weight_hh,
        bias_ih, bias_hh(, weight_hr)] per entry, layer by layer, forward before reverse)."""
        return [[getattr(self, n) for n in names] for names in self._all_weights]
