"""The seq2seq example's data: the two generated tasks, their endless training batches (shared
out for data parallelism), exact-match scoring, and a process's place in a data-parallel run."""
import numpy as np

import tinygrad_seq as ts
from tinygrad_seq.examples import dates_data
from tinygrad_seq.seqdata import bucket_by_length, make_batch


class Parallel:
    """This process's place in a data-parallel run: rank, world_size and the few collectives the
    training loop needs. The default is a single process (rank 0 of 1), where they are no-ops."""

    def __init__(self, rank=0, world_size=1, dist=None):
        self.rank, self.world_size, self.dist = rank, world_size, dist

    def all_reduce(self, values, op="sum"):
        """float64 array (n,) -> its elementwise sum (or max, ...) over all processes, on every
        process."""
        t = ts.Tensor(np.array(values, np.float64))
        if self.dist is not None:
            self.dist.all_reduce(t, op=op)
        return t.numpy()

    def from_rank0(self, values):
        """float64 array (n,) -> process 0's values, on every process."""
        t = ts.Tensor(np.array(values, np.float64))
        if self.dist is not None:
            self.dist.broadcast(t, src=0)
        return t.numpy()

    def wrap(self, model):
        """What the training forward pass calls: the model, or its DDP wrapper."""
        if self.dist is None:
            return model
        from tinygrad_seq.nn.parallel import DistributedDataParallel
        return DistributedDataParallel(model)


class Task:
    """Data, vocabularies and text conversion for one of the two generated tasks."""
    def __init__(self, name):
        self.name = name
        if name == "dates":
            self.src_vocab, self.tgt_vocab = dates_data.date_vocabs()
            self.join = ""
            self.max_len = 12
        else:
            self.src_vocab = self.tgt_vocab = dates_data.reversal_vocab()
            self.join = " "
            self.max_len = 14

    def sample(self, n, rng, split="train"):
        if self.name == "dates":
            return dates_data.random_dates(n, rng, split)
        # reversal has no calendar: "test" is just another draw (generalisation is exact)
        return dates_data.random_reversals(n, rng, 3, 12)

    def batch(self, pairs):
        return make_batch([s for s, _ in pairs], [t for _, t in pairs], self.src_vocab, self.tgt_vocab)


def training_batches(task, pool_size, batch_size, rng, rank=0, world_size=1):
    """Endless padded batches: a fresh pool of generated pairs per epoch, bucketed by length.

    Data-parallel (world_size > 1): every process passes an rng seeded alike, so all draw the same
    global batches in the same order, and each keeps the rows rank::world_size. A batch has
    "examples" (the global batch size, for the progress bar) and "loss_scale" = this share's
    target tokens * world_size / the global batch's (the loss is a mean over target tokens, so
    with uneven shares the scaled losses average over processes to the global batch's mean; see
    nn/parallel.py). A short last batch with fewer examples than processes is skipped everywhere."""
    while True:
        pool = task.sample(pool_size, rng)
        for idx in bucket_by_length([len(s) for s, _ in pool], batch_size, rng=rng):
            if len(idx) < world_size:
                continue
            pairs = [pool[i] for i in idx]
            share = pairs[rank::world_size]
            b = task.batch(share)
            b["examples"] = len(pairs)
            if world_size == 1:
                b["loss_scale"] = 1.0
            else:   # tokens of the loss: each target and its eos
                total = sum(len(task.tgt_vocab.encode(t)) + 1 for _, t in pairs)
                mine = int(np.count_nonzero(b["tgt_out"] != task.tgt_vocab.pad_idx))
                b["loss_scale"] = mine * world_size / total
            yield b


def exact_match(model, task, pairs, batch_size=250):
    """Fraction of pairs whose greedy decoding equals the target exactly, and the decodings."""
    hits, outputs = 0, []
    for i in range(0, len(pairs), batch_size):
        chunk = pairs[i:i + batch_size]
        b = task.batch(chunk)
        res = model.greedy_decode(b["src"], b["src_lengths"], max_len=task.max_len)
        for (_, tgt), toks in zip(chunk, res.tokens):
            out = task.tgt_vocab.decode(toks, join=task.join)
            outputs.append(out)
            hits += out == (tgt if isinstance(tgt, str) else task.join.join(tgt))
    return hits / max(1, len(pairs)), outputs


def replica_difference(model, par):
    """Largest |parameter - process 0's| over all parameters and processes (0.0: the replicas
    are identical, as DDP keeps them). Every process calls it; a single process gets 0.0."""
    flat = np.concatenate([p.numpy().astype(np.float64).ravel() for p in model.parameters()])
    diff = float(np.max(np.abs(flat - par.from_rank0(flat)), initial=0.0))
    return float(par.all_reduce([diff], op="max")[0])
