"""torch.nn.modules.flatten: Flatten and Unflatten."""
from tinygrad_seq.nn import Flatten, Unflatten  # noqa: F401
