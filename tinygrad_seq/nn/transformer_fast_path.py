"""torch's inference fast paths of nn.TransformerEncoderLayer (torch._transformer_encoder_layer_fwd)
and nn.MultiheadAttention (torch._native_multi_head_attention), as far as their results differ from
the composed layers: a query whose keys are all masked gets a nan softmax there, so its whole
output row is nan (the composed attention without weights gives such a query zero attention and a
finite row). tinygrad_seq computes the layer one way and then marks those rows nan exactly when
torch takes the fast path; the other rows agree to rounding."""
import numpy as np

from tinygrad_seq import functional as F
from tinygrad_seq.autocast_state import is_autocast_enabled
from tinygrad_seq.autograd import is_grad_enabled
from tinygrad_seq.backends import mha
from tinygrad_seq.nn.activation import GELU, ReLU
from tinygrad_seq.tensor import Tensor


def relu_or_gelu_code(activation):
    """torch's TransformerEncoderLayer.activation_relu_or_gelu, set once in __init__: 1 for F.relu
    / nn.ReLU, 2 for F.gelu / nn.GELU (any approximate), 0 for any other activation."""
    return 1 if activation is F.relu or isinstance(activation, ReLU) else \
        2 if activation is F.gelu or isinstance(activation, GELU) else 0


def relu_or_gelu(layer):
    """The layer's activation_relu_or_gelu as torch's fast path reads it (the flag made in
    __init__: an activation assigned later does not change it); a layer unpickled without it
    asks its activation."""
    code = getattr(layer, "activation_relu_or_gelu", None)
    return bool(code if code is not None else relu_or_gelu_code(layer.activation))


def _hooked(layer):
    return any(len(getattr(m, "_forward_hooks", {})) + len(getattr(m, "_forward_pre_hooks", {}))
               for m in layer.modules())


def takes_fast_path(layer, src):
    """True when torch's TransformerEncoderLayer.forward(src, ...) runs its fused kernel: in the
    order of torch's checks (transformer.py, why_not_sparsity_fast_path)."""
    attn = layer.self_attn
    if not mha.get_fastpath_enabled() or src.ndim != 3 or layer.training or not attn.batch_first:
        return False
    if attn.in_proj_bias is None or not attn._qkv_same_embed_dim or not relu_or_gelu(layer):
        return False
    if layer.norm1.eps != layer.norm2.eps or attn.num_heads % 2 == 1 or is_autocast_enabled() or _hooked(layer):
        return False
    args = (src, attn.in_proj_weight, attn.in_proj_bias, attn.out_proj.weight, attn.out_proj.bias,
            layer.norm1.weight, layer.norm1.bias, layer.norm2.weight, layer.norm2.bias,
            layer.linear1.weight, layer.linear1.bias, layer.linear2.weight, layer.linear2.bias)
    return not (is_grad_enabled() and any(a is not None and a.requires_grad for a in args))


def mha_takes_fast_path(attn, query, key, value, attn_mask, key_padding_mask):
    """True when torch's MultiheadAttention.forward(query, key, value, ...) runs
    _native_multi_head_attention: self-attention on one batched tensor, bool masks (or none), in
    the order of torch's checks (activation.py, why_not_fast_path)."""
    if any(m is not None and m.is_floating_point() for m in (attn_mask, key_padding_mask)):
        return False
    if not mha.get_fastpath_enabled() or query.ndim != 3 or query is not key or key is not value:
        return False
    if attn.in_proj_bias is None or attn.in_proj_weight is None or not attn._qkv_same_embed_dim:
        return False
    if query.dtype != attn.in_proj_bias.dtype or query.dtype != attn.in_proj_weight.dtype or attn.training:
        return False
    if attn.num_heads % 2 == 1 or not attn.batch_first or attn.bias_k is not None or attn.bias_v is not None:
        return False
    if attn.add_zero_attn or is_autocast_enabled():
        return False
    args = (query, attn.in_proj_weight, attn.in_proj_bias, attn.out_proj.weight, attn.out_proj.bias)
    return not (is_grad_enabled() and any(a is not None and a.requires_grad for a in args))


def fully_masked_queries(src_mask, key_padding_mask, n_batch, n_heads):
    """Bool [N, L]: the queries whose keys are all masked (-inf) in some head, from the layer's
    additive masks (canonical_mask's: src_mask [L, S] or [N*H, L, S], key_padding_mask [N, S]);
    None when neither mask is given. The masks are merged as torch's merge_masks does."""
    if src_mask is None and key_padding_mask is None:
        return None
    merged = np.zeros((1, 1, 1, 1))
    if src_mask is not None:
        m = np.asarray(src_mask.numpy())
        merged = m.reshape(n_batch, n_heads, *m.shape[1:]) if m.ndim == 3 else m[None, None]
    if key_padding_mask is not None:
        pad = np.asarray(key_padding_mask.numpy())
        merged = merged + pad.reshape(n_batch, 1, 1, pad.shape[-1])
    dead = np.isneginf(merged).all(-1).any(1)   # [N or 1, L or 1]
    return dead if dead.any() else None


def mark_fast_path_rows(layer, out, src, src_mask, key_padding_mask):
    """out (the layer's [N, L, E] result) with nan in the rows of fully masked queries, when torch
    takes its fast path for this call; else out unchanged (no mask: nothing to mark, and the
    fast-path conditions, ~70 us of attribute reads, are not looked at)."""
    if (src_mask is None and key_padding_mask is None) or not takes_fast_path(layer, src):
        return out
    N, L = src.shape[0], src.shape[1]
    dead = fully_masked_queries(src_mask, key_padding_mask, N, layer.self_attn.num_heads)
    if dead is None:
        return out
    dead = np.broadcast_to(dead, (N, L))[:, :, None]
    return out.masked_fill(Tensor(np.ascontiguousarray(dead), device=out.device), float("nan"))
