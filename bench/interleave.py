"""Side-by-side timing for the comparison scripts (compare_torch.py, seq2seq_vs_torch.py,
lm_vs_torch.py): the paths run in alternating blocks, so that a shared machine's changes of speed
hit every side alike.

Each block starts with one untimed call (it wakes the side's worker threads) and ends with gap_s
of idle, so that the next side does not start while this side's threads still spin: PyTorch's
OpenMP workers spin for milliseconds after each op, and a block started right after torch's ran
our first calls on half a machine (seq2seq B=32 H=256, 2 threads: 78-84 ms a step without the
gap, 74 ms with it, AMD EPYC, 2026-12-02). Calls inside a block run back to back, as training
calls them.
"""
import time


def time_blocks(paths, calls, rounds, gap_s):
    """[per path: the times in seconds of its rounds * calls timed calls]: for each round, each
    path in turn runs one untimed call, then `calls` timed ones, then idles gap_s."""
    times = [[] for _ in paths]
    for _ in range(rounds):
        for fn, path_times in zip(paths, times):
            fn()
            for _ in range(calls):
                t0 = time.perf_counter()
                fn()
                path_times.append(time.perf_counter() - t0)
            time.sleep(gap_s)
    return times
