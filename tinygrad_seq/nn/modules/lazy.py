"""torch.nn.modules.lazy: LazyModuleMixin (tinygrad_seq.nn.lazy)."""
from tinygrad_seq.nn.lazy import LazyModuleMixin  # noqa: F401
