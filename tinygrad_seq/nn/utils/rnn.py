"""nn.utils.rnn: PyTorch's PackedSequence and its helpers (pack_padded_sequence,
pad_packed_sequence, pad_sequence, pack_sequence, unpack_sequence, unpad_sequence).

A PackedSequence holds the steps of B sequences sorted by length (longest first), time-major:
data (sum(lengths), *) is step 0 of every sequence, then step 1 of those that are long enough,
...; batch_sizes[t] counts the sequences with more than t steps. sorted_indices[i] is the
original batch position of the i-th longest sequence (None when the batch came sorted).
Packing and unpacking are gathers with gradients, so they sit inside the autograd graph."""
from collections import namedtuple
from collections.abc import Iterable

import numpy as np

from tinygrad_seq.argument_types import require_tensor_argument, require_tensor_sequence
from tinygrad_seq.autograd import Function
from tinygrad_seq.creation import stack
from tinygrad_seq.errors import InvalidArgument, NotATensor, ShapeMismatch
from tinygrad_seq.grad_fn_names import named, named_output
from tinygrad_seq.pad_sequence_op import PadSequence
from tinygrad_seq.tensor import Tensor


def _host_ints(x, name, truncate=False):
    """x as a host int64 array. Non-integer floats raise, or with truncate are cut toward zero
    (pack_padded_sequence's lengths: torch casts them to int64)."""
    if x is None or isinstance(x, (str, bytes)):   # torch's TypeError (not numpy's 0-d object array)
        raise TypeError(f"'{name}' must be a sequence of integers or a 1-D int64 tensor, got {type(x).__name__}")
    a = x.numpy() if isinstance(x, Tensor) else np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") and not isinstance(x, np.ndarray) else x)
    if a.ndim != 1:   # torch's RuntimeError (it casts lengths to int64 first: always 'Long')
        raise InvalidArgument(f"'{name}' argument should be a 1D CPU int64 tensor, but got {a.ndim}D cpu Long "
                              f"tensor (shape {a.shape})")
    if a.size and a.dtype.kind == "f" and truncate and not (np.isfinite(a).all() and np.abs(a).max() < 2.0 ** 63):
        raise RuntimeError("value cannot be converted to type int64 without overflow")   # torch's cast
    if a.size and a.dtype.kind not in "iu" and not truncate:
        if not np.all(a == np.round(a)):
            raise TypeError(f"{name} must be integers, got {a.dtype}")
    return a.astype(np.int64)


def _index_tensor(a):
    return None if a is None else Tensor(np.asarray(a, np.int64))


