"""Data-parallel scaling: tinygrad_seq DDP over MPI vs PyTorch DDP (gloo), char-LM LSTM.

    python bench/scaling_mpi.py [--procs 1,2] [--steps 10] [--repeats 3] [--json PATH] [--no-torch]

Model: Embedding(96, 64) -> LSTM(64, 256) -> Linear(256, 96), float32, Adam; global batch 64
sequences of 64 characters (random tokens), split evenly over the processes. One process runs the
plain model (no DDP); P > 1 processes run DDP. Every process gets one Numba / BLAS / torch thread
(NUMBA_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1, torch.set_num_threads(1)) and its own core (Open MPI
binds ranks to cores; the torch workers pin themselves to core `rank`), so P processes use P cores.
tinygrad_seq runs under `mpiexec -n P`; torch under P processes joined by init_method
tcp://127.0.0.1. After warm-up steps (JIT compilation, allocator), rank 0 times `--steps` steps
between barriers; each configuration runs --repeats times, interleaved; the table shows the best and the median
(on a loaded machine compare medians of back-to-back runs).
samples/s = 64 * steps / time; speedup = samples/s(P) / samples/s(1) of the
same framework; efficiency = speedup / P.

asv cannot launch mpiexec, so this is a script; commit its output with the machine it ran on.
"""
import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

VOCAB, EMB, HIDDEN, BATCH, SEQ = 96, 64, 256, 64, 64
THREAD_ENV = {"NUMBA_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
              "MKL_NUM_THREADS": "1"}


def batches(steps, seed=0):
    import numpy as np
    rng = np.random.default_rng(seed)
    return [rng.integers(0, VOCAB, (SEQ + 1, BATCH)) for _ in range(steps)]


def share(rank, world):
    per = BATCH // world
    return slice(rank * per, (rank + 1) * per)


# ------------------------------------------------------------------ workers
def _no_barrier():
    """The barrier of a run without DDP (one process)."""


def char_lm(nn):
    """The benchmark model in either framework: nn is tinygrad_seq.nn or torch.nn."""
    class CharLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(VOCAB, EMB)
            self.rnn = nn.LSTM(EMB, HIDDEN)
            self.out = nn.Linear(HIDDEN, VOCAB)

        def forward(self, x):
            y, _ = self.rnn(self.emb(x))
            return self.out(y)

    return CharLM()


def train_timed(model, opt, cross_entropy, data, inputs, warmup, barrier, rank):
    """Trains on the token batches in data, inputs(tokens) -> (x, y) this rank's share
    [SEQ, BATCH / world] of inputs and targets: warmup steps, then the rest timed between
    barriers; rank 0 prints the RESULT line the driver reads."""
    def step(tokens):
        x, y = inputs(tokens)
        opt.zero_grad()
        loss = cross_entropy(model(x).reshape(-1, VOCAB), y.reshape(-1))
        loss.backward()
        opt.step()
        return loss

    for t in data[:warmup]:
        step(t)
    barrier()
    t0 = time.perf_counter()
    for t in data[warmup:]:
        loss = step(t)
    barrier()
    elapsed = time.perf_counter() - t0
    if rank == 0:
        print("RESULT " + json.dumps({"seconds": elapsed, "loss": float(loss.item())}), flush=True)


def worker_tinygrad(steps, warmup):
    import tinygrad_seq as ts
    import tinygrad_seq.functional as F
    from tinygrad_seq import Tensor, nn, optim

    world = int(os.environ.get("OMPI_COMM_WORLD_SIZE", "1"))
    rank, barrier = 0, _no_barrier
    if world > 1:
        import tinygrad_seq.distributed as dist
        dist.init_process_group("mpi")
        rank, barrier = dist.get_rank(), dist.barrier

    ts.manual_seed(0)
    model = char_lm(nn)
    if world > 1:
        model = nn.parallel.DistributedDataParallel(model)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    sl = share(rank, world)
    train_timed(model, opt, F.cross_entropy, batches(warmup + steps),
                lambda t: (Tensor(t[:-1, sl]), Tensor(t[1:, sl])), warmup, barrier, rank)


def worker_torch(steps, warmup, rank, world, port):
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(1)
    try:
        os.sched_setaffinity(0, {rank % os.cpu_count()})
    except (AttributeError, OSError):
        pass
    barrier = _no_barrier
    if world > 1:
        import torch.distributed as dist
        dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world)
        barrier = dist.barrier

    torch.manual_seed(0)
    model = char_lm(torch.nn)
    if world > 1:
        model = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sl = share(rank, world)
    data = [torch.from_numpy(t) for t in batches(warmup + steps)]
    train_timed(model, opt, F.cross_entropy, data, lambda t: (t[:-1, sl], t[1:, sl]), warmup,
                barrier, rank)
    if world > 1:
        dist.destroy_process_group()


# ------------------------------------------------------------------ driver
def _env():
    env = dict(os.environ, **THREAD_ENV)
    env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
    env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    env.setdefault("GLOO_SOCKET_IFNAME", "lo")
    return env


