"""Anomaly detection: torch.autograd.detect_anomaly / set_detect_anomaly and
torch.set_anomaly_enabled / is_anomaly_enabled / is_anomaly_check_nan_enabled.

While enabled (a process-wide flag, as torch's: other threads see it too):
- every node made records the stack of the forward call that made it (Function.apply,
  apply1 and apply2 are swapped for recording versions, so a disabled mode costs the forward
  nothing; a custom autograd.Function's apply asks the flag itself);
- with check_nan, the backward sweep raises torch's RuntimeError when a node returns a
  gradient holding nan ("Function 'MulBackward0' returned nan values in its 0th output.");
- an error inside a node's backward first warns which node failed and the forward traceback
  that made it ("Error detected in PowBackward0. Traceback of forward call that caused the
  error: ...").
"""
import os
import traceback
import warnings

import numpy as np


class _AnomalyState:
    enabled = False
    check_nan = True


state = _AnomalyState()
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_plain_applies = {}   # Function's own apply, apply1, apply2 while the recording ones stand in


def set_anomaly_enabled(enabled, check_nan=True):
    """torch.set_anomaly_enabled(enabled, check_nan=True)."""
    state.enabled, state.check_nan = bool(enabled), bool(check_nan)
    _record_forward_stacks(state.enabled)


def is_anomaly_enabled():
    return state.enabled


def is_anomaly_check_nan_enabled():
    return state.check_nan


class detect_anomaly:
    """torch.autograd.detect_anomaly(check_nan=True): anomaly mode inside the with-block (or a
    decorated function's call); warns on creation that it slows the program, as torch's."""

    def __init__(self, check_nan=True):
        self.prev, self.prev_check_nan = state.enabled, state.check_nan
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and should "
                      "only be enabled for debugging.", UserWarning, stacklevel=2)

    def __enter__(self):
        set_anomaly_enabled(True, self.check_nan)

    def __exit__(self, *exc):
        set_anomaly_enabled(self.prev, self.prev_check_nan)
        return False


class set_detect_anomaly:
    """torch.autograd.set_detect_anomaly(mode, check_nan=True): sets the mode at once (a plain
    call) and, used as a context manager, puts the previous one back on exit."""

    def __init__(self, mode, check_nan=True):
        self.prev, self.prev_check_nan = state.enabled, state.check_nan
        self.mode = bool(mode)
        set_anomaly_enabled(mode, check_nan)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        set_anomaly_enabled(self.prev, self.prev_check_nan)
        return False


# ---------------------------------------------------------------- the forward's stacks
def record_stack(ctx):
    """Keep on node ctx the stack of the forward call that made it, without the library's own
    innermost frames (the last frame shown is the caller's line)."""
    frames = traceback.extract_stack()[:-1]
    while frames and os.path.abspath(frames[-1].filename).startswith(_PACKAGE_DIR):
        frames.pop()
    ctx._anomaly_stack = frames


def _recorded(apply):
    def recording(cls, *args, **kwargs):
        out = apply(cls, *args, **kwargs)
        first = out[0] if type(out) is tuple and out else out
        ctx = getattr(first, "_ctx", None)
        if ctx is not None and "_anomaly_stack" not in ctx.__dict__:
            record_stack(ctx)
        return out
    return recording


def _record_forward_stacks(on):
    from tinygrad_seq.autograd import Function
    names = ("apply", "apply1", "apply2")
    if on and not _plain_applies:
        for name in names:
            _plain_applies[name] = Function.__dict__[name]
            setattr(Function, name, classmethod(_recorded(_plain_applies[name].__func__)))
    elif not on and _plain_applies:
        for name in names:
            setattr(Function, name, _plain_applies.pop(name))


# ---------------------------------------------------------------- the backward's checks
def check_nan(ctx, in_grads):
    """torch's check after each node: a gradient it returned holds nan -> RuntimeError."""
    b = ctx.b
    for k, g in enumerate(in_grads):
        if g is None:
            continue
        if hasattr(g, "materialize"):   # a factored gradient (outer_grad.OuterGrad)
            g = g.materialize(b)
        a = np.asarray(b.to_host(g) if hasattr(b, "to_host") else g)
        if a.dtype.kind in "fc" and np.isnan(a).any():
            raise RuntimeError(f"Function '{ctx.name()}' returned nan values in its {k}th output.")


def report_failed_node(ctx):
    """Warn which node's backward failed and the forward call that made it (torch's warning)."""
    frames = ctx.__dict__.get("_anomaly_stack")
    if frames is None:
        text = (f"Error detected in {ctx.name()}. No forward pass information available. Enable detect "
                f"anomaly during forward pass for more information.")
    else:
        text = (f"Error detected in {ctx.name()}. Traceback of forward call that caused the error:\n"
                + "".join(traceback.format_list(frames)))
    warnings.warn(text, UserWarning, stacklevel=3)
