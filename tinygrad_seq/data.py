"""tinygrad_seq.data: feeding sequence models.

Truncated backpropagation through time (TBPTT), the way PyTorch's word_language_model example
does it: cut one long token stream into B parallel columns, walk them k steps at a time, and carry
the recurrent state from one chunk to the next with its gradient history cut off:

    stream = ts.data.batchify(tokens, batch_size)            # (T_total, B) int64
    state = None
    for x, y in ts.data.tbptt_chunks(stream, k):             # (k, B) inputs, (k, B) next tokens
        state = ts.data.detach_state(state)                  # keep the values, drop the graph
        logits, state = model(Tensor(x), state)
        loss = F.cross_entropy(logits.reshape(-1, V), Tensor(y).reshape(-1))
        ...

Each backward() then reaches back at most k steps, while the forward pass still sees the whole
history through the carried state.
"""
import numpy as np


def batchify(tokens, batch_size):
    """Cut a 1-D token stream into `batch_size` contiguous columns -> (T_total, B) int64 array.

    Column b holds tokens[b*T_total:(b+1)*T_total]; the tail that does not fill a whole row is
    dropped (at most batch_size - 1 tokens)."""
    arr = np.asarray(tokens)
    if arr.ndim != 1:
        raise ValueError(f"batchify: expected a 1-D token stream, got shape {arr.shape}")
    if arr.dtype.kind not in "iu":
        raise TypeError(f"batchify: tokens must be integers, got dtype {arr.dtype}")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batchify: batch_size must be a positive integer, got {batch_size!r}")
    steps = arr.shape[0] // batch_size
    if steps < 2:
        raise ValueError(f"batchify: {arr.shape[0]} tokens are too few for {batch_size} columns "
                         f"(each column needs at least 2 tokens)")
    return np.ascontiguousarray(arr[:steps * batch_size].reshape(batch_size, steps).T.astype(np.int64))


class TBPTTChunks:
    """Iterable of (inputs, targets) chunks of at most k steps over a (T_total, B) stream; targets
    are the inputs shifted one step ahead. len() is the number of chunks. Works on numpy arrays
    and on integer Tensors (slices of a Tensor stay on its device)."""

    def __init__(self, stream, k, start=0):
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"tbptt_chunks: k must be a positive integer, got {k!r}")
        if len(stream.shape) < 1 or stream.shape[0] < 2:
            raise ValueError(f"tbptt_chunks: the stream needs at least 2 steps, got shape {tuple(stream.shape)}")
        self.stream, self.k, self.start = stream, int(k), int(start)

    def __len__(self):
        usable = self.stream.shape[0] - 1 - self.start
        return max(0, -(-usable // self.k))

    def __iter__(self):
        last = self.stream.shape[0] - 1
        for i in range(self.start, last, self.k):
            n = min(self.k, last - i)
            yield self.stream[i:i + n], self.stream[i + 1:i + 1 + n]


def tbptt_chunks(stream, k, start=0):
    """(inputs, targets) pairs of k steps (the last may be shorter) over a batchified stream."""
    return TBPTTChunks(stream, k, start)


def detach_state(state):
    """The recurrent state with its gradient history cut: a Tensor is detached, a tuple or list
    (an LSTM's (h, c), or one state per layer) is detached element by element, None stays None."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(detach_state(s) for s in state)
    if isinstance(state, list):
        return [detach_state(s) for s in state]
    if hasattr(state, "detach"):
        return state.detach()
    raise TypeError(f"detach_state: expected a Tensor, a tuple/list of Tensors or None, got {type(state).__name__}")


# ------------------------------------------------------------------ data-parallel sampling
def torch_randperm(n, seed):
    """torch.randperm(n, generator=torch.Generator().manual_seed(seed)) on the CPU, without
    torch: torch's generator is the 32-bit Mersenne Twister numpy's RandomState also runs, and
    its randperm swaps r[i] with r[i + u_i % (n - i)], u_i its i-th 32-bit draw."""
    order = list(range(n))
    if n > 1:
        draws = np.random.RandomState(seed & 0xFFFFFFFF).randint(0, 2 ** 32, size=n - 1, dtype=np.uint64)
        steps = (draws % np.arange(n, 1, -1, dtype=np.uint64)).tolist()
        for i, z in enumerate(steps):
            order[i], order[i + z] = order[i + z], order[i]
    return order


class DistributedSampler:
    """Each rank's share of a dataset's indices, as torch.utils.data.DistributedSampler: the index
    list is padded by repeating its start (or, with drop_last=True, cut) to a multiple of
    num_replicas, and rank r takes every num_replicas-th index from r.

    dataset: anything with len(), or an int (the number of samples). num_replicas and rank
    default to tinygrad_seq.distributed's world size and rank. The index lists are exactly
    PyTorch's, shuffled too: the order is torch.randperm(n) under a generator seeded with
    seed + epoch (torch_randperm), the same on every rank for one epoch; call set_epoch(epoch) at
    the start of each epoch, as with PyTorch."""

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None or rank is None:
            from tinygrad_seq import distributed as dist
            if not dist.is_initialized():   # torch's ValueError; a RuntimeError too, as before
                from tinygrad_seq.errors import InvalidArgument
                raise InvalidArgument("DistributedSampler: Default process group has not been "
                                      "initialized: pass num_replicas and rank, or call "
                                      "tinygrad_seq.distributed.init_process_group() first")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas must be positive, got {num_replicas}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, int(num_replicas), int(rank)
        self.shuffle, self.seed, self.drop_last, self.epoch = shuffle, int(seed), drop_last, 0
        n = self._n()
        if drop_last and n % self.num_replicas != 0:
            self.num_samples = -(-(n - self.num_replicas) // self.num_replicas)
        else:
            self.num_samples = -(-n // self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def _n(self):
        return int(self.dataset) if isinstance(self.dataset, (int, np.integer)) else len(self.dataset)

    def __iter__(self):
        n = self._n()
        if self.shuffle:
            indices = torch_randperm(n, self.seed + self.epoch)
        else:
            indices = list(range(n))
        if not self.drop_last:
            pad = self.total_size - len(indices)
            if pad <= len(indices):
                indices += indices[:pad]
            else:
                indices += (indices * -(-pad // len(indices)))[:pad]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Reshuffle for this epoch (shuffle=True): every rank must pass the same epoch."""
        self.epoch = int(epoch)
