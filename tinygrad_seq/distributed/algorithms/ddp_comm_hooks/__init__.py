"""torch.distributed.algorithms.ddp_comm_hooks: DDPCommHookType and register_ddp_comm_hook, for
the hooks here (default_hooks.py: allreduce, fp16 and bf16 compression; debugging_hooks.py:
noop). torch's quantization and PowerSGD hooks are not here."""
from enum import Enum
from functools import partial

from tinygrad_seq.distributed.algorithms.ddp_comm_hooks import debugging_hooks as debugging
from tinygrad_seq.distributed.algorithms.ddp_comm_hooks import default_hooks as default


def _ddp_comm_hook_wrapper(comm_hook, model, state):
    model.register_comm_hook(state, comm_hook)


class DDPCommHookType(Enum):
    """The built-in hooks by name; DDPCommHookType.X.value(model=ddp, state=group) registers X."""
    ALLREDUCE = partial(_ddp_comm_hook_wrapper, comm_hook=default.allreduce_hook)
    FP16_COMPRESS = partial(_ddp_comm_hook_wrapper, comm_hook=default.fp16_compress_hook)
    BF16_COMPRESS = partial(_ddp_comm_hook_wrapper, comm_hook=default.bf16_compress_hook)
    NOOP = partial(_ddp_comm_hook_wrapper, comm_hook=debugging.noop_hook)


def register_ddp_comm_hook(comm_hook_type, model, state=None):
    """Register the hook `comm_hook_type` (a DDPCommHookType) on the DDP model `model`; state:
    the hook's process group (None: the default one)."""
    if not isinstance(comm_hook_type, DDPCommHookType):
        raise TypeError(f"register_ddp_comm_hook: comm_hook_type must be a DDPCommHookType, got "
                        f"{comm_hook_type!r}")
    comm_hook_type.value(model=model, state=state)


__all__ = ["DDPCommHookType", "register_ddp_comm_hook", "default", "debugging"]