def invert_permutation(permutation):
    """The inverse of a 1-D index permutation (None stays None), as torch's."""
    if permutation is None:
        return None
    perm = _host_ints(permutation, "permutation")
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(perm.size)
    return Tensor(inverse.astype(np.int64))


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """(data, batch_sizes, sorted_indices, unsorted_indices), as torch's; build it with
    pack_padded_sequence or pack_sequence."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _index_tensor(np.argsort(_host_ints(sorted_indices, "sorted_indices")))
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else type(self)(data, self.batch_sizes, self.sorted_indices,
                                                         self.unsorted_indices)

    def cpu(self):
        return self.to("cpu")

    def cuda(self):
        return self.to("cuda")

    # dtype conversions of data only (batch_sizes and the indices stay int64), as torch's
    def double(self):
        return self.to(dtype=np.float64)

    def float(self):
        return self.to(dtype=np.float32)

    def half(self):
        return self.to(dtype=np.float16)

    def long(self):
        return self.to(dtype=np.int64)

    def int(self):
        return self.to(dtype=np.int32)

    def short(self):
        return self.to(dtype=np.int16)

    def char(self):
        return self.to(dtype=np.int8)

    def byte(self):
        return self.to(dtype=np.uint8)

    def detach(self):
        return type(self)(self.data.detach(), self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    @property
    def is_cuda(self):
        return self.data.device == "cuda"

    def is_pinned(self):
        return False


class _Gather(Function):
    """out[r] = x[rows[r]] over the first dim; backward adds g back at rows (rows distinct)."""
    saved_are_inputs = True   # its backward runs on Tensors too (higher_order.py)

    @staticmethod
    def forward(ctx, x, rows=None, fill_shape=None, fill=0.0):
        B = ctx.b
        ctx.n, ctx.rows = x.shape[0], rows
        return B.getitem(x, (rows,))

    @staticmethod
    def backward(ctx, g):
        B = ctx.b
        return B.setitem(B.zeros((ctx.n,) + tuple(g.shape[1:]), g.dtype), (ctx.rows,), g)


class _Scatter(Function):
    """out (n, *) filled with `fill`, out[rows[r]] = x[r]; backward gathers g at rows."""
    saved_are_inputs = True   # its backward runs on Tensors too (higher_order.py)

    @staticmethod
    def forward(ctx, x, rows=None, n=0, fill=0.0):
        B = ctx.b
        ctx.rows = rows
        out = B.full((n,) + tuple(x.shape[1:]), fill, x.dtype)
        B.setitem(out, (rows,), x)
        return out

    @staticmethod
    def backward(ctx, g):
        return ctx.b.getitem(g, (ctx.rows,))


def _layout(lengths, sorted_indices):
    """batch_sizes (T,) and, for each packed row, its flat index t * B + b into (T, B, *)."""
    lengths = np.asarray(lengths, np.int64)
    order = np.arange(len(lengths)) if sorted_indices is None else np.asarray(sorted_indices, np.int64)
    sl = lengths[order]
    T, B = int(sl[0]), len(sl)
    batch_sizes = (sl[None, :] > np.arange(T)[:, None]).sum(1).astype(np.int64)
    rows = np.concatenate([t * B + order[:batch_sizes[t]] for t in range(T)])
    return batch_sizes, rows


def lengths_rows(lengths):
    """The flat [T, B] indices of the steps pack_padded_sequence(x, lengths, enforce_sorted=False)
    packs, in its order (an RNN's lengths= dropout between layers draws in it, as torch's)."""
    order = Tensor(np.asarray(lengths, np.int64)).argsort(descending=True).numpy()
    return _layout(lengths, order)[1]


def _check_lengths(lengths, B, T):
    if len(lengths) != B:
        raise InvalidArgument(f"Expected `len(lengths)` to be equal to batch_size, but got {len(lengths)} "
                         f"(batch_size={B})")
    if (lengths <= 0).any():
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in "
                           "'lengths' that is <= 0")
    if lengths.max() > T:
        raise RuntimeError(f"lengths: a sequence of length {int(lengths.max())} is longer than the "
                           f"input's {T} steps")


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Padded input (T, B, *) (or (B, T, *) when batch_first) and per-sequence lengths ->
    PackedSequence. enforce_sorted=True requires lengths in decreasing order; False sorts them
    (the order is kept in sorted_indices and undone by pad_packed_sequence)."""
    require_tensor_argument(input, "_pack_padded_sequence", "input", 1)
    if input.ndim < 2:   # torch's transpose / size(1) IndexError
        raise IndexError(f"Dimension out of range (expected to be in range of [{-max(input.ndim, 1)}, "
                         f"{max(input.ndim, 1) - 1}], but got 1)")
    _require_bool(batch_first, "_pack_padded_sequence", "batch_first", 3)
    x = input.transpose(0, 1) if batch_first else input
    if x.numel() == 0:   # torch checks this before anything about lengths
        raise InvalidArgument("Cannot pack empty tensors.")
    lengths = _host_ints(lengths, "lengths", truncate=True)
    T, B = x.shape[0], x.shape[1]
    _check_lengths(lengths, B, T)
    if enforce_sorted:
        if (np.diff(lengths) > 0).any():
            raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` to "
                               "pack_padded_sequence and/or pack_sequence to sidestep this requirement "
                               "if you do not need ONNX exportability.")
        sorted_indices = None
    else:
        # torch.sort(lengths, descending=True): std::sort's order among equal lengths
        sorted_indices = Tensor(lengths).argsort(descending=True).numpy()
    return _pack(x, lengths, sorted_indices)


def _pack(x, lengths, sorted_indices):
    """Time-major padded x (T, B, *) -> PackedSequence in the given sorted order."""
    batch_sizes, rows = _layout(lengths, sorted_indices)
    T = len(batch_sizes)
    flat = x[:T].reshape(T * x.shape[1], *x.shape[2:])
    data = named(_Gather.apply(flat, rows=rows), "PackPaddedSequenceBackward0")
    return PackedSequence(data, Tensor(batch_sizes), _index_tensor(sorted_indices),
                          None if sorted_indices is None else _index_tensor(np.argsort(sorted_indices)))


def _sequence_lengths(sequence):
    """Per-sequence lengths in the original batch order, from batch_sizes."""
    bs = _host_ints(sequence.batch_sizes, "batch_sizes")
    B = int(bs[0])
    sorted_lengths = (bs[None, :] > np.arange(B)[:, None]).sum(1)
    if sequence.sorted_indices is None:
        return sorted_lengths, None
    order = _host_ints(sequence.sorted_indices, "sorted_indices")
    lengths = np.empty(B, np.int64)
    lengths[order] = sorted_lengths
    return lengths, order


def _require_bool(value, function, name, position):
    """torch's argument parser: a flag of its native pack / pad functions takes a bool only."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{function}(): argument '{name}' (position {position}) must be bool, not {type(value).__name__}")


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """PackedSequence -> (padded (T, B, *) or (B, T, *), lengths int64 Tensor (B,)), both in the
    original batch order. total_length pads T up to that many steps."""
    if not isinstance(sequence, PackedSequence):
        raise NotATensor(f"pad_packed_sequence expects a PackedSequence, got {type(sequence).__name__}")
    _require_bool(batch_first, "_pad_packed_sequence", "batch_first", 3)
    if total_length is not None and not isinstance(total_length, (int, np.integer)) and not (
            isinstance(total_length, Tensor) and total_length.ndim == 0 and total_length.dtype.kind in "iu"):
        raise TypeError(f"_pad_packed_sequence(): argument 'total_length' (position 5) must be int, not "
                        f"{type(total_length).__name__}")
    lengths, order = _sequence_lengths(sequence)
    T, B = int(lengths.max()), len(lengths)
    if total_length is not None:
        if total_length < T:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {T}")
        T = int(total_length)
    _, rows = _layout(lengths, order)
    data = sequence.data
    flat = _Scatter.apply(data, rows=rows, n=T * B, fill=float(padding_value))
    padded = named(flat.reshape(T, B, *data.shape[1:]), "CopySlices")   # torch's names: its writes,
    padded = padded.transpose(0, 1) if batch_first else padded
    if order is None:
        return padded, Tensor(lengths)
    # torch reorders with index_select into a new contiguous tensor (batch_first too, where the
    # sorted batch is a transposed view): .view() works and dropout draws in that memory order
    return named(padded.contiguous(), "IndexSelectBackward0"), Tensor(lengths)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """A list of (L_i, *) tensors -> (max L, B, *) (or (B, max L, *) when batch_first), padded
    with padding_value on padding_side ('right' or 'left')."""
    if not isinstance(sequences, Iterable):   # torch's check comes first, a RuntimeError
        raise InvalidArgument("pad_sequence: Expected iterable for input sequences, but got arg of type: "
                              f"{type(sequences)}")
    if padding_side not in ("right", "left"):
        raise InvalidArgument(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    sequences = require_tensor_sequence(list(sequences), "pad_sequence")   # torch's TypeError for lists
    if not sequences:
        raise InvalidArgument("pad_sequence: received an empty list of sequences")
    if any(s.dim() == 0 for s in sequences):   # torch's RuntimeError, not Python's IndexError
        raise InvalidArgument("pad_sequence: every sequence needs a first (time) dimension, got a 0-d tensor")
    T = max(s.shape[0] for s in sequences)
    trailing = tuple(sequences[0].shape[1:])
    # torch copies each into the first's trailing shape: broadcastable ones are expanded
    sequences = [s if tuple(s.shape[1:]) == trailing else _expanded_to(s, trailing) for s in sequences]
    # torch copies each into a buffer of the first's dtype (an int64 first: 3.7 becomes 3)
    sequences = [s if s.dtype == sequences[0].dtype else s.to(dtype=sequences[0].dtype) for s in sequences]
    if any(s.device != "cpu" for s in sequences):
        from tinygrad_seq.functional import pad   # (devices: pad each, then stack)
        out = []
        for s in sequences:
            extra = T - s.shape[0]
            widths = [0, 0] * len(trailing) + ([0, extra] if padding_side == "right" else [extra, 0])
            out.append(pad(s, widths, value=padding_value) if extra else s)
        return named(stack(out, 0 if batch_first else 1), "CopySlices")   # torch writes into a buffer
    padded = PadSequence.apply(*sequences, length=T, left=padding_side == "left", value=padding_value)
    return named(padded if batch_first else padded.transpose(0, 1).contiguous(), "CopySlices")


def _expanded_to(s, trailing):
    """s (L, *) expanded to (L, *trailing), as torch's copy into the padded buffer broadcasts it."""
    given = tuple(s.shape[1:])
    try:
        fits = len(given) <= len(trailing) and np.broadcast_shapes(given, trailing) == trailing
    except ValueError:
        fits = False
    if not fits:
        raise ShapeMismatch(f"pad_sequence: every sequence needs the first's trailing shape {trailing} (or one that "
                            f"broadcasts to it), got {given}")
    return s.expand((s.shape[0],) + trailing)


def pack_sequence(sequences, enforce_sorted=True):
    """A list of (L_i, *) tensors -> PackedSequence (pad_sequence, then pack_padded_sequence)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """(T, B, *) padded and lengths -> list of B tensors (L_i, *), each a copy picked by a mask,
    as torch's; like torch's, it transposes padded_sequences in place to (B, T, *) when not
    batch_first (the caller's tensor stays so)."""
    if not batch_first:
        padded_sequences.transpose_(0, 1)
    idx = np.arange(padded_sequences.shape[1])
    return [seq[Tensor(idx < n, device=padded_sequences.device)]
            for seq, n in zip(padded_sequences, _host_ints(lengths, "lengths"), strict=True)]


def unpack_sequence(packed_sequences):
    """PackedSequence -> list of tensors (L_i, *) in the original batch order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


def packed_forward(layer, input, hx):
    """Run recurrent layer on a PackedSequence as torch does: unpack to time-major padding with
    lengths (hx and h_n stay in the original batch order), run, and pack the output in the
    input's order. Returns (PackedSequence output, state)."""
    padded, lengths = pad_packed_sequence(input)
    x = padded.transpose(0, 1) if layer.batch_first else padded
    order = None if input.sorted_indices is None else _host_ints(input.sorted_indices, "sorted_indices")
    batch_sizes, rows = _layout(lengths.numpy(), order)
    layer._packed_rows = rows   # the packed order of the steps (the layers' dropout draws in it)
    try:
        out, state = layer.forward(x, hx, lengths=lengths.numpy())
    finally:
        layer._packed_rows = None
    out = out.transpose(0, 1) if layer.batch_first else out
    flat = out.reshape(out.shape[0] * out.shape[1], *out.shape[2:])
    data = named(_Gather.apply(flat, rows=rows), "CatBackward0")   # torch concatenates the steps
    if order is not None:   # torch restores the batch order of the states by index_select
        state = tuple(named_output(s, "IndexSelectBackward0") for s in state) if isinstance(state, tuple) \
            else named_output(state, "IndexSelectBackward0")
    return PackedSequence(data, input.batch_sizes, input.sorted_indices, input.unsorted_indices), state
