"""torch's global switches that hold no tensor: use_deterministic_algorithms (remembered; the CPU
kernels always sum in one order), set_printoptions (tensor_repr.PRINT_OPTIONS) and the default
device (only "cpu")."""
import sys

_deterministic = [False, False]   # mode, warn_only


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Accepted and remembered (are_deterministic_algorithms_enabled): the CPU kernels always sum
    in one order for a given thread count and shape, so their results repeat run to run."""
    _deterministic[:] = [bool(mode), bool(warn_only)]


def are_deterministic_algorithms_enabled():
    return _deterministic[0]


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """torch.set_printoptions: the options of Tensor's repr (tensor_repr.PRINT_OPTIONS), not
    numpy's own global ones."""
    from tinygrad_seq.tensor_repr import PRINT_OPTIONS
    if profile is not None:
        presets = dict(default=dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
                       short=dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
                       full=dict(precision=4, threshold=sys.maxsize, edgeitems=3, linewidth=80))
        PRINT_OPTIONS.update(presets.get(profile, {}))   # another name is ignored, as torch's
    given = dict(precision=precision, threshold=threshold, edgeitems=edgeitems, linewidth=linewidth)
    PRINT_OPTIONS.update({k: v for k, v in given.items() if v is not None})
    PRINT_OPTIONS["sci_mode"] = sci_mode


def set_default_device(device):
    """Only "cpu" (the default) is taken: new tensors are made on the CPU; pass device= or call
    .to("cuda") to put them on the GPU."""
    from tinygrad_seq import device as _device
    if device is not None and _device.canonical(device) != "cpu":
        raise NotImplementedError(f"set_default_device({device!r}): tinygrad_seq makes new tensors on the "
                                  "CPU; pass device=... or call .to(...) instead")


def get_default_device():
    from tinygrad_seq import device as _device
    return _device.canonical("cpu")
