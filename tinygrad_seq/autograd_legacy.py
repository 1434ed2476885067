"""torch.autograd names that old programs still use: Variable (deprecated in torch: a
detached Tensor) and set_detect_anomaly / detect_anomaly (accepted; see below).
Re-exported by tinygrad_seq.autograd."""
import warnings


class _VariableMeta(type):
    """isinstance(t, Variable) is isinstance(t, Tensor), as torch's VariableMeta."""
    def __instancecheck__(cls, other):
        from tinygrad_seq.tensor import Tensor
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """torch.autograd.Variable, deprecated in torch and kept for old programs: Variable(t) is a
    new leaf over t's memory (t.detach()) that requires grad only when asked, as torch's."""
    def __new__(cls, data=None, requires_grad=False, volatile=False):
        from tinygrad_seq.tensor import Tensor
        if volatile:
            warnings.warn("volatile was removed and now has no effect. Use `with torch.no_grad():` "
                          "instead.", UserWarning, stacklevel=2)
        if data is None:
            return Tensor()
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        return data.detach().requires_grad_(requires_grad)


class set_detect_anomaly:
    """torch.autograd.set_detect_anomaly(mode) (also a context manager): accepted. The sweep
    already names the node whose saved input was modified in place and refuses a second backward
    through a freed graph; anomaly mode's traceback of the forward is not kept."""

    def __init__(self, mode=True, check_nan=True):
        self.mode = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


detect_anomaly = set_detect_anomaly
