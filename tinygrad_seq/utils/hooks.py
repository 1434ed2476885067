"""torch.utils.hooks: RemovableHandle, the handle the register_*_hook methods return."""
from tinygrad_seq.nn.module_hooks import HookHandle as RemovableHandle  # noqa: F401
