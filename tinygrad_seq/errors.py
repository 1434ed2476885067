"""Errors raised where PyTorch raises RuntimeError (or ValueError) and this library raised
ValueError, TypeError or KeyError before: each class is both, so that a PyTorch program's
`except RuntimeError` and an older caller's `except ValueError` / `KeyError` / `TypeError`
catch it alike. The messages name the problem (the key, both shapes, both dtypes)."""


class ShapeMismatch(RuntimeError, ValueError):
    """Operands or a module's input / hidden state / checkpoint entry of the wrong shape (torch:
    RuntimeError)."""


class DTypeMismatch(RuntimeError, ValueError, TypeError):
    """An input whose dtype differs from the parameters' (torch: ValueError for a recurrent
    layer, RuntimeError for a cell's product)."""


class KeyMismatch(RuntimeError, KeyError):
    """load_state_dict(strict=True) with missing or unexpected keys (torch: RuntimeError)."""

    def __str__(self):   # the message as given (KeyError's str() would quote it)
        return RuntimeError.__str__(self)


class IntegerOverflow(OverflowError, ValueError):
    """Integer data beyond int64 (torch: ValueError "Overflow when unpacking long long")."""


class InvalidArgument(RuntimeError, ValueError):
    """An argument torch refuses with a RuntimeError (ValueError too, for callers that catch the
    Python convention)."""


class IndexOutOfRange(RuntimeError, IndexError):
    """An index past a dimension's end in gather / scatter / narrow / kthvalue (torch:
    RuntimeError; IndexError for callers that catch the Python convention)."""


class NotATensor(TypeError, AttributeError):
    """An argument that must be a Tensor (or a PackedSequence) and is not, where torch fails with
    an AttributeError reading it ('tuple' object has no attribute 'dim')."""


class StateCountError(TypeError, IndexError, RuntimeError, AttributeError):
    """A recurrent layer's hx with the wrong number of states, where torch fails indexing it (one
    tensor given to an LSTM: IndexError when its first dim has one entry, else RuntimeError, the
    hx and cx it reads as hx[0] and hx[1] having one dim too few; a numpy array: AttributeError)."""


class BadArgument(ValueError, AssertionError):
    """An argument torch refuses with an assert (Embedding.from_pretrained of a 1-D weight)."""


class UnsupportedData(TypeError, ValueError, RuntimeError):
    """Data a tensor cannot hold (strings: torch's ValueError "too many dimensions 'str'"; a set,
    None: its RuntimeError "Could not infer dtype")."""


class ShapeAssertion(ShapeMismatch, AssertionError):
    """A shape torch refuses with an assert (MultiheadAttention's embedding dimension)."""
