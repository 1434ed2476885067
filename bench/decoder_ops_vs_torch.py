"""The small per-step ops of decoder and CRF loops, ours beside torch 2.13, side by side in one
process (alternating rounds; medians): softmax / gather / cat / indexing / logsumexp on a [32, 12]
score matrix, a decoder step's few-row vocabulary projection on one thread against split by output
columns (kernels/gemm_cpu.py "cols"), and 30 embedding lookups with their backward (the leaf's
gradient summed in place), and the per-step calls of cell and decoder loops (step_ops). Both
libraries on as many threads as Numba (NUMBA_NUM_THREADS=1: one thread each).

    python bench/decoder_ops_vs_torch.py [--rounds 7]

Results with the machine: bench/results/decoder_loops_vs_torch_2026-12-07.md."""
import argparse
import statistics
import time

import numpy as np


def _median_us(fn, calls, rounds):
    for _ in range(max(3, calls // 10)):
        fn()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(times)


def small_ops(L):
    """name -> closure over a [32, 12] score matrix (one CRF / attention step's size)."""
    rng = np.random.default_rng(0)
    x = L.tensor(rng.standard_normal((32, 12)).astype(np.float32), requires_grad=True)
    e = L.tensor(rng.standard_normal((32, 40, 12)).astype(np.float32), requires_grad=True)
    index = L.tensor(rng.integers(0, 12, (32, 1)))
    F = L.nn.functional
    return {"softmax": lambda: F.softmax(x, -1), "log_softmax": lambda: F.log_softmax(x, -1),
            "gather": lambda: x.gather(1, index), "cat": lambda: L.cat([x, x], 1), "e[:, 5]": lambda: e[:, 5],
            "unsqueeze": lambda: x.unsqueeze(1), "logsumexp": lambda: x.logsumexp(1),
            "softmax fwd+bwd": lambda: F.softmax(x, -1).sum().backward()}


def step_ops(L):
    """name -> closure: the per-step calls the round-40 throughput audit found slow in decoder and
    cell loops (README, Programs and tutorials, Round 40: before / after figures)."""
    rng = np.random.default_rng(1)
    f32 = lambda *shape: rng.standard_normal(shape).astype(np.float32)   # noqa: E731
    x = L.tensor(f32(16, 64), requires_grad=True)
    m = L.tensor(f32(16, 64) > 0)
    lc, bn, gc = L.nn.LSTMCell(10, 64), L.nn.BatchNorm1d(128), L.nn.GRUCell(128, 96)
    xg, hg = L.tensor(f32(1, 128)), L.tensor(f32(1, 96))

    def gru_step_no_grad():   # a greedy decoder's step (README: the cells' recording-free step)
        with L.no_grad():
            return gc(xg, hg)
    xc, h0, c0 = L.tensor(f32(16, 10)), L.zeros(16, 64), L.zeros(16, 64)
    xb, v200 = L.tensor(f32(64, 128), requires_grad=True), L.tensor(f32(200))
    logits, target = L.tensor(f32(16, 30), requires_grad=True), L.tensor(rng.integers(0, 30, 16))
    rows, beam = L.tensor(f32(4, 64)), L.tensor([0, 1, 1, 3])
    F = L.nn.functional
    return {"LSTMCell step 0": lambda: lc(xc, (h0, c0)), "GRUCell B=1 no_grad": gru_step_no_grad, "repeat 1,12,1": lambda: x.unsqueeze(1).repeat(1, 12, 1),
            "topk(4) of 200": lambda: v200.topk(4), "BatchNorm1d train": lambda: bn(xb),
            "cross_entropy": lambda: F.cross_entropy(logits, target), "where(m, x, 0.)": lambda: L.where(m, x, 0.),
            "unbind(0) x16": lambda: x.unbind(0), "stack x16": lambda: L.stack([x[0]] * 16),
            "index_select": lambda: rows.index_select(0, beam), "squeeze": lambda: x[:, None].squeeze(1)}


def embedding_loop(L, table, tokens):
    """30 decoder steps' lookups of one embedding and their backward."""
    emb = L.nn.Embedding(*table.shape)
    with L.no_grad():
        emb.weight.copy_(L.tensor(table))
    steps = L.tensor(tokens)

    def step():
        emb.zero_grad()
        total = 0
        for t in range(steps.shape[0]):
            total = total + emb(steps[t]).sum()
        total.backward()
    return step


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    import torch
    import tinygrad_seq as ts
    from tinygrad_seq.kernels import gemm_cpu
    torch.set_num_threads(ts.get_num_threads())
    ours, theirs = small_ops(ts), small_ops(torch)
    print(f"{'op ([32, 12])':18} {'ours us':>9} {'torch us':>9}")
    ts.nn.GRU(4, 4)(ts.randn(2, 1, 4))   # a program's recurrent layer ran: Numba loaded, as in a decoder
    ours.update(step_ops(ts))
    theirs.update(step_ops(torch))
    for name in ours:
        o, t = [], []
        for _ in range(args.rounds):   # alternating, so load hits both
            o.append(_median_us(ours[name], 300, 1))
            t.append(_median_us(theirs[name], 300, 1))
        print(f"{name:18} {statistics.median(o):9.1f} {statistics.median(t):9.1f}")
    rng = np.random.default_rng(0)
    print(f"\n{'x @ W^T, one thread / by columns':34} {'one us':>8} {'cols us':>8}")
    for rows, k, n in ((16, 512, 5000), (32, 256, 8000), (4, 512, 4096)):
        a = rng.standard_normal((rows, k)).astype(np.float32)
        w_t = rng.standard_normal((n, k)).astype(np.float32).T
        one = lambda: gemm_cpu._one_thread(a, w_t, rows, k, n)   # noqa: E731
        cols = lambda: gemm_cpu._split("cols", a, w_t)           # noqa: E731
        o, c = [], []
        for _ in range(args.rounds):
            o.append(_median_us(one, 20, 1))
            c.append(_median_us(cols, 20, 1))
        print(f"[{rows}, {k}] @ [{k}, {n}]{'':{34 - len(f'[{rows}, {k}] @ [{k}, {n}]')}} "
              f"{statistics.median(o):8.0f} {statistics.median(c):8.0f}")
    table = rng.standard_normal((8000, 256)).astype(np.float32)
    tokens = rng.integers(0, 8000, (30, 32))
    step_ours, step_torch = embedding_loop(ts, table, tokens), embedding_loop(torch, table, tokens)
    o, t = [], []
    for _ in range(args.rounds):
        o.append(_median_us(step_ours, 3, 1) / 1e3)
        t.append(_median_us(step_torch, 3, 1) / 1e3)
    print(f"\n30 lookups of Embedding(8000, 256), B=32, fwd+bwd: ours {statistics.median(o):.1f} ms, "
          f"torch {statistics.median(t):.1f} ms")


if __name__ == "__main__":
    main()
