"""torch's RuntimeErrors of nn.RNN / GRU / LSTM forward for an initial state whose number of dims
does not go with the input's (a decoder step that forgot unsqueeze(0): input (B, E) is read as
one unbatched sequence, and its (1, B, H) hidden state no longer fits), and for an LSTM given
more than its two states. nn/rnn.py's RNNBase calls them before its per-state shape checks."""
from tinygrad_seq.tensor import Tensor


def check_hidden_dims(states, names, unbatched):
    """states: the initial states as given, one per name of the cell's states (('h', 'c') for an
    LSTM); unbatched: the input is 2-D (L, input_size). Each state must be 2-D for an unbatched
    input, 3-D for a batched one; a non-Tensor is left to the caller's checks."""
    want = 2 if unbatched else 3
    if all(not isinstance(h, Tensor) or h.ndim == want for h in states) or \
            not all(isinstance(h, Tensor) for h in states):
        return
    kind = "unbatched 2-D" if unbatched else "batched 3-D"
    if len(states) == 1:
        raise RuntimeError(f"For {kind} input, hx should also be {want}-D but got {states[0].ndim}-D tensor")
    labels = "hx and cx" if tuple(names) == ("h", "c") else " and ".join(f"{n}x" for n in names)
    dims = ", ".join(f"{h.ndim}-D" for h in states)
    raise RuntimeError(f"For {kind} input, {labels} should also be {want}-D but got ({dims}) tensors")


def check_state_count(states, names, cell_name):
    """torch's RuntimeError for too many states ('lstm expects two hidden states'); too few keep the
    caller's TypeError."""
    if len(states) > len(names):
        count = "two" if len(names) == 2 else str(len(names))
        raise RuntimeError(f"{cell_name} expects {count} hidden states (got {len(states)})")
