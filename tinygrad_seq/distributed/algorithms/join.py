"""torch.distributed.algorithms.join: Join, Joinable, JoinHook (defined in
tinygrad_seq/join_context.py, which nn.parallel can import without the distributed package)."""
from tinygrad_seq.join_context import Join, Joinable, JoinHook

__all__ = ["Join", "Joinable", "JoinHook"]
