"""The environment the MPI tests start `mpiexec` with (test_distributed.py,
test_distributed_audit.py)."""
import os


def mpi_env(**extra):
    env = dict(os.environ)
    env.update({
        # Open MPI refuses to run as root unless told twice; set here only, not globally
        "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
        "OMPI_MCA_rmaps_base_oversubscribe": "1",
        # more ranks than cores: one thread each keeps them from fighting over the cores
        "NUMBA_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1",
    }, **extra)
    # the variables init_process_group fills in from MPI: a test's own ranks must not inherit them
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE"):
        env.pop(name, None)
    return env
