"""torch.nn.modules.padding: the 1-D padding modules."""
from tinygrad_seq.nn import ConstantPad1d, ReflectionPad1d, ReplicationPad1d, ZeroPad1d  # noqa: F401
