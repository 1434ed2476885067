"""The adding problem's data (Hochreiter and Schmidhuber 1997, experiment 4; Le, Jaitly and
Hinton 2015, section 4.1).

Each sequence has T steps of two numbers: a value drawn uniformly from [0, 1) and a marker that
is 1 at exactly two steps, one in the first half (t < T // 2) and one in the second half
(t >= T // 2), and 0 elsewhere. The target is the sum of the two marked values. A model that
ignores the input and always answers 1 (the target's mean) has mean squared error
Var(U1 + U2) = 2/12 = 0.167: the baseline a model must beat to have learned anything.
"""
import numpy as np

BASELINE_MSE = 1.0 / 6.0   # always answering 1: the variance of the sum of two U(0, 1)


def adding_batch(steps, batch, rng, dtype=np.float32):
    """x (steps, batch, 2) time-major [value, marker] and y (batch, 1), the sum of the two marked
    values; rng: a numpy Generator (np.random.default_rng(seed))."""
    if not isinstance(steps, (int, np.integer)) or steps < 2:
        raise ValueError(f"adding problem: the sequence length must be an integer >= 2, got {steps!r}")
    if not isinstance(batch, (int, np.integer)) or batch < 1:
        raise ValueError(f"adding problem: the batch size must be a positive integer, got {batch!r}")
    half = steps // 2
    values = rng.random((steps, batch))
    first = rng.integers(0, half, batch)            # one marker in [0, T//2)
    second = rng.integers(half, steps, batch)       # the other in [T//2, T)
    cols = np.arange(batch)
    marker = np.zeros((steps, batch))
    marker[first, cols] = 1.0
    marker[second, cols] = 1.0
    x = np.stack([values, marker], axis=-1).astype(dtype)
    y = (values[first, cols] + values[second, cols]).reshape(batch, 1).astype(dtype)
    return x, y
