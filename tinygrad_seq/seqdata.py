"""Data helpers for sequence-to-sequence models: a vocabulary, padding, batching, bucketing.

Everything here is plain numpy on the host; the arrays go into Tensors at the model's edge.
"""
from __future__ import annotations

import json

import numpy as np

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"


class Vocab:
    """Tokens <-> ids. The four specials come first: pad 0, bos 1, eos 2, unk 3.

    ``Vocab(tokens)`` adds each distinct token once, in order of first appearance (specials in
    ``tokens`` are skipped); ``Vocab.build(sequences)`` collects the tokens of many sequences
    (sorted, so the ids do not depend on the order of the data).
    """
    SPECIALS = (PAD, BOS, EOS, UNK)

    def __init__(self, tokens=()):
        self.itos = list(self.SPECIALS)
        self.stoi = {t: i for i, t in enumerate(self.itos)}
        for t in tokens:
            if t not in self.stoi:
                self.stoi[t] = len(self.itos)
                self.itos.append(t)

    pad_idx = property(lambda self: 0)
    bos_idx = property(lambda self: 1)
    eos_idx = property(lambda self: 2)
    unk_idx = property(lambda self: 3)

    @classmethod
    def build(cls, sequences, min_freq=1):
        counts = {}
        for seq in sequences:
            for t in seq:
                counts[t] = counts.get(t, 0) + 1
        return cls(sorted(t for t, c in counts.items() if c >= min_freq))

    def __len__(self):
        return len(self.itos)

    def __contains__(self, token):
        return token in self.stoi

    def __getitem__(self, token):
        return self.stoi.get(token, self.unk_idx)

    def encode(self, tokens, bos=False, eos=False):
        """A sequence of tokens (a string is a sequence of characters) -> int64 ids."""
        ids = [self.stoi.get(t, self.unk_idx) for t in tokens]
        return np.asarray(([self.bos_idx] if bos else []) + ids + ([self.eos_idx] if eos else []),
                          dtype=np.int64)

    def decode(self, ids, strip=True, join=None):
        """ids -> tokens. strip: drop a leading bos, stop at the first eos and drop pads.
        join: a separator string to return one string ("" for characters)."""
        out = []
        for i in np.asarray(ids).reshape(-1).tolist():
            if strip:
                if i == self.eos_idx:
                    break
                if i in (self.pad_idx, self.bos_idx):
                    continue
            out.append(self.itos[i] if 0 <= i < len(self.itos) else UNK)
        return out if join is None else join.join(out)

    def to_json(self):
        return json.dumps(self.itos[len(self.SPECIALS):])

    @classmethod
    def from_json(cls, text):
        return cls(json.loads(text))

    def __repr__(self):
        return f"Vocab({len(self)} tokens)"


def pad_sequences(sequences, pad_value=0, max_len=None, dtype=np.int64):
    """A list of 1-D sequences -> (padded (B, L) array, lengths (B,) int64). L is the longest
    length (or max_len, which truncates longer sequences)."""
    seqs = [np.asarray(s) for s in sequences]
    if not seqs:
        raise ValueError("pad_sequences: no sequences")
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    if max_len is not None:
        lengths = np.minimum(lengths, max_len)
    L = int(lengths.max()) if max_len is None else int(max_len)
    out = np.full((len(seqs), L), pad_value, dtype=dtype)
    for i, (s, n) in enumerate(zip(seqs, lengths)):
        out[i, :n] = s[:n]
    return out, lengths


def length_mask(lengths, max_len=None):
    """lengths (B,) -> bool mask (B, L), True at the real positions."""
    lengths = np.asarray(lengths)
    L = int(lengths.max()) if max_len is None else int(max_len)
    return np.arange(L)[None, :] < lengths[:, None]


def make_batch(src_seqs, tgt_seqs, src_vocab, tgt_vocab):
    """Encode and pad one batch of token sequences for a seq2seq model.

    Returns a dict of int64 arrays: src (B, S), src_lengths (B,), tgt_in (B, T) = bos + target,
    tgt_out (B, T) = target + eos, both padded with tgt_vocab.pad_idx (the loss's ignore_index).
    """
    src, src_len = pad_sequences([src_vocab.encode(s) for s in src_seqs], src_vocab.pad_idx)
    if np.any(src_len == 0):
        raise ValueError(f"make_batch: source sequence {int(np.argmin(src_len))} is empty")
    tgt = [tgt_vocab.encode(t) for t in tgt_seqs]
    tgt_in, _ = pad_sequences([np.concatenate([[tgt_vocab.bos_idx], t]) for t in tgt], tgt_vocab.pad_idx)
    tgt_out, _ = pad_sequences([np.concatenate([t, [tgt_vocab.eos_idx]]) for t in tgt], tgt_vocab.pad_idx)
    return {"src": src, "src_lengths": src_len, "tgt_in": tgt_in, "tgt_out": tgt_out}


def batches(n, batch_size, shuffle=True, rng=None, drop_last=False):
    """Index arrays that cover range(n) in batches of batch_size (shuffled with rng)."""
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    order = (rng or np.random.default_rng()).permutation(n) if shuffle else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    return [order[i:i + batch_size] for i in range(0, stop, batch_size)]


def bucket_by_length(lengths, batch_size, shuffle=True, rng=None, bucket_size=None):
    """Batches of indices whose sequences have similar lengths (less padding).

    The indices are sorted by length (ties broken at random when shuffling) within windows of
    bucket_size (default 50 batches' worth), cut into batches, and the batches shuffled.
    Every index appears in exactly one batch.
    """
    lengths = np.asarray(lengths)
    n = len(lengths)
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    rng = rng or np.random.default_rng()
    order = rng.permutation(n) if shuffle else np.arange(n)
    window = bucket_size or batch_size * 50
    out = []
    for start in range(0, n, window):
        chunk = order[start:start + window]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        out += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    if shuffle:
        out = [out[i] for i in rng.permutation(len(out))]
    return out
