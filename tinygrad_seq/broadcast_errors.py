"""torch's error for operands whose shapes do not broadcast: a RuntimeError (ShapeMismatch)
"The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1",
where numpy raises ValueError ("operands could not be broadcast together ...").

The ops call numpy directly and only look at the shapes after numpy has refused
(raise_if_mismatched in an except clause, or the torch_broadcast_errors wrapper), so the
common path, where the shapes do broadcast, pays nothing."""
import functools

from tinygrad_seq.errors import ShapeMismatch


def _broadcast_pair(a, b):
    """The broadcast of shapes a and b (tuples), torch's infer_size: dims compared from the right,
    the message naming the first that differs (its index counted in the result's dims)."""
    ndim = max(len(a), len(b))
    out = [0] * ndim
    for i in range(ndim - 1, -1, -1):
        offset = ndim - 1 - i
        size_a = a[len(a) - 1 - offset] if offset < len(a) else 1
        size_b = b[len(b) - 1 - offset] if offset < len(b) else 1
        if size_a != size_b and size_a != 1 and size_b != 1:
            raise ShapeMismatch(f"The size of tensor a ({size_a}) must match the size of tensor b ({size_b}) at "
                                f"non-singleton dimension {i}") from None
        out[i] = size_b if size_a == 1 else size_a
    return tuple(out)


def broadcast_shape(*shapes):
    """The broadcast of all the shapes, folded left to right as torch's TensorIterator does (so
    for where(cond, x, y) the message's tensor a is the broadcast of the shapes before)."""
    out = tuple(shapes[0])
    try:
        for shape in shapes[1:]:
            out = _broadcast_pair(out, tuple(shape))
    except ShapeMismatch as error:   # torch's text, then every operand's shape (the house rule)
        listed = [str(tuple(shape)) for shape in shapes]
        raise ShapeMismatch(f"{error} (shapes {', '.join(listed[:-1])} and {listed[-1]})") from None
    return out


def raise_if_mismatched(*operands):
    """torch's ShapeMismatch if the operands' shapes (tensors and arrays; numbers and other
    arguments without a shape are skipped) do not broadcast together; nothing if they do.
    Meant for an except clause after numpy has raised: the caller re-raises numpy's error when
    this returns."""
    shapes = [tuple(x.shape) for x in operands if hasattr(x, "shape") and not isinstance(x, type)]
    if len(shapes) > 1:
        broadcast_shape(*shapes)


def torch_broadcast_errors(method):
    """method with numpy's broadcast ValueError (or the IndexError a later step raises on the
    mismatched operands) turned into torch's ShapeMismatch, checked on its positional arguments
    in order; an error the operands' shapes do not explain passes unchanged, as does any
    RuntimeError the method raised itself."""
    @functools.wraps(method)
    def checked(*args, **kwargs):
        try:
            return method(*args, **kwargs)
        except RuntimeError:
            raise
        except (ValueError, IndexError):
            raise_if_mismatched(*args)
            raise
    return checked
