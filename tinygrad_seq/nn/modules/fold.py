"""torch.nn.modules.fold: Fold and Unfold."""
from tinygrad_seq.nn import Fold, Unfold  # noqa: F401
