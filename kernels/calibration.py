"""How a tuning decision measures its candidates (kernels/tuning.py's decide calls calibrate): one
untimed run each (or, for a candidate that would compile a kernel, a probe that leaves it out:
compile_probe), then timed rounds that alternate between them, each scored as a ratio to the
default's time in the same round; the flag that says a thread is measuring now, and the hooks that
run before the timed rounds. The settings (rounds, margin, runoff) are tuning.py's; this module
takes them as arguments; the other processes' share of the CPUs during the timed rounds
(machine_cpu.cpu_seconds) goes back to decide. Imports only the standard library, compile_probe
and machine_cpu."""
import threading
import time

from .compile_probe import NeedsCompile, compile_probe
from .machine_cpu import cpu_seconds

_calibrating = threading.local()


def calibrating():
    """Whether this thread is measuring a decision's candidates now (decisions asked for
    meanwhile get their default, and must not be remembered)."""
    return getattr(_calibrating, "active", False)



_before_timing = []  # called before a calibration's timed rounds (after the untimed runs)


def before_timing(hook):
    """Have ``hook()`` run before each calibration's timed rounds: kernels/background_compile.py
    waits there for its children, which would hold one of the cores a two-thread candidate needs
    (the generated LSTM at B=1 H=256 kept the batch split, measured 10% faster, where the units
    split ran 1.1-1.5x faster at 32-200 steps alone; its calibration ran while a child compiled
    another layer's backward, AMD EPYC, 2026-12-03)."""
    if hook not in _before_timing:
        _before_timing.append(hook)


def calibrate(candidates, measure, timer=time.perf_counter, compiled_only=False, rounds=6, margin=0.05,
              runoff=0.15, crowd=None):
    """(the chosen candidate, each candidate's median time in seconds, the share of a core other
    processes took during the timed rounds: None unless ``crowd`` is a dict, which then receives
    it as crowd["others"]): ``measure(candidate,
    timer)`` runs once untimed per candidate, then ``rounds`` timed rounds alternate
    between them. compiled_only: the untimed run of each candidate but the first is a probe that
    stops at the first tinygrad_seq kernel it would compile (compile_probe); such a candidate is
    left out, its time None. Each candidate is scored by the median over the rounds of its time
    over the default's (the first candidate's) in the same round: the host's speed drifts by tens of
    percent within seconds, and a ratio taken within one round cancels it, where the best time of
    each (the rule before) let one fast moment pick a candidate 1.8x slower than the default.
    Every other round runs the candidates in reverse order, so that none is always timed right
    after the same one (rounds in a fixed order let LSTM B=16 H=256 pick the hidden-units split,
    which took 1.03-1.08x the batch split's time in every later A/B). The default stays unless
    another scores below 1 - margin and its median time is below the default's too (the peephole
    LSTM at B=64 H=256 took the units split on a score of 0.95 or less with median times of 14.16
    against 14.27 ms, and ran 1.045x slower with it in an A/B after; AMD EPYC KVM guest, 2026-12-06).

    Two alternatives that both beat the default and score within ``runoff`` of each other
    meet in a runoff: ``rounds`` more rounds of the two alone, the faster by the median of
    their ratio within a round. LSTM B=1 H=512 (four candidates, two threads) picked one thread
    (8.8-10 ms a call) over the units split (6-7.5 ms) in one calibration of four, when the host
    slowed the second core for a while (AMD EPYC KVM guest, 2026-12-02)."""
    _calibrating.active = True
    rounds = max(1, rounds)
    every, candidates = candidates, []
    try:
        for i, c in enumerate(every):
            if compiled_only and i > 0:
                try:
                    with compile_probe():
                        measure(c, timer)
                except NeedsCompile:
                    continue   # left out: not compiled only to be timed
            else:
                measure(c, timer)
            candidates.append(c)
        times = [[] for _ in candidates]
        if len(candidates) == 1:
            return candidates[0], [None] * len(every)   # nothing to compare: no timed rounds
        for hook in _before_timing:
            hook()
        before, start = (cpu_seconds(), time.perf_counter()) if crowd is not None else (None, 0.0)
        _alternate(candidates, measure, timer, rounds, times)
        scores = [_median([t / max(d, 1e-12) for t, d in zip(times[i], times[0])]) for i in range(len(candidates))]
        ranked = sorted(range(1, len(candidates)), key=scores.__getitem__)
        # an alternative must also be the faster by its median time: rounds in which the host slowed
        # the default can give a ratio below the margin to an alternative that is not faster
        beat = [i for i in ranked if scores[i] < 1 - margin and _median(times[i]) < _median(times[0])]
        chosen = beat[0] if beat else 0
        if len(beat) > 1 and scores[beat[1]] <= scores[beat[0]] * (1 + runoff):
            pair = [[], []]
            _alternate([candidates[beat[0]], candidates[beat[1]]], measure, timer, rounds, pair)
            if _median([b / max(a, 1e-12) for a, b in zip(*pair)]) < 1:
                chosen = beat[1]
        if before is not None:
            after, wall = cpu_seconds(), time.perf_counter() - start
            # CPU seconds the rest of the machine took, in cores (two clock ticks of slack)
            crowd["others"] = max(0.0, (after[0] - before[0]) - (after[1] - before[1]) - 0.02) / max(wall, 1e-3)
    finally:
        _calibrating.active = False
    medians = dict(zip(map(id, candidates), map(_median, times)))
    return candidates[chosen], [medians.get(id(c)) for c in every]


def _alternate(candidates, measure, timer, rounds, times):
    # rounds of every candidate, every other round in reverse; times[i] gets candidate i's times
    for r in range(rounds):
        order = range(len(candidates)) if r % 2 == 0 else range(len(candidates) - 1, -1, -1)
        for i in order:
            times[i].append(measure(candidates[i], timer))


def _median(values):
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else 0.5 * (ordered[mid - 1] + ordered[mid])



def timed(run, timer):
    """Seconds one call of ``run()`` takes by ``timer``: the measure functions' helper."""
    start = timer()
    run()
    return timer() - start
