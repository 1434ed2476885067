"""The parameters of a recurrent layer (nn/rnn.py's RNNBase): made, drawn (reset_parameters)
and listed as torch's RNNBase lists them (_flat_weights_names, _flat_weights, _all_weights,
all_weights): per layer and direction weight_ih, weight_hh, bias_ih, bias_hh (the cell's
parameters, in its description's order) and LSTM's weight_hr, names suffixed _l{k}[_reverse]."""
import weakref

import numpy as np

from tinygrad_seq import random
from tinygrad_seq.nn.parameter import empty_parameter, fill_parameter


class WeightReads(dict):
    """name -> the weight read for this call, plus "refs" (weak references to the last reads), of a
    module with parametrized weights (RNNWeights._update_flat_weights). A copy of the module
    starts without (deepcopy, pickle): the reads hold tensors of the graph they were computed in."""

    def __deepcopy__(self, memo):
        return WeightReads()

    def __reduce__(self):
        return WeightReads, ()


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
        bound = 1.0 / np.sqrt(H)
        if self.cell_spec.all_uniform():   # torch's loop over self.parameters(), in its order (a weight-normed
            from tinygrad_seq.nn import init   # weight's g and v, a parametrization's originals: last)
            for weight in self.parameters():
                init.uniform_(weight, -bound, bound)
            return
        dtype = next(iter(self._parameters.values())).dtype   # torch draws in the parameters' dtype
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

    def _update_flat_weights(self):
        """torch's RNNBase._update_flat_weights, where nn.utils.parametrize computes a weight: torch
        reads each weight with hasattr and getattr until one is not the object read last call (a
        parametrized weight is a new tensor at each read), then all of them again with hasattr and
        getattr, and uses the last reads; a random parametrization (weight dropout) draws at each
        read, so its draws are torch's only when read as often (_params then takes these reads).
        Without parametrizations each weight is read once, where it is used."""
        if "parametrizations" not in self._modules:
            self.__dict__.pop("_weight_reads", None)   # parametrizations removed since
            return
        names = self._flat_weights_names
        refs = (self.__dict__.get("_weight_reads") or {}).get("refs")
        changed, current = False, []
        for k, name in enumerate(names):
            w = getattr(self, name) if hasattr(self, name) else None
            current.append(w)
            if refs is None:   # torch's references start at the parameters made in __init__
                changed = w is not None and w is not self._made_parameter(name)
            else:   # torch: a weight that was None last call counts as unchanged
                changed = w is not None and refs[k] is not None and refs[k]() is not w
            if changed:
                break
        if changed:
            current = [getattr(self, n) if hasattr(self, n) else None for n in names]
            refs = [weakref.ref(w) if w is not None else None for w in current]
        reads = WeightReads(zip(names, current))
        reads["refs"] = refs
        self.__dict__["_weight_reads"] = reads

    def _made_parameter(self, name):
        """The parameter __init__ registered as `name`: still there, or the original of its
        parametrization."""
        p = self._parameters.get(name)
        if p is None:
            listed = self._modules["parametrizations"]._modules.get(name)
            p = getattr(listed, "original", None) if listed is not None else None
        return p

    def _weight_now(self, name):
        """The weight `name` for this call: the read _update_flat_weights made, else a read."""
        reads = self.__dict__.get("_weight_reads")
        if reads is not None and name in reads:
            return reads[name]
        return getattr(self, name, None)

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        """The parameters of each layer and direction, in PyTorch's order ([weight_ih, weight_hh,
        bias_ih, bias_hh(, weight_hr)] per entry, layer by layer, forward before reverse)."""
        return [[getattr(self, n) for n in names] for names in self._all_weights]
