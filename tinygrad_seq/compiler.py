"""ts.compiler: torch.compiler's names as they answer when nothing is being compiled.

ts.compile gives back the model itself (jit.py: the recurrent kernels are compiled by Numba, not
traced by a graph compiler), so code never runs inside a compiled graph here: is_compiling() is
False, disable / allow_in_graph / assume_constant_result hand back the function to call as it is,
and reset / cudagraph_mark_step_begin have no cache or graph to act on."""
import functools

from tinygrad_seq.jit import compile  # noqa: F401,A004  (torch.compiler.compile is torch.compile)

_stance = ["default"]   # set_stance's current stance (torch checks its name only when compiling)


def is_compiling():
    """False: no code runs under a graph compiler here."""
    return False


def is_dynamo_compiling():
    return False


def is_exporting():
    return False


def disable(fn=None, recursive=True, *, reason=None):
    """Run fn without compiling it: fn itself (nothing compiles); disable() is the decorator."""
    if fn is None:
        return functools.partial(disable, recursive=recursive, reason=reason)
    if not callable(fn):
        raise AssertionError("fn must be callable")   # torch's assertion
    return fn


def allow_in_graph(fn):
    """fn itself: there is no graph to put it in (torch's takes a callable or a list of them)."""
    if isinstance(fn, (list, tuple)):
        return [allow_in_graph(f) for f in fn]
    if not callable(fn):
        raise AssertionError("allow_in_graph expects a callable")   # torch's assertion
    return fn


def assume_constant_result(fn):
    """fn itself: its result would be folded into a compiled graph as a constant."""
    return fn


def substitute_in_graph(original_fn, *, can_constant_fold_through=False, skip_signature_check=False):
    """The decorator torch uses to trace a polyfill in place of original_fn: the polyfill is
    kept as given (it is never traced here)."""
    if not callable(original_fn):
        raise TypeError(f"substitute_in_graph expects a callable, but got {type(original_fn).__name__}")
    return lambda polyfill: polyfill


def reset():
    """torch clears its compile caches; there are none."""
    return None


def cudagraph_mark_step_begin():
    """torch marks a new CUDA-graph step; no CUDA graphs are recorded here."""
    return None


def list_backends(exclude_tags=("debug", "experimental")):
    return ["cudagraphs", "inductor", "openxla", "tvm"]


def get_stance():
    return _stance[0]


class set_stance:
    """torch.compiler.set_stance(stance): a call, a context manager or a decorator. The stance
    is recorded (and restored after a with-block or decorated call); with nothing compiling, every
    stance runs code eagerly, as "force_eager" would."""

    def __init__(self, stance="default", *, skip_guard_eval_unsafe=False, force_backend=None):
        self.stance, self.skip_guard_eval_unsafe, self.force_backend = stance, skip_guard_eval_unsafe, force_backend
        self._previous = _stance[0]
        _stance[0] = stance

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _stance[0] = self._previous
        return False

    def __call__(self, fn):
        _stance[0] = self._previous   # as a decorator the stance applies to fn's calls only
        stance = self.stance

        @functools.wraps(fn)
        def run(*args, **kwargs):
            previous, _stance[0] = _stance[0], stance
            try:
                return fn(*args, **kwargs)
            finally:
                _stance[0] = previous
        return run
