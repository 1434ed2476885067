"""Generated toy tasks for seq2seq models: date normalisation and sequence reversal.

Date normalisation: a random calendar date between 1950-01-01 and 2049-12-31 written in one of
many human formats ("Tuesday, 3 March 1998", "mar 3rd, 1998", "03.03.1998", ...) -> its ISO form
"1998-03-03". Every format is unambiguous (day-first is the only numeric order with a separator
besides ISO's own), so a perfect model exists.

A fixed 5% of the calendar days (chosen by a seed independent of any training seed) are held
out: split="train" never produces them; split="val" and split="test" each produce only their own
half of them, so validation and test accuracy measure generalisation to unseen dates, not memory.
"""
import datetime

import numpy as np

from tinygrad_seq.seqdata import Vocab

FIRST_DAY = datetime.date(1950, 1, 1)
N_DAYS = (datetime.date(2049, 12, 31) - FIRST_DAY).days + 1
HELDOUT_FRACTION = 0.05
_SPLIT_SEED = 20240611

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]

# every character a source string can contain: a fixed vocabulary, independent of the data
SOURCE_CHARS = (" ,-./" + "0123456789" + "abcdefghijklmnopqrstuvwxyz" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
TARGET_CHARS = "0123456789-"


def _ordinal(n):
    if 10 <= n % 100 <= 20:
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def _formats(d):
    """All the ways this module writes date d (before a random letter case is applied)."""
    D, M, Y = d.day, d.month, d.year
    mon, wd = MONTHS[M - 1], WEEKDAYS[d.weekday()]
    return [
        f"{D} {mon} {Y}",
        f"{D:02d} {mon} {Y}",
        f"{mon} {D}, {Y}",
        f"{mon[:3]} {D}, {Y}",
        f"{D} {mon[:3]} {Y}",
        f"{D:02d}-{mon[:3]}-{Y}",
        f"{D:02d}/{M:02d}/{Y}",
        f"{D}/{M}/{Y}",
        f"{D:02d}.{M:02d}.{Y}",
        f"{Y}.{M:02d}.{D:02d}",
        f"{Y}/{M:02d}/{D:02d}",
        f"{Y}{M:02d}{D:02d}",
        f"{wd}, {D} {mon} {Y}",
        f"{wd[:3]}, {mon[:3]} {D}, {Y}",
        f"{wd[:3]} {D:02d} {mon[:3]} {Y}",
        f"{_ordinal(D)} of {mon} {Y}",
        f"{mon} {_ordinal(D)}, {Y}",
        f"{mon[:3]} {_ordinal(D)} {Y}",
        f"{Y} {mon} {D}",
        f"{Y} {mon[:3]} {D:02d}",
    ]


N_FORMATS = len(_formats(FIRST_DAY))


def _heldout_days():
    rng = np.random.default_rng(_SPLIT_SEED)
    mask = np.zeros(N_DAYS, dtype=bool)
    mask[rng.choice(N_DAYS, int(N_DAYS * HELDOUT_FRACTION), replace=False)] = True
    return mask


_HELDOUT = _heldout_days()
_held = np.nonzero(_HELDOUT)[0]
_DAYS = {"train": np.nonzero(~_HELDOUT)[0], "val": _held[0::2], "test": _held[1::2]}


def render(d, fmt, case):
    """Date d in format number fmt; case 0: as written, 1: lower, 2: upper."""
    s = _formats(d)[fmt]
    return s.lower() if case == 1 else s.upper() if case == 2 else s


def random_dates(n, rng, split="train"):
    """n pairs (human string, ISO string) drawn with rng from the given split."""
    if split not in _DAYS:
        raise ValueError(f"split must be 'train', 'val' or 'test', got {split!r}")
    days = rng.choice(_DAYS[split], size=n)
    fmts = rng.integers(0, N_FORMATS, size=n)
    cases = rng.choice(3, size=n, p=[0.6, 0.25, 0.15])
    out = []
    for k, f, c in zip(days.tolist(), fmts.tolist(), cases.tolist()):
        d = FIRST_DAY + datetime.timedelta(days=k)
        out.append((render(d, f, c), d.isoformat()))
    return out


def date_vocabs():
    """(source vocabulary of characters, target vocabulary of ISO characters)."""
    return Vocab(SOURCE_CHARS), Vocab(TARGET_CHARS)


def random_reversals(n, rng, min_len=3, max_len=12, n_symbols=10):
    """n pairs (sequence, reversed sequence) of symbols "a", "b", ... with random lengths."""
    if not 1 <= min_len <= max_len:
        raise ValueError(f"need 1 <= min_len <= max_len, got {min_len}, {max_len}")
    symbols = [chr(ord("a") + i) for i in range(n_symbols)]
    lens = rng.integers(min_len, max_len + 1, size=n)
    out = []
    for L in lens.tolist():
        s = [symbols[i] for i in rng.integers(0, n_symbols, size=L).tolist()]
        out.append((s, s[::-1]))
    return out


def reversal_vocab(n_symbols=10):
    return Vocab(chr(ord("a") + i) for i in range(n_symbols))
