"""torch's global flags and their queries that are not autocast's (autocast_state.py):
set_warn_always / is_warn_always_enabled, the deterministic debug mode (a view of
use_deterministic_algorithms' mode and warn_only, as torch's), is_inference_mode_enabled
(grad_mode.py's inference_mode blocks), init_num_threads, newaxis."""
from tinygrad_seq import functions, global_settings
from tinygrad_seq.grad_mode import _state

_warn_always = [False]
_DEBUG_MODES = {"default": 0, "warn": 1, "error": 2}

newaxis = None


def set_warn_always(b):
    """Remembered (is_warn_always_enabled); torch's warn-once messages are Python warnings here,
    which the warnings module's own filters decide on."""
    _warn_always[0] = bool(b)


def is_warn_always_enabled():
    return _warn_always[0]


def set_deterministic_debug_mode(debug_mode):
    """0 / "default": deterministic algorithms off; 1 / "warn": on with warn_only; 2 / "error": on."""
    if isinstance(debug_mode, str):
        if debug_mode not in _DEBUG_MODES:
            raise RuntimeError(f"invalid value of debug_mode, expected one of `default`, `warn`, `error`, but got "
                               f"{debug_mode}")
        debug_mode = _DEBUG_MODES[debug_mode]
    elif isinstance(debug_mode, int) and not isinstance(debug_mode, bool):
        if debug_mode not in (0, 1, 2):
            raise RuntimeError(f"invalid value of debug_mode, expected 0, 1, or 2, but got {debug_mode}")
    else:
        raise TypeError(f"debug_mode must be str or int, but got {type(debug_mode).__name__}")
    functions.use_deterministic_algorithms(debug_mode > 0, warn_only=debug_mode == 1)


def get_deterministic_debug_mode():
    mode, warn_only = global_settings._deterministic
    return (1 if warn_only else 2) if mode else 0


def is_deterministic_algorithms_warn_only_enabled():
    return global_settings._deterministic[1]


def is_inference_mode_enabled():
    """True inside an inference_mode() block of this thread (here the same as no_grad)."""
    return _state.inference


def init_num_threads():
    """Nothing to do: the thread pools start as numpy, scipy and Numba set them up (threads.py)."""


FUNCTIONS = dict(set_warn_always=set_warn_always, is_warn_always_enabled=is_warn_always_enabled,
                 set_deterministic_debug_mode=set_deterministic_debug_mode,
                 get_deterministic_debug_mode=get_deterministic_debug_mode,
                 is_deterministic_algorithms_warn_only_enabled=is_deterministic_algorithms_warn_only_enabled,
                 is_inference_mode_enabled=is_inference_mode_enabled, init_num_threads=init_num_threads,
                 newaxis=newaxis)
