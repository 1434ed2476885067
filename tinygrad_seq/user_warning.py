"""warn_at_caller: a warning attributed to the first frame outside tinygrad_seq (the user's line),
whatever the depth of the library's own calls in between (the same op reached through an alias,
an in-place wrapper or a method), as torch's warnings point at the user's line."""
import sys
import warnings


def warn_at_caller(message, category=UserWarning):
    level, frame = 2, sys._getframe(1)   # level 1 is this function's own frame
    while frame is not None and frame.f_globals.get("__name__", "").startswith("tinygrad_seq"):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


_said_once = set()   # the keys warn_once has said


def warn_once(key, message, category=UserWarning):
    """torch's TORCH_WARN_ONCE: `message` the first time in the process (whatever the warning
    filters later say), at the user's line."""
    if key not in _said_once:
        _said_once.add(key)
        warn_at_caller(message, category)
