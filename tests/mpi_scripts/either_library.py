"""The same worker script on torch 2.13 (gloo) or on tinygrad_seq (MPI), both under mpiexec:
`library(name, port)` returns the names the scripts use, from torch or from tinygrad_seq, with
the process group initialized. torch reads its rank and world size from Open MPI's variables and
meets at 127.0.0.1:port."""
import json
import os
import types


def library(name, port):
    if name == "torch":
        os.environ.update(RANK=os.environ["OMPI_COMM_WORLD_RANK"],
                          WORLD_SIZE=os.environ["OMPI_COMM_WORLD_SIZE"],
                          MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
        import torch
        import torch.distributed as dist
        from torch import nn
        from torch.distributed.algorithms.ddp_comm_hooks import (DDPCommHookType, default_hooks,
                                                                register_ddp_comm_hook)
        from torch.distributed.algorithms.join import Join
        from torch.futures import Future
        torch.set_num_threads(1)
    elif name == "ts":
        import tinygrad_seq as torch
        import tinygrad_seq.distributed as dist
        from tinygrad_seq import nn
        from tinygrad_seq.distributed.algorithms.ddp_comm_hooks import (DDPCommHookType, default_hooks,
                                                                       register_ddp_comm_hook)
        from tinygrad_seq.distributed.algorithms.join import Join
        from tinygrad_seq.futures import Future
    else:
        raise SystemExit(f"library: torch or ts, not {name!r}")
    dist.init_process_group("gloo")
    return types.SimpleNamespace(torch=torch, dist=dist, nn=nn, default_hooks=default_hooks,
                                 DDPCommHookType=DDPCommHookType, Join=Join, Future=Future,
                                 register_ddp_comm_hook=register_ddp_comm_hook, name=name)


def set_weights(lib, model, seed):
    """The same weights in both libraries: normal(0, 0.5) from numpy, in named_parameters order."""
    import numpy as np
    rng = np.random.default_rng(seed)
    with lib.torch.no_grad():
        for _, p in model.named_parameters():
            p.copy_(lib.torch.tensor(rng.normal(0, 0.5, tuple(p.shape)), dtype=p.dtype))


def error(f):
    """'ExceptionType: message' of what f() raises, or 'no error'."""
    try:
        f()
    except Exception as e:   # noqa: BLE001
        return f"{type(e).__name__}: {e}"
    return "no error"


def write(path, rank, results):
    with open(f"{path}.rank{rank}", "w") as f:
        json.dump(results, f)
