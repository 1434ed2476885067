"""torch.autograd names that old programs still use: Variable (deprecated in torch: a
detached Tensor, with torch's Variable._execution_engine.queue_callback) and set_detect_anomaly /
detect_anomaly (anomaly_mode.py).
Re-exported by tinygrad_seq.autograd."""
import warnings


class _VariableMeta(type):
    """isinstance(t, Variable) is isinstance(t, Tensor), as torch's VariableMeta."""
    def __instancecheck__(cls, other):
        from tinygrad_seq.tensor import Tensor
        return isinstance(other, Tensor)


class _ExecutionEngine:
    """torch.autograd.Variable._execution_engine: the engine's queue_callback."""

    @staticmethod
    def queue_callback(callback):
        from tinygrad_seq.autograd import queue_callback
        queue_callback(callback)


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

    _execution_engine = _ExecutionEngine()


# anomaly mode's two context managers live with the mode (anomaly_mode.py)
from tinygrad_seq.anomaly_mode import detect_anomaly, set_detect_anomaly  # noqa: E402,F401
