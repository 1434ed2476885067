"""DDP's first check: every rank wraps the same model (nn/parallel.py)."""
from __future__ import annotations


def verify_same_model(module, dist, group, world):
    """Every rank checks every rank's parameter list (names, shapes, dtypes, requires_grad)
    against rank 0's and raises the same error, naming the first parameter that differs."""
    mine = [(name, tuple(p.shape), str(p.dtype), bool(p.requires_grad))
            for name, p in module.named_parameters()]
    everyone = [None] * world
    dist.all_gather_object(everyone, mine, group=group)
    ref, first = everyone[0], None   # (index of the first differing parameter, rank)
    for rank, sig in enumerate(everyone[1:], start=1):
        i = next((i for i in range(max(len(sig), len(ref)))
                  if i >= len(sig) or i >= len(ref) or sig[i] != ref[i]), None)
        if i is not None and (first is None or i < first[0]):
            first = (i, rank)
    if first is None:
        return
    i, rank = first
    a = ref[i] if i < len(ref) else None
    b = everyone[rank][i] if i < len(everyone[rank]) else None
    if a is None:
        what = f"rank {rank} has an extra parameter {b[0]!r} of shape {b[1]} that rank 0 lacks"
    elif b is None:
        what = f"parameter {a[0]!r} of shape {a[1]} on rank 0 is missing on rank {rank}"
    elif a[0] != b[0]:
        what = (f"parameter #{i} is {a[0]!r} of shape {a[1]} on rank 0 but {b[0]!r} of "
                f"shape {b[1]} on rank {rank}")
    elif a[1] != b[1]:
        what = f"parameter {a[0]!r} has shape {a[1]} on rank 0 but shape {b[1]} on rank {rank}"
    elif a[2] != b[2]:
        what = f"parameter {a[0]!r} (shape {a[1]}) has dtype {a[2]} on rank 0 but {b[2]} on rank {rank}"
    else:
        frozen, trained = (rank, 0) if a[3] else (0, rank)
        what = (f"parameter {a[0]!r} (shape {a[1]}) is frozen (requires_grad=False) on rank "
                f"{frozen} but requires grad on rank {trained}")
    raise RuntimeError(f"DistributedDataParallel: the model differs across ranks: {what}")

