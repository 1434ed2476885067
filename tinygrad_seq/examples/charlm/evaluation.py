"""Validation loss and text generation for a trained char-LM."""
import numpy as np

import tinygrad_seq as ts
from tinygrad_seq import Tensor
from tinygrad_seq.data import batchify, tbptt_chunks
from tinygrad_seq.examples.charlm.corpus import UNKNOWN
from tinygrad_seq.examples.charlm.model import lm_loss


@ts.no_grad()
def evaluate(model, ids, device, batch_size=32, bptt=256):
    """Mean cross-entropy (nats per character) of the model on the token stream `ids`."""
    was_training = model.training
    model.eval()
    stream = Tensor(batchify(ids, min(batch_size, max(1, len(ids) // 2))), device=device)
    total, count, state = 0.0, 0, None
    for x, y in tbptt_chunks(stream, bptt):
        loss, state = lm_loss(model, x, y, state)
        n = x.shape[0] * x.shape[1]
        total += loss.item() * n
        count += n
    model.train(was_training)
    return total / count


@ts.no_grad()
def fallback_prime(prime, vocab):
    """prime where the vocabulary holds each of its characters; else (the default "def " on a DNA
    text) the vocabulary's first printable, non-space character."""
    known = vocab.index
    if all(c in known and c != UNKNOWN for c in prime):
        return prime
    for c in vocab.chars:
        if c in known and c != UNKNOWN and c.isprintable() and not c.isspace():
            return c
    return prime


def sample(model, vocab, length=200, prime="\n", temperature=0.8, seed=0, device="cpu"):
    """Generate `length` characters after `prime`; the same seed gives the same text."""
    if not (temperature > 0 and np.isfinite(temperature)):
        raise ValueError(f"temperature must be a finite positive number, got {temperature}")
    rng = np.random.default_rng(seed)
    was_training = model.training
    model.eval()
    prime = prime or "\n"
    try:
        ids = vocab.encode(prime)
    except ValueError as e:   # a corpus in another script has no "def "
        raise ValueError(f"the prime {prime!r} cannot start a sample: {e}; choose one from the training "
                         f"text with --prime") from None
    visible = [c for c in prime if not c.isspace()]
    if vocab.unk is not None and visible and not any(c in vocab.index and c != UNKNOWN for c in visible):
        raise ValueError(f"the prime {prime!r} cannot start a sample: none of its characters is in the "
                         f"vocabulary; choose one from the training text with --prime")
    logits, state = model(Tensor(ids.reshape(-1, 1), device=device))
    out = []
    for _ in range(length):
        z = logits.numpy()[-1, 0].astype(np.float64) / temperature
        p = np.exp(z - z.max())
        p /= p.sum()
        nxt = int(rng.choice(len(p), p=p))
        out.append(nxt)
        logits, state = model(Tensor(np.array([[nxt]], np.int64), device=device), state)
    model.train(was_training)
    return prime + vocab.decode(out)
