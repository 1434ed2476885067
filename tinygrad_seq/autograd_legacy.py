"""torch.autograd names that old programs still use: Variable (deprecated in torch, which
returns the Tensor itself) and set_detect_anomaly / detect_anomaly (accepted; see below).
Re-exported by tinygrad_seq.autograd."""


def Variable(data, requires_grad=False, volatile=False):
    """torch.autograd.Variable, deprecated in torch and kept for old programs: the Tensor itself
    (requires_grad set when asked), as torch's returns."""
    from tinygrad_seq.tensor import Tensor
    t = data if isinstance(data, Tensor) else Tensor(data)
    if requires_grad:
        t.requires_grad_(True)
    return t


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
