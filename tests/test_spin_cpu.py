"""kernels/spin_cpu.py: the spin barrier of the hidden-units split (chunks on their own threads
meeting once per step)."""
import threading

import numpy as np
from numba import njit

from tinygrad_seq.kernels import spin_cpu


@njit(nogil=True, cache=True)
def _exchange(flags, data, seen, c, n_chunks, phases):
    # chunk c writes its phase, meets the others, then reads every chunk's value of that phase;
    # seen[c] counts the values that were not there yet (must stay 0)
    for p in range(1, phases + 1):
        data[p % 2, c] = p
        if not spin_cpu.arrive_and_wait(flags, c, n_chunks, p):
            return False
        for j in range(n_chunks):
            if data[p % 2, j] != p:
                seen[c] += 1
        # (row p % 2 is written again at phase p + 2, which no chunk reaches before every chunk
        # has arrived at p + 1, after these reads)
    return True


def test_chunks_see_each_others_writes_after_the_barrier():
    n_chunks, phases = 2, 2000
    flags = spin_cpu.barrier_flags(n_chunks)
    data = np.zeros((2, n_chunks), np.int64)
    seen = np.zeros(n_chunks, np.int64)
    done = [None] * n_chunks

    def run(c):
        done[c] = _exchange(flags, data, seen, c, n_chunks, phases)

    threads = [threading.Thread(target=run, args=(c,)) for c in range(n_chunks)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert done == [True, True]
    assert seen.tolist() == [0, 0]
    assert spin_cpu.barrier_error(flags, n_chunks, "test") is None
    assert [int(flags[c * spin_cpu.LINE]) for c in range(n_chunks)] == [phases, phases]


@njit(nogil=True, cache=True)
def _arrive(flags, c, n_chunks, phase):
    return spin_cpu.arrive_and_wait(flags, c, n_chunks, phase)


def test_a_chunk_stops_waiting_when_another_gave_up():
    # chunk 1 never arrives and chunk 0's partner has given up: chunk 0 returns False at once
    # (after its spinning rounds) instead of waiting, and the error names the steps reached
    flags = spin_cpu.barrier_flags(2)
    flags[2 * spin_cpu.LINE + spin_cpu.GAVE_UP] = 1
    assert not _arrive(flags, 0, 2, 1)
    error = spin_cpu.barrier_error(flags, 2, "LSTM forward")
    assert isinstance(error, RuntimeError)
    assert "LSTM forward" in str(error) and "[1, 0]" in str(error) and "TINYGRAD_SEQ_TUNE_SPLIT=batch" in str(error)
