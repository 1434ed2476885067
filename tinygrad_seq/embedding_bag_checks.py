"""The argument checks of F.embedding_bag (functional_more.py) that ATen makes, with torch's
errors and messages, in torch's order: padding_idx, then per_sample_weights' dtype, then the
indices' range."""
import numpy as np

from tinygrad_seq.errors import DTypeMismatch, IndexOutOfRange, InvalidArgument


def check_padding_idx(padding_idx, num_embeddings):
    """torch's RuntimeError for a padding_idx outside [-num_embeddings, num_embeddings)."""
    if padding_idx is not None and not -num_embeddings <= padding_idx < num_embeddings:
        raise InvalidArgument(f"padding_idx must be within the number of embeddings, -{num_embeddings} through "
                              f"{num_embeddings - 1}, but got {padding_idx}")


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
