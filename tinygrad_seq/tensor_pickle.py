"""Pickling a Tensor as torch's does: its data, dtype, device and requires_grad come back as a
new leaf (the graph it was computed in, its .grad and its hooks are not pickled), of the same
class (a Parameter stays a Parameter), with the attributes a user set on it. copy.copy goes the same way and shares the data."""
import numpy as np

from tinygrad_seq import device as _device

# the engine's own per-tensor marks kept in a tensor's __dict__ (Tensor's class defaults): a copy
# is a new leaf, no view, with no write history, its writes tracked
INTERNAL_ATTRS = frozenset(("_view", "_hist", "_shape_history", "_untracked", "_inference"))


def reduce_ex(self, protocol):
    host = _device.backend(self.device).to_host(self.array)
    args = (type(self), np.asarray(host), bool(self.requires_grad), str(self.device))
    extra = getattr(self, "__dict__", None)   # attributes of the user's own (p.update = ...), as torch keeps them
    if extra and not INTERNAL_ATTRS.isdisjoint(extra):
        extra = {k: v for k, v in extra.items() if k not in INTERNAL_ATTRS}
    return (_rebuild, args, dict(extra)) if extra else (_rebuild, args)


def _rebuild(cls, array, requires_grad, device):
    t = cls.__new__(cls)
    dev = _device.canonical(device)
    t.array = array if dev == "cpu" else _device.backend(dev).asarray(array)
    t.device, t._grad_value, t.requires_grad = dev, None, requires_grad
    t._ctx, t._idx, t._ver, t._hooks = None, 0, 0, None
    return t
