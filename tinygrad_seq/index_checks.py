"""torch's checks of the index arguments of index_copy_, index_fill_, take and put_ (the
classes and texts of torch 2.13): index_copy_, take and put_ want an int64 index
(RuntimeError), index_fill_ an int64 index of at most one dim (IndexError / RuntimeError) and a
0-d value; index_copy_'s index has one position per source slice (IndexError). The error
classes are also the library's own (ShapeMismatch, DTypeMismatch), as before."""
from tinygrad_seq.errors import DTypeMismatch, ShapeMismatch
from tinygrad_seq.tensor_matmul import scalar_name


class IndexDTypeError(DTypeMismatch, IndexError):
    """An index of the wrong dtype where torch raises IndexError (index_fill_)."""


class IndexShapeError(ShapeMismatch, IndexError):
    """An index of the wrong shape or length where torch raises IndexError (index_copy_, put_)."""


def _is_tensor(x):
    return hasattr(x, "_grad_value")


def check_long_index(index, name):
    """index_copy_ / take / put_: an int64 index tensor (int32 too is refused, as torch's)."""
    if _is_tensor(index) and str(index.dtype) != "int64":
        raise DTypeMismatch(f"{name}(): Expected a long tensor for index, but got {scalar_name(index.dtype)}")


def check_index_copy(index, source, dim_size_of_source):
    """index_copy_(dim, index, source): index 0-d or 1-D, int64, one position per source slice."""
    if _is_tensor(index) and index.ndim > 1:
        raise IndexShapeError(f"index_copy_(): Index should have dimension 1 or 0 (got {index.ndim})")
    check_long_index(index, "index_copy_")
    if _is_tensor(index) and index.numel() != dim_size_of_source:
        raise IndexShapeError(f"index_copy_(): Number of indices ({index.numel()}) should be equal to "
                              f"source.size(dim) ({dim_size_of_source})")


def check_index_copy_ranks(self_ndim, index, source):
    """index_copy_'s first checks, in torch's order (before the dtypes): IndexError for an index of
    two or more dims, a 0-d source at more than one position, or a source of another rank."""
    if index.ndim > 1:
        raise IndexShapeError(f"index_copy_(): Index should have dimension 1 or 0 (got {index.ndim})")
    if source.ndim == 0 and index.numel() != 1:
        raise IndexShapeError(f"index_copy_(): When source is scalar, index should have one element "
                              f"(got {index.numel()})")
    if source.ndim not in (0, self_ndim):
        raise IndexShapeError(f"index_copy_(): When source and destination are not scalars, their dimensionality "
                              f"must match. Source dimensionality ({source.ndim}), destination dimensionality "
                              f"({self_ndim})")


def check_index_fill(index, value):
    """index_fill_(dim, index, value): an int64 index of at most one dim, a number or 0-d value."""
    if not _is_tensor(index) or str(index.dtype) != "int64":
        raise IndexDTypeError("index_fill_(): Expected dtype int64 for index.")
    if index.ndim > 1:
        raise ShapeMismatch("Index has to be a vector/scalar")
    if _is_tensor(value) and value.ndim != 0:
        raise ShapeMismatch(f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                            f"{value.ndim} dimension(s).")


def put_count_error(source_numel, index_numel):
    return IndexShapeError(f"put_(): Expected source and index to have the same number of elements, but got "
                           f"source.numel() = {source_numel}, index.numel() = {index_numel}")