def _result(out):
    for line in out.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError("a benchmark run printed no result:\n" + out[-4000:])


def run_tinygrad(procs, steps, warmup, timeout):
    mpiexec = Path(sys.executable).parent / "mpiexec"
    cmd = [str(mpiexec), "-n", str(procs)]
    if procs > (os.cpu_count() or 1):
        cmd.append("--oversubscribe")
    cmd += [sys.executable, __file__, "--worker", "tinygrad", "--steps", str(steps), "--warmup", str(warmup)]
    p = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"tinygrad_seq with {procs} processes failed:\n{p.stdout[-3000:]}{p.stderr[-3000:]}")
    return _result(p.stdout)


def run_torch(procs, steps, warmup, timeout):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ps = [subprocess.Popen([sys.executable, __file__, "--worker", "torch", "--steps", str(steps),
                            "--warmup", str(warmup), "--rank", str(r), "--world", str(procs),
                            "--port", str(port)], env=_env(), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True) for r in range(procs)]
    outs = []
    try:
        for p in ps:
            outs.append(p.communicate(timeout=timeout)[0])
    finally:
        for p in ps:
            if p.poll() is None:
                p.kill()
    if any(p.returncode != 0 for p in ps):
        raise RuntimeError("torch DDP run failed:\n" + "\n".join(o[-3000:] for o in outs))
    return _result(outs[0])


def machine():
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "load_average_1min": os.getloadavg()[0],
            "platform": platform.platform(), "date": time.strftime("%Y-%m-%d")}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--procs", default="1,2", help="comma-separated process counts")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3, help="runs per configuration (best is kept)")
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--worker", choices=["tinygrad", "torch"], help=argparse.SUPPRESS)
    ap.add_argument("--rank", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--world", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker == "tinygrad":
        return worker_tinygrad(a.steps, a.warmup)
    if a.worker == "torch":
        return worker_torch(a.steps, a.warmup, a.rank, a.world, a.port)

    procs = [int(p) for p in a.procs.split(",")]
    frameworks = [("tinygrad_seq DDP/MPI", run_tinygrad)]
    if not a.no_torch:
        try:
            import torch  # noqa: F401
            frameworks.append(("torch DDP/gloo", run_torch))
        except ImportError:
            print("torch is not installed: tinygrad_seq only")
    # repeats interleave the configurations, so load from other processes hits all of them;
    # the best of the repeats is reported (throughput is limited from above by the machine)
    runs = {}
    for _ in range(a.repeats):
        for name, fn in frameworks:
            for p in procs:
                runs.setdefault((name, p), []).append(fn(p, a.steps, a.warmup, a.timeout))
    best = {k: min(v, key=lambda r: r["seconds"]) for k, v in runs.items()}
    rows = []
    for name, _ in frameworks:
        base = BATCH * a.steps / best[name, procs[0]]["seconds"]
        for p in procs:
            r = best[name, p]
            sps = BATCH * a.steps / r["seconds"]
            speedup = sps / base * procs[0]
            all_sps = sorted(BATCH * a.steps / x["seconds"] for x in runs[name, p])
            rows.append({"framework": name, "procs": p, "samples_per_s": sps, "speedup": speedup,
                         "efficiency": speedup / p, "seconds": r["seconds"], "final_loss": r["loss"],
                         "median_samples_per_s": float(statistics.median(all_sps)),
                         "all_samples_per_s": all_sps})
    print(f"char-LM LSTM: Embedding({VOCAB},{EMB}) -> LSTM({EMB},{HIDDEN}) -> Linear({HIDDEN},{VOCAB}), "
          f"float32, Adam, global batch {BATCH} x {SEQ} steps, {a.steps} timed steps, best of {a.repeats}, 1 thread per process")
    print(f"machine: {machine()['cpu']}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"{'framework':<22}{'procs':>6}{'samples/s':>12}{'median':>10}{'speedup':>10}{'efficiency':>12}")
    for r in rows:
        print(f"{r['framework']:<22}{r['procs']:>6}{r['samples_per_s']:>12.1f}"
              f"{r['median_samples_per_s']:>10.1f}{r['speedup']:>10.2f}{r['efficiency']:>11.0%}")
    ts_rows = {r["procs"]: r for r in rows if r["framework"].startswith("tinygrad")}
    for r in rows:
        if r["framework"].startswith("torch") and r["procs"] in ts_rows:
            mine = ts_rows[r["procs"]]
            print(f"  {r['procs']} process(es): tinygrad_seq / torch samples/s = "
                  f"{mine['samples_per_s'] / r['samples_per_s']:.2f} (best), "
                  f"{mine['median_samples_per_s'] / r['median_samples_per_s']:.2f} (median)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"machine": machine(), "batch": BATCH, "seq_len": SEQ, "hidden": HIDDEN,
                       "steps": a.steps, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
