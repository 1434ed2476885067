"""torch's RuntimeErrors of nn.RNN / GRU / LSTM forward for an initial state whose number of dims
does not go with the input's (a decoder step that forgot unsqueeze(0): input (B, E) is read as
one unbatched sequence, and its (1, B, H) hidden state no longer fits), and for an LSTM given
more than its two states; then each state's own checks (a Tensor, its shape with torch's message,
the input's dtype and device). nn/rnn.py's RNNBase calls them."""
from tinygrad_seq.errors import NotATensor, ShapeMismatch, StateCountError
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


def one_tensor_for_states(hx, names, layer_name, unbatched):
    """The error for a single tensor hx given to a layer of several states (an LSTM's (h_0, c_0)):
    torch's words first, as torch reads hx[0] and hx[1] (IndexError past a first dim of one entry,
    else the states' RuntimeError for one dim too few), then ours."""
    ours = f"{layer_name}: hx must be a tuple of {len(names)} tensors {tuple(names)}, got one tensor of shape " \
           f"{tuple(hx.shape)}"
    if hx.ndim == 0 or hx.shape[0] < len(names):
        size = hx.shape[0] if hx.ndim else 0
        theirs = f"index {len(names) - 1 if hx.ndim else 0} is out of bounds for dimension 0 with size {size}"
    elif hx.ndim - 1 != (2 if unbatched else 3):
        theirs = (f"For {'unbatched 2-D' if unbatched else 'batched 3-D'} input, hx and cx should also be "
                  f"{2 if unbatched else 3}-D but got ({hx.ndim - 1}-D, {hx.ndim - 1}-D) tensors")
    else:   # hx[0] and hx[1] have the states' rank: torch goes on to their shapes
        return StateCountError(ours)
    return StateCountError(f"{theirs} ({ours})")


def check_state_count(states, names, cell_name):
    """torch's RuntimeError for too many states ('lstm expects two hidden states'); too few keep the
    caller's TypeError."""
    if len(states) > len(names):
        count = "two" if len(names) == 2 else str(len(names))
        raise RuntimeError(f"{cell_name} expects {count} hidden states (got {len(states)})")


def check_hidden(name, h, expected, what, x):
    """One initial state h against its expected shape (2-D for an unbatched input) and the input
    x's dtype and device; name: the layer's class name; what: "hidden (h_0)" or, with more states,
    "hidden[k] (c_0)". The shape's message is torch's ("Expected hidden[1] size (1, 2, 20), got
    [1, 2, 19]"), on the shapes with the batch dim of 1 an unbatched input gets."""
    if not isinstance(h, Tensor):
        raise NotATensor(torch_words_first(h, f"{name}: {what} must be a Tensor, got {type_name(h)}"))
    if h.shape != expected:
        batched = (lambda s: (*s[:1], 1, *s[1:])) if len(expected) == 2 else tuple
        raise ShapeMismatch(f"Expected {what.split()[0]} size {batched(expected)}, got {list(batched(h.shape))}")
    if h.dtype != x.dtype:
        raise RuntimeError(f"{name}: input and hidden tensors are not the same dtype, found input tensor "
                           f"with {x.dtype} and {what} with {h.dtype}")
    if h.device != x.device:
        raise RuntimeError(f"{name}: input is on {x.device} but {what} is on {h.device}")


def torch_words_first(value, ours):
    """The message for a non-tensor given where torch calls value.dim(): Python's AttributeError
    text, as torch's ("'tuple' object has no attribute 'dim'", "'numpy.ndarray' ..."), then ours
    in parentheses; ours alone for a value that has a dim (another library's tensor)."""
    try:
        getattr(value, "dim")
    except AttributeError as e:
        return f"{e} ({ours})"
    return ours


def type_name(value):
    """A value's type as a message names it: "tuple", "numpy.ndarray", "torch.Tensor"."""
    t = type(value)
    return t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"

