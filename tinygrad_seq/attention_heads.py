"""scaled_dot_product_attention's head handling, torch 2.13's: grouped-query attention
(enable_gqa=True: key / value with fewer heads, dim -3, than the query, each key / value head
shared by q_heads // kv_heads consecutive query heads) and the errors torch gives when the
heads (or any other batch dims) of query, key and value do not fit together."""
import numpy as np

from tinygrad_seq.errors import DTypeMismatch, IndexOutOfRange, ShapeMismatch
from tinygrad_seq.out_dtypes import c_type_name


def _heads(t):
    """Size of dim -3 (the heads), with torch's error for a tensor of fewer than 3 dims."""
    if t.ndim < 3:
        n = max(t.ndim, 1)
        raise IndexOutOfRange(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got -3)")
    return t.shape[-3]


def group_query_heads(query, key, value):
    """key and value with their heads repeated to the query's (torch's repeat_interleave on dim
    -3: key head h serves query heads h*g .. h*g+g-1, g = q_heads // kv_heads), so that the
    gradient of each key / value head sums over the query heads that share it."""
    q_heads, k_heads, v_heads = _heads(query), _heads(key), _heads(value)
    if q_heads == k_heads == v_heads:
        return key, value
    if q_heads % k_heads or q_heads % v_heads:
        # torch 2.13's message, cut short as torch's is
        raise ShapeMismatch("Number of heads in key and value must divide the number of heads in ")
    if k_heads != q_heads:
        key = key.repeat_interleave(q_heads // k_heads, -3)
    if v_heads != q_heads:
        value = value.repeat_interleave(q_heads // v_heads, -3)
    return key, value


def broadcast_batch_dims(a, b):
    """The broadcast of two batch shapes (all but the last two dims of matmul's operands), with
    torch's error naming the last dim that does not broadcast (counted in the result's dims)."""
    dims = max(len(a), len(b))
    out = []
    for i in range(dims - 1, -1, -1):
        offset = dims - 1 - i
        size_a = a[len(a) - 1 - offset] if len(a) - 1 - offset >= 0 else 1
        size_b = b[len(b) - 1 - offset] if len(b) - 1 - offset >= 0 else 1
        if size_a != size_b and size_a != 1 and size_b != 1:
            raise ShapeMismatch(f"The size of tensor a ({size_a}) must match the size of tensor b ({size_b}) at "
                                f"non-singleton dimension {i}")
        out.insert(0, size_b if size_a == 1 else size_a)
    return tuple(out)


def check_attention_batches(query, key, value):
    """torch's matmul broadcast errors for q @ k^T and then (q @ k^T) @ v: their batch dims
    (heads included, when enable_gqa is off) must broadcast."""
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        return   # matmul's own errors for vectors
    scores = broadcast_batch_dims(tuple(query.shape[:-2]), tuple(key.shape[:-2]))
    broadcast_batch_dims(scores, tuple(value.shape[:-2]))


def check_attention_dtypes(query, key, value):
    """scaled_dot_product_attention's first check: one dtype for query, key and value (torch's text)."""
    if not (query.dtype == key.dtype == value.dtype):
        raise DTypeMismatch(f"Expected query, key, and value to have the same dtype, but got query.dtype: "
                            f"{c_type_name(query.dtype)} key.dtype: {c_type_name(key.dtype)} and value.dtype: "
                            f"{c_type_name(value.dtype)} instead.")


def check_mask_dtype(attn_mask, query):
    """A mask is bool or of the query's dtype (torch's text, its double space kept)."""
    if attn_mask is not None and attn_mask.dtype != np.bool_ and attn_mask.dtype != query.dtype:
        raise DTypeMismatch(f"Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                            f"attn_mask.dtype: {c_type_name(attn_mask.dtype)} and  query.dtype: "
                            f"{c_type_name(query.dtype)} instead.")
