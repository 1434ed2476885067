"""The argument checks of F.embedding_bag (functional_more.py) that ATen makes, with torch's
errors and messages, in torch's order: padding_idx, then a 1-D input's offsets, then
per_sample_weights' dtype, then the indices' range."""
import numpy as np

from tinygrad_seq.errors import DTypeMismatch, IndexOutOfRange, InvalidArgument


def check_padding_idx(padding_idx, num_embeddings):
    """torch's RuntimeError for a padding_idx outside [-num_embeddings, num_embeddings)."""
    if padding_idx is not None and not -num_embeddings <= padding_idx < num_embeddings:
        raise InvalidArgument(f"padding_idx must be within the number of embeddings, -{num_embeddings} through "
                              f"{num_embeddings - 1}, but got {padding_idx}")


def check_offsets(offsets, n_indices, include_last_offset):
    """torch's RuntimeErrors for a 1-D input's offsets (int64 numpy, 1-D): the first bag must start
    at 0 and the last offset must not pass the input's length n_indices (no offsets: no bags, but
    include_last_offset needs the one that ends the last bag)."""
    if not offsets.size:
        if include_last_offset:
            raise InvalidArgument("include_last_offset: number of offset should be at least 1")
        return
    if offsets[0] != 0:
        raise InvalidArgument("offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
                              f"position 0. However, got {int(offsets[0])}")
    if offsets[-1] > n_indices:
        raise InvalidArgument(f"offsets[-1] can not be greater than input's length {n_indices} but got offsets[-1] "
                              f"of {int(offsets[-1])}")


def check_per_sample_weights_dtype(per_sample_weights, weight):
    """torch's RuntimeError for per_sample_weights of another dtype than weight (it used to
    promote the bags to float64)."""
    if per_sample_weights is not None and per_sample_weights.dtype != weight.dtype:
        raise DTypeMismatch("Expected tensor for argument #1 'weight' to have the same type as tensor for argument "
                            f"#1 'per_sample_weights'; but type {weight.type()} does not equal "
                            f"{per_sample_weights.type()} (while checking arguments for embedding_bag)")


def check_indices_in_range(flat, num_embeddings, fast_path):
    """torch's RuntimeError for an index outside [0, num_embeddings) (flat: the input's indices,
    1-D numpy). fast_path: torch's index-select kernel (float32 / float16 sum or mean without
    padding_idx), whose message names the position; its other kernels name the value only."""
    bad = np.flatnonzero((flat < 0) | (flat >= num_embeddings))
    if not bad.size:
        return
    position, value = int(bad[0]), int(flat[bad[0]])
    if fast_path:
        raise IndexOutOfRange(f"Index {position} of input takes value {value} which is not in the valid range "
                              f"[0, {num_embeddings})")
    raise IndexOutOfRange(f"embedding_bag: Expected idx >= 0 && idx < num_embeddings but found idx to be {value}")


def check_sample_weights_shape(per_sample_weights, input):
    """F.embedding_bag's ValueError for per_sample_weights of another shape than the input (its
    first check, before any mode's)."""
    if per_sample_weights is not None and tuple(input.shape) != tuple(per_sample_weights.shape):
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.size()}) is not None, then it "
                         f"must have the same shape as the input ({input.size()})")


def check_index_dtypes(*tensors):
    """ATen's RuntimeError for indices or offsets of a floating dtype (integers and bool are taken,
    int32 mixed with int64 too); its message names argument #1 'indices' for either."""
    from tinygrad_seq.functional_checks import torch_type_name
    for t in tensors:
        if t is not None and np.dtype(t.dtype).kind in "fc":
            raise DTypeMismatch("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                                f"Long, Int; but got torch.{torch_type_name(np.dtype(t.dtype))}Tensor instead (while "
                                "checking arguments for embedding_bag)")
