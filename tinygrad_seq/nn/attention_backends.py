"""torch.nn.attention's SDPBackend and sdpa_kernel: choose the kernels
scaled_dot_product_attention may use.

tinygrad_seq has one attention path on each device (the math one), so the choice selects no
other kernel; sdpa_kernel checks its argument as torch's does and sets, for the block, the
switches torch sets (ts.backends.cuda.flash_sdp_enabled() and the others), restoring them on exit."""
import contextlib
import enum

from tinygrad_seq import backends as _backends

WARN_FOR_UNFUSED_KERNELS = False


class SDPBackend(enum.IntEnum):
    """The attention kernels, with torch's values."""
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


# each backend's switch in ts.backends.cuda (ERROR and OVERRIDEABLE have none)
_SWITCH = {SDPBackend.MATH: "math", SDPBackend.FLASH_ATTENTION: "flash",
           SDPBackend.EFFICIENT_ATTENTION: "mem_efficient", SDPBackend.CUDNN_ATTENTION: "cudnn"}


@contextlib.contextmanager
def sdpa_kernel(backends, set_priority=False):
    """`with sdpa_kernel(SDPBackend.MATH):` or a list of backends: only those are enabled in the
    block (set_priority, the list's order as priority, is accepted: there is one kernel here)."""
    if not (isinstance(backends, list) or isinstance(backends, SDPBackend)):
        raise AssertionError("Backend must be an instance of SDPBackend or a list of SDPBackend instances, "
                             f"got {type(backends).__name__}")
    chosen = {backends} if isinstance(backends, SDPBackend) else set(backends)
    cuda = _backends.cuda
    saved = dict(cuda._sdp)
    cuda._sdp.update({name: backend in chosen for backend, name in _SWITCH.items()})
    try:
        yield {}
    finally:
        cuda._sdp = saved
