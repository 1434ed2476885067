"""Deeply nested (reentrant) backward: a backward() called from inside a node's backward (a
Function whose backward runs a backward of its own, checkpointing) nests Python frames in the
calling thread. Past MAX_DEPTH nested backward() calls in one thread the next runs on a new
thread with a fresh stack, which the caller waits for (torch's engine does the same), so a
chain 2000 backward() calls deep stays under Python's recursion limit."""
import threading

from tinygrad_seq.grad_mode import _state

MAX_DEPTH = 40   # about 6 frames per nested backward(): ~250 frames of each thread's 1000


def run_in_fresh_thread(fn, *args):
    """fn(*args) on a new thread that starts in this thread's grad mode; its result returned,
    its exception raised here."""
    grad, asked, inference = _state.grad, _state.asked, _state.inference
    outcome = {}

    def work():
        _state.grad, _state.asked, _state.inference = grad, asked, inference
        try:
            outcome["value"] = fn(*args)
        except BaseException as e:   # handed to the waiting caller
            outcome["error"] = e

    worker = threading.Thread(target=work, name="tinygrad_seq reentrant backward")
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome.pop("error")
    return outcome.get("value")
