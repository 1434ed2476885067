"""Tensor.narrow / select / unbind / split / chunk (the PieceOps base class of Tensor): views
of pieces of one dim, each built from its index tuple directly (ShapeOps._basic_view), torch's
errors first. Each piece's node is named as torch's (UnbindBackward0, SplitBackward0, ...)."""
import numpy as np

from tinygrad_seq.dim_alias import dim_from_axis, required_dim
from tinygrad_seq.errors import IndexOutOfRange, InvalidArgument, ShapeMismatch
from tinygrad_seq.grad_fn_names import named
from tinygrad_seq.ops import _norm_axes


def _dim1(dim, ndim):
    return _norm_axes(dim, ndim)[0] if ndim else 0


def _numbered(pieces):
    """The outputs of split / unbind as a tuple, each graph node told its output number (torch's
    error for such an output read after its base was written in place names it)."""
    out = tuple(pieces)
    for k, t in enumerate(out):
        if t._ctx is not None:
            t._ctx._multi_output_nr = k
    return out

class PieceOps:
    __slots__ = ()

    def narrow(self, dim=None, start=None, length=None, *, axis=None):
        if axis is not None or dim is None or start is None or length is None:   # dim= or numpy's axis=
            dim = required_dim(dim, axis, "narrow", start=start, length=length)
        if hasattr(start, "ndim") and (start.ndim != 0 or start.dtype.kind not in "iu"):
            raise InvalidArgument(f"narrow: start must be an 0-dim integral Tensor, got shape "
                                  f"{tuple(start.shape)} and dtype {start.dtype}")
        if self.ndim == 0:
            raise InvalidArgument("narrow() cannot be applied to a 0-dim tensor.")
        d = _dim1(dim, self.ndim)
        n = self.shape[d]
        start = int(start) + (n if int(start) < 0 else 0)
        if not (0 <= start <= n and 0 <= length and start + length <= n):
            raise IndexOutOfRange(f"narrow: start {start} and length {length} are out of range for "
                             f"dimension {d} of size {n}")
        return self._basic_view((slice(None),) * d + (slice(start, start + length),))

    def select(self, dim=None, index=None, *, axis=None):
        if axis is not None or dim is None or index is None:   # dim= or numpy's axis=
            dim = required_dim(dim, axis, "select", index=index)
        if self.ndim == 0:   # torch's IndexError
            raise IndexError("select() cannot be applied to a 0-dim tensor.")
        d = _dim1(dim, self.ndim)
        i, n = int(index), self.shape[d]
        if not -n <= i < n:
            raise IndexError(f"select(): index {i} out of range for tensor of size {list(self.shape)} at "
                             f"dimension {d}")
        return self._basic_view((slice(None),) * d + (i,))

    def unbind(self, dim=0, *, axis=None):
        if axis is not None:   # numpy's name for dim, which torch takes too
            dim = dim_from_axis(dim, axis, "unbind", 0)
        d = _dim1(dim, self.ndim)
        pre = (slice(None),) * d
        return _numbered(named(self._basic_view(pre + (i,)), "UnbindBackward0") for i in range(self.shape[d]))

    def split(self, split_size_or_sections=None, dim=0, *, split_size=None):
        if split_size is not None:   # torch's keyword name for an int size
            split_size_or_sections = split_size
        d = _dim1(dim, self.ndim)
        n = self.shape[d]
        pre = (slice(None),) * d
        if isinstance(split_size_or_sections, (list, tuple)):
            sizes = list(split_size_or_sections)
            if any(k < 0 for k in sizes):
                raise InvalidArgument(f"split_with_sizes expects split_sizes have only non-negative entries, "
                                      f"but got split_sizes={sizes}")
            if sum(sizes) != n:
                raise ShapeMismatch(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's "
                                    f"size at dimension {d}), but got split_sizes={sizes}")
            at = [int(s) for s in np.cumsum([0] + sizes[:-1])]   # where each piece starts
            return _numbered(named(self._basic_view(pre + (slice(s, s + k),)), "SplitWithSizesBackward0")
                             for s, k in zip(at, sizes))
        size = int(split_size_or_sections)
        if size < 0:
            raise InvalidArgument(f"split expects split_size be non-negative, but got split_size={size}")
        if size == 0:   # torch's: one empty piece of an empty dim
            if n:
                raise InvalidArgument(f"split_size can only be 0 if dimension size is 0, but got dimension "
                                      f"size of {n}")
            return (named(self._basic_view(pre + (slice(0, 0),)), "SplitBackward0"),)
        return _numbered(named(self._basic_view(pre + (slice(i, i + size),)), "SplitBackward0")
                         for i in range(0, max(n, 1), size))

    def chunk(self, chunks, dim=0, *, axis=None):
        if axis is not None:   # numpy's name for dim, which torch takes too
            dim = dim_from_axis(dim, axis, "chunk", 0)
        if chunks <= 0:   # torch's RuntimeError
            raise InvalidArgument(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
        if self.ndim == 0:
            raise InvalidArgument("chunk expects at least a 1-dimensional tensor")
        size = self.shape[_dim1(dim, self.ndim)]
        if size == 0:   # torch's: `chunks` empty pieces
            return self.split([0] * chunks, dim)
        return self.split(-(-size // chunks), dim)

    def unsafe_split(self, split_size, dim=0):
        """split whose pieces autograd does not track as views (torch's unsafe_split): an
        in-place write to a piece is recorded on the piece alone (UnsafeSplitBackward0)."""
        return _untracked(self.split(split_size, dim), "UnsafeSplitBackward0")

    def unsafe_chunk(self, chunks, dim=0):
        return _untracked(self.chunk(chunks, dim), "UnsafeSplitBackward0")

    def unsafe_split_with_sizes(self, split_sizes, dim=0):
        return _untracked(self.split(list(split_sizes), dim), "UnsafeSplitWithSizesBackward0")


def _untracked(pieces, name):
    for t in pieces:
        t._view = None   # (the memory is still the input's, as torch's: "unsafe")
        if t._ctx is not None:
            t._ctx.__dict__.pop("_multi_output_nr", None)
            t._ctx.is_view = False
        named(t, name)
    return pieces
