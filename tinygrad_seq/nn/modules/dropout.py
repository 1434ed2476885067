"""torch.nn.modules.dropout: the dropout modules."""
from tinygrad_seq.nn import Dropout, Dropout1d  # noqa: F401
