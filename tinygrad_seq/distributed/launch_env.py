"""torchrun's variables from an MPI launcher's, set when tinygrad_seq.distributed is imported.

torch-style scripts read RANK, WORLD_SIZE, LOCAL_RANK (and print MASTER_ADDR / MASTER_PORT)
from os.environ before init_process_group, as torchrun sets them (pytorch/examples
distributed/ddp). Under mpiexec the launcher sets its own names instead; this copies them,
read from the environment only (MPI is not started, mpi4py not imported), into the names torchrun
uses, never overwriting one already set. A process no launcher started gets nothing.
"""
from __future__ import annotations

import os

# Each launcher's names for (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE), first match wins:
# Open MPI's mpiexec; MPICH's and Intel MPI's Hydra (MPI_LOCALRANKID / MPI_LOCALNRANKS are
# Hydra's); MVAPICH2's mpirun_rsh.
LAUNCHERS = (
    ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
     "OMPI_COMM_WORLD_LOCAL_SIZE"),
    ("PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS"),
    ("MV2_COMM_WORLD_RANK", "MV2_COMM_WORLD_SIZE", "MV2_COMM_WORLD_LOCAL_RANK",
     "MV2_COMM_WORLD_LOCAL_SIZE"),
)
TORCH_NAMES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE")

# torchrun's rendezvous address: MPI has connected the ranks already, so nothing here reads
# these; they are set (as torchrun's defaults for one machine) only for scripts that read them
RENDEZVOUS_DEFAULTS = (("MASTER_ADDR", "127.0.0.1"), ("MASTER_PORT", "29500"))


def _number(env, name):
    """env[name] as an int >= 0, or None when absent or not a number."""
    try:
        value = int(env.get(name, ""))
    except ValueError:
        return None
    return value if value >= 0 else None


# what export_launcher_env set in os.environ: init_process_group replaces these (and only
# these) by MPI's own numbers where they differ
exported: dict = {}


def export_launcher_env(environ=None) -> dict:
    """Set RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE (and MASTER_ADDR, MASTER_PORT) in
    `environ` (default os.environ) from the first launcher whose rank and size are there, each
    only where absent; returns what was set ({} without a launcher)."""
    env = os.environ if environ is None else environ
    for names in LAUNCHERS:
        rank, size, local_rank, local_size = (_number(env, name) for name in names)
        if rank is None or size is None or rank >= size:
            continue
        if local_size == size:
            # one machine: the local rank is the rank, as torchrun's and as MPI's shared-memory
            # split numbers it (Open MPI's own local rank can be a permutation of it when
            # oversubscribed: rank 1 of 3 on 2 cores got local rank 2)
            local_rank = rank
        values = (rank, size, local_rank, local_size)
        pairs = [(name, str(v)) for name, v in zip(TORCH_NAMES, values) if v is not None]
        pairs += list(RENDEZVOUS_DEFAULTS)
        added = {name: value for name, value in pairs if name not in env}
        env.update(added)
        if environ is None:
            exported.update(added)
        return added
    return {}


def get_node_local_rank(fallback_rank=None):
    """torch's: this process's rank on its machine, from LOCAL_RANK (torchrun's; set from an MPI
    launcher's variables at import, export_launcher_env), else fallback_rank, else torch's error."""
    if "LOCAL_RANK" in os.environ:
        return int(os.environ["LOCAL_RANK"])
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError("LOCAL_RANK is not in the environment. Consider passing fallback_rank to allow "
                       "`get_node_local_rank` to work, assuming you are not running in a multi-device context "
                       "and want the code to run locally instead.")
