"""torch 2.13's input checks for multi-head attention, with torch's error types and messages:
_mha_shape_check (the dims of query / key / value and of the masks: AssertionError), the
key / value agreement and the key padding mask's size (AssertionError), the attention mask's
shape (RuntimeError); and the causal mask the is_causal hint stands for. The errors are
ShapeAssertion / ShapeMismatch, which are also ValueErrors, as these checks raised before."""
import numpy as np

from tinygrad_seq.errors import ShapeAssertion, ShapeMismatch
from tinygrad_seq.size import Size
from tinygrad_seq.tensor import Tensor


def mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """True for a batched call (query [L, N, E], key / value [S, N, E_k / E_v], key_padding_mask
    [N, S], attn_mask [L, S] or [N*heads, L, S]), False for an unbatched one (query [L, E],
    key / value [S, E_k / E_v], key_padding_mask [S], attn_mask [L, S] or [heads, L, S])."""
    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            raise ShapeAssertion("For batched (3-D) `query`, expected `key` and `value` to be 3-D"
                                 f" but found {key.ndim}-D and {value.ndim}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 2:
            raise ShapeAssertion("For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D"
                                 f" but found {key_padding_mask.ndim}-D tensor instead")
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise ShapeAssertion("For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D"
                                 f" but found {attn_mask.ndim}-D tensor instead")
        return True
    if query.ndim == 2:
        if key.ndim != 2 or value.ndim != 2:
            raise ShapeAssertion("For unbatched (2-D) `query`, expected `key` and `value` to be 2-D"
                                 f" but found {key.ndim}-D and {value.ndim}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 1:
            raise ShapeAssertion("For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D"
                                 f" but found {key_padding_mask.ndim}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.ndim not in (2, 3):
                raise ShapeAssertion("For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D"
                                     f" but found {attn_mask.ndim}-D tensor instead")
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.ndim == 3 and tuple(attn_mask.shape) != expected:
                raise ShapeAssertion(f"Expected `attn_mask` shape to be {expected} but got {tuple(attn_mask.shape)}")
        return False
    raise ShapeAssertion(f"query should be unbatched 2D or batched 3D tensor but received {query.ndim}-D query "
                         "tensor")


def check_key_value(key, value, separate_proj):
    """key [S, N, E_k] and value [S, N, E_v]: with separate projection weights (kdim / vdim set)
    only their length and batch must agree, otherwise their whole shapes."""
    if separate_proj:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise ShapeAssertion(f"key's sequence and batch dims {tuple(key.shape[:2])} do not match value's "
                                 f"{tuple(value.shape[:2])}")
    elif tuple(key.shape) != tuple(value.shape):
        raise ShapeAssertion(f"key shape {tuple(key.shape)} does not match value shape {tuple(value.shape)}")


def check_attn_mask(attn_mask, L, N, S, num_heads):
    """attn_mask must be [L, S] (shared by every batch entry and head) or [N*heads, L, S]."""
    if attn_mask.ndim == 2:
        if tuple(attn_mask.shape) != (L, S):
            raise ShapeMismatch(f"The shape of the 2D attn_mask is {Size(attn_mask.shape)!r}, but should be "
                               f"{(L, S)}.")
    elif attn_mask.ndim == 3:
        if tuple(attn_mask.shape) != (N * num_heads, L, S):
            raise ShapeMismatch(f"The shape of the 3D attn_mask is {Size(attn_mask.shape)!r}, but should be "
                               f"{(N * num_heads, L, S)}.")
    else:
        raise ShapeMismatch(f"attn_mask's dimension {attn_mask.ndim} is not supported")


def check_key_padding_mask(key_padding_mask, S, N):
    """key_padding_mask must be [N, S], S counting the bias_k / zero-attention keys (torch's
    message spells it key_padded_mask)."""
    if key_padding_mask.shape[0] != N:
        raise ShapeAssertion(f"Expected key_padded_mask.shape[0] to be {N}, but got {key_padding_mask.shape[0]}")
    if key_padding_mask.shape[1] != S:
        raise ShapeAssertion(f"Expected key_padded_mask.shape[1] to be {S}, but got {key_padding_mask.shape[1]}")


def causal_mask(L, S, dtype, device):
    """The additive [L, S] mask of the is_causal hint: query i sees keys j <= i (-inf above the
    diagonal), as scaled_dot_product_attention(is_causal=True) builds it."""
    allowed = np.tril(np.ones((L, S), dtype=bool))
    return Tensor(np.where(allowed, 0.0, -np.inf).astype(np.dtype(dtype)), device=device)
