"""Whether the backward running in this thread is a partial one: torch.autograd.grad or
backward(inputs=...), which deliver gradients to chosen tensors only, rather than a plain
backward() into every leaf's .grad. The engine (autograd.backward_from, higher_order.backward)
marks each backward it runs; a nested plain backward (a checkpoint recomputing its graph) is
marked plain for its own duration. torch's reentrant checkpoint refuses a partial backward
(torch.autograd._is_checkpoint_valid), since its nested plain backward would write the .grad of
every parameter inside it."""
import contextlib

from tinygrad_seq.grad_mode import _state


def in_partial_backward():
    """True inside autograd.grad or backward(inputs=), in this thread."""
    return getattr(_state, "partial_backward", False)


def set_partial_backward(partial):
    """Mark this thread's current backward; -> the previous mark, for restore."""
    prev = getattr(_state, "partial_backward", False)
    _state.partial_backward = bool(partial)
    return prev


@contextlib.contextmanager
def backward_kind(partial):
    """`with backward_kind(inputs is not None):` around one backward sweep."""
    prev = set_partial_backward(partial)
    try:
        yield
    finally:
        _state.partial_backward = prev
