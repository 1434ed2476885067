"""torch.nn.modules.module: Module and the global module hooks."""
from tinygrad_seq.nn.module import Module   # noqa: F401
from tinygrad_seq.nn.module_hooks import (register_module_forward_hook, register_module_forward_pre_hook,   # noqa: F401
                                          register_module_full_backward_hook,
                                          register_module_full_backward_pre_hook)
from tinygrad_seq.nn.module_state import _IncompatibleKeys   # noqa: F401
from tinygrad_seq.nn.module import _addindent   # noqa: F401
