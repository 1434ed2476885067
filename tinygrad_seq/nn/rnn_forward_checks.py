"""torch's public argument checks of nn.RNNBase / nn.LSTM, which subclasses call from their own
forward before calling _VF.lstm (check_forward_args, check_input, get_expected_hidden_size,
get_expected_cell_size, check_hidden_size, permute_hidden), with torch's exception types and
messages. They take what torch's take: batched 3-D input (or a packed batch's 2-D data with its
batch_sizes), after the caller has unsqueezed unbatched input."""
from tinygrad_seq.tensor import Tensor


class RNNForwardChecks:
    """A mixin of nn/rnn.py's RNNBase; uses its input_size, hidden_size, proj_size, num_layers,
    bidirectional, batch_first, cell_spec, _flat_weights and _check_input."""

    def check_input(self, input, batch_sizes):
        weight_dtype = self._flat_weights[0].dtype
        if isinstance(input, Tensor) and input.dtype != weight_dtype:
            got, want = f"torch.{input.dtype.name}", f"torch.{weight_dtype.name}"
            raise ValueError(f"RNN input dtype ({got}) does not match weight dtype ({want}). Convert input: "
                             f"input.to({want}), or convert model: model.to({got})")
        expected_input_dim = 2 if batch_sizes is not None else 3
        if isinstance(input, Tensor) and input.ndim != expected_input_dim:
            raise RuntimeError(f"input must have {expected_input_dim} dimensions, got {input.ndim}")
        self._check_input(input)   # the layer's own checks: a Tensor, float, input_size, steps > 0

    def _mini_batch(self, input, batch_sizes):
        if batch_sizes is not None:
            return int(batch_sizes[0])
        return input.shape[0] if self.batch_first else input.shape[1]

    def get_expected_hidden_size(self, input, batch_sizes):
        """(num_layers * num_directions, batch, proj_size or hidden_size): h_0's shape."""
        directions = 2 if self.bidirectional else 1
        return (self.num_layers * directions, self._mini_batch(input, batch_sizes),
                self.proj_size if self.proj_size > 0 else self.hidden_size)

    def get_expected_cell_size(self, input, batch_sizes):
        """(num_layers * num_directions, batch, hidden_size): an LSTM's c_0's shape."""
        directions = 2 if self.bidirectional else 1
        return self.num_layers * directions, self._mini_batch(input, batch_sizes), self.hidden_size

    def check_hidden_size(self, hx, expected_hidden_size, msg="Expected hidden size {}, got {}"):
        if tuple(hx.shape) != tuple(expected_hidden_size):
            raise RuntimeError(msg.format(tuple(expected_hidden_size), list(hx.shape)))

    def check_forward_args(self, input, hidden, batch_sizes):
        """torch's: input, then h_0; a cell with more states (an LSTM's c_0) gets each checked
        against get_expected_cell_size, labelled hidden[k] as torch's LSTM labels them."""
        self.check_input(input, batch_sizes)
        if len(self.cell_spec.states) == 1:
            self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))
            return
        self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input, batch_sizes),
                               "Expected hidden[0] size {}, got {}")
        for k in range(1, len(self.cell_spec.states)):
            self.check_hidden_size(hidden[k], self.get_expected_cell_size(input, batch_sizes),
                                   f"Expected hidden[{k}] size {{}}, got {{}}")

    def permute_hidden(self, hx, permutation):
        """hx (or each of an LSTM's (h, c)) with its batch dim reordered by permutation (None: hx)."""
        if permutation is None:
            return hx
        if isinstance(hx, (tuple, list)):
            return tuple(h.index_select(1, permutation) for h in hx)
        return hx.index_select(1, permutation)
