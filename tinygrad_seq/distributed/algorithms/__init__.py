"""tinygrad_seq.distributed.algorithms: torch.distributed.algorithms' Join (join.py) and DDP's
communication hooks (ddp_comm_hooks/)."""
from tinygrad_seq.distributed.algorithms.join import Join, Joinable, JoinHook

__all__ = ["Join", "Joinable", "JoinHook"]
