"""The char-LM's text and alphabet: the default corpus (the standard library's own source),
the character vocabulary and the unigram baseline."""
import os
import sysconfig

import numpy as np

UNKNOWN = "\ufffd"          # stands for characters outside the vocabulary
SKIP_DIRS = {"site-packages", "dist-packages", "test", "tests", "idle_test", "__pycache__"}


def stdlib_files():
    """The standard library's .py files in a fixed order (sorted folders and names), without
    site-packages and test suites."""
    root = sysconfig.get_paths()["stdlib"]
    out = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        out += [os.path.join(folder, f) for f in sorted(files) if f.endswith(".py")]
    return out


def load_corpus(path=None, max_chars=2_000_000):
    """UTF-8 text of `path`, or of the standard library's sources, at most max_chars characters."""
    if path is not None:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"--text: no such file: {path}")
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read(max_chars)
        except UnicodeDecodeError as e:
            raise ValueError(f"--text: {path} is not UTF-8 text ({e.reason} at byte {e.start})") from None
    else:
        parts, n = [], 0
        for fname in stdlib_files():
            try:
                with open(fname, encoding="utf-8") as f:
                    s = f.read()
            except (UnicodeDecodeError, OSError):
                continue
            parts.append(s)
            n += len(s)
            if n >= max_chars:
                break
        text = "".join(parts)[:max_chars]
    if len(text) < 100:
        raise ValueError(f"the corpus has {len(text)} characters; need at least 100")
    return text


class Vocab:
    """Characters <-> ids, in code-point order. Vocab.build(text, max_vocab) keeps every character
    of the text, or, when there are more than max_vocab, the max_vocab - 1 most frequent ones plus
    UNKNOWN, which stands for the rest."""

    def __init__(self, chars):
        self.chars = list(chars)
        self.index = {c: i for i, c in enumerate(self.chars)}
        self.unk = self.index.get(UNKNOWN)

    @classmethod
    def build(cls, text, max_vocab=160):
        uniq, counts = np.unique(np.frombuffer(text.encode("utf-32-le"), np.uint32), return_counts=True)
        if len(uniq) > max_vocab - 1:
            keep = np.sort(uniq[np.argsort(-counts, kind="stable")[:max_vocab - 1]])
            chars = [chr(c) for c in keep] + [UNKNOWN]
        else:
            chars = [chr(c) for c in uniq]
        return cls(chars)

    def __len__(self):
        return len(self.chars)

    def encode(self, text):
        codes = np.frombuffer(text.encode("utf-32-le"), np.uint32)
        points = np.array(sorted(ord(c) for c in self.chars), np.uint32)
        ids = np.array([self.index[chr(p)] for p in points], np.int64)
        pos = np.clip(np.searchsorted(points, codes), 0, len(points) - 1)
        found = points[pos] == codes
        if not found.all():
            if self.unk is None:
                missing = sorted({chr(c) for c in codes[~found]})
                raise ValueError(f"characters not in the vocabulary: {''.join(missing)!r}")
            return np.where(found, ids[pos], self.unk)
        return ids[pos]

    def decode(self, ids):
        return "".join(self.chars[int(i)] for i in ids)

    def to_array(self):
        return np.array([ord(c) for c in self.chars], np.int64)

    @classmethod
    def from_array(cls, arr):
        return cls(chr(int(c)) for c in arr)


def unigram_entropy(ids, vocab_size):
    """Entropy (nats) of the token distribution of `ids`."""
    p = np.bincount(ids, minlength=vocab_size).astype(np.float64)
    p = p[p > 0] / p.sum()
    return float(-(p * np.log(p)).sum())
