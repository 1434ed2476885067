"""torch's window functions (hann_window, hamming_window, bartlett_window, blackman_window,
kaiser_window): 1-D tensors of window_length samples in a floating dtype (the default one unless
dtype= says). periodic=True (the default, for spectral analysis) gives the first window_length
samples of the symmetric window of window_length + 1, as torch's; length 0 is empty and length
1 is [1]."""
import numpy as np

from tinygrad_seq import dtypes


def _window(name, window_length, periodic, dtype, device, requires_grad, symmetric):
    """symmetric(n) -> the n-sample symmetric window as float64 numpy; the rest is torch's framing."""
    from tinygrad_seq.creation import _make
    dt = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)
    if dt.kind != "f":
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dt}")
    if isinstance(window_length, bool) or not isinstance(window_length, (int, np.integer)):
        raise TypeError(f"{name}(): argument 'window_length' must be int, not {type(window_length).__name__}")
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={window_length}")
    if window_length <= 1:
        values = np.ones(window_length)
    else:
        n = window_length + 1 if periodic else window_length
        values = symmetric(n)[:window_length]
    return _make(values.astype(dt), dt, device or "cpu", requires_grad)


def _cosine_sum(coefficients):
    """sum_j (-1)^j a_j cos(2 pi j k / (n - 1)), k = 0 .. n-1 (Hann, Hamming, Blackman)."""
    def symmetric(n):
        phase = 2 * np.pi * np.arange(n) / (n - 1)
        return sum((-1) ** j * a * np.cos(j * phase) for j, a in enumerate(coefficients))
    return symmetric


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad, _cosine_sum((0.5, 0.5)))


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None, device=None,
                   requires_grad=False):
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad,
                   _cosine_sum((alpha, beta)))


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad,
                   _cosine_sum((0.42, 0.5, 0.08)))


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    def symmetric(n):
        return 1 - np.abs(2 * np.arange(n) / (n - 1) - 1)
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad, symmetric)


_UNSET = object()   # (torch's overloads: periodic and beta omitted, not None)


def kaiser_window(window_length, periodic=_UNSET, beta=_UNSET, *, dtype=None, layout=None, device=None,
                  requires_grad=False):
    """I0(beta sqrt(1 - ((k - m) / m)^2)) / I0(beta), m = (n - 1) / 2 (periodic True and beta 12
    when not given; beta only with periodic, as torch's overloads)."""
    given = [type(a).__name__ for a in (window_length, periodic) if a is not _UNSET]
    if (beta is not _UNSET and periodic is _UNSET) or periodic is None or beta is None:
        got = ", ".join(given + ([f"beta={type(beta).__name__}"] if beta is not _UNSET else []))
        raise TypeError(f"kaiser_window() received an invalid combination of arguments - got ({got}), but expected "
                        "one of: (int window_length), (int window_length, bool periodic), "
                        "(int window_length, bool periodic, float beta)")
    periodic, beta = (True if periodic is _UNSET else periodic), (12.0 if beta is _UNSET else beta)
    def symmetric(n):
        m = (n - 1) / 2
        return np.i0(beta * np.sqrt(np.clip(1 - ((np.arange(n) - m) / m) ** 2, 0, None))) / np.i0(beta)
    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad, symmetric)


FUNCTIONS = dict(hann_window=hann_window, hamming_window=hamming_window, blackman_window=blackman_window,
                 bartlett_window=bartlett_window, kaiser_window=kaiser_window)
