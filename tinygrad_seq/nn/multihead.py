"""nn.MultiheadAttention: torch's module, parameters and call, composed from Tensor ops.

Parameters as torch names them, so state dicts move both ways: in_proj_weight [3E, E] and
in_proj_bias [3E] (or q_proj_weight / k_proj_weight / v_proj_weight when kdim or vdim differ
from embed_dim), out_proj.weight [E, E], out_proj.bias [E]; bias_k / bias_v with add_bias_kv.
forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
average_attn_weights=True, is_causal=False) -> (output [L, N, E] (batch_first: [N, L, E]),
weights [N, L, S] averaged over heads, or [N, heads, L, S], or None).
"""
import math

import numpy as np

from tinygrad_seq import functional as F
from tinygrad_seq.errors import DTypeMismatch, ShapeAssertion, ShapeMismatch
from tinygrad_seq.functional_extra import softmax_zero_blocked_rows
from tinygrad_seq.nn import init
from tinygrad_seq.nn.attention_masks import canonical_mask
from tinygrad_seq.nn.layers import Linear
from tinygrad_seq.nn.mha_checks import (causal_mask, check_attn_mask, check_key_padding_mask, check_key_value,
                                         mha_shape_check)
from tinygrad_seq.nn.module import Module, Parameter
from tinygrad_seq.nn.transformer_fast_path import mha_takes_fast_path
from tinygrad_seq.tensor import Tensor

# torch's C++ names of the float dtypes, as its baddbmm message gives them
_C_NAMES = {np.dtype(np.float16): "c10::Half", np.dtype(np.float32): "float", np.dtype(np.float64): "double"}


class NonDynamicallyQuantizableLinear(Linear):
    """torch's name for MultiheadAttention's out_proj (a Linear; the name shows in print(model))."""

class MultiheadAttention(Module):
    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads} instead")
        if embed_dim % num_heads:
            raise AssertionError("embed_dim must be divisible by num_heads")
        self.embed_dim, self.num_heads, self.dropout, self.batch_first = embed_dim, num_heads, dropout, batch_first
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.head_dim = embed_dim // num_heads
        self.add_zero_attn = add_zero_attn
        from tinygrad_seq import dtypes
        dt = np.dtype(dtype or dtypes.get_default_dtype())

        def param(*shape):
            return Parameter(Tensor(np.zeros(shape, dt)))
        if self._qkv_same_embed_dim:
            self.in_proj_weight = param(3 * embed_dim, embed_dim)
            self.q_proj_weight = self.k_proj_weight = self.v_proj_weight = None
        else:
            self.q_proj_weight = param(embed_dim, embed_dim)
            self.k_proj_weight = param(embed_dim, self.kdim)
            self.v_proj_weight = param(embed_dim, self.vdim)
            self.in_proj_weight = None
        self.in_proj_bias = param(3 * embed_dim) if bias else None
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, dtype=dt)
        self.bias_k = param(1, 1, embed_dim) if add_bias_kv else None
        self.bias_v = param(1, 1, embed_dim) if add_bias_kv else None
        self._reset_parameters()
        if device is not None:
            self.to(device)

    def _reset_parameters(self):
        # torch's: xavier_uniform_ projections, zero biases (out_proj's weight keeps Linear's init)
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _project(self, query, key, value):
        E = self.embed_dim
        b = self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:E], b[E:2 * E], b[2 * E:])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            wq, wk, wv = w[:E], w[E:2 * E], w[2 * E:]
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        return F.linear(query, wq, bq), F.linear(key, wk, bk), F.linear(value, wv, bv)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        # torch's module forward (skipped when F.multi_head_attention_forward runs this code):
        # _canonical_mask (bool masks made additive, mismatched mask dtypes warned about) and the
        # batch_first transpose of a 3-D query; then its multi_head_attention_forward
        # torch's fast path (self-attention at inference) leaves a fully masked query's row nan
        fast = (isinstance(self, MultiheadAttention) and (attn_mask is not None or key_padding_mask is not None)
                and mha_takes_fast_path(self, query, key, value, attn_mask, key_padding_mask))
        if isinstance(self, MultiheadAttention):
            key_padding_mask = canonical_mask(key_padding_mask, "key_padding_mask", attn_mask, "attn_mask",
                                              query.dtype)
            attn_mask = canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
            if self.batch_first and query.ndim == 3:
                query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        batched = mha_shape_check(query, key, value, key_padding_mask, attn_mask, self.num_heads)
        if not batched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        L, N, E = query.shape
        S = key.shape[0]
        key_padding_mask = canonical_mask(key_padding_mask, "key_padding_mask", attn_mask, "attn_mask", query.dtype)
        if is_causal and attn_mask is None:   # torch's: is_causal is only a hint about attn_mask
            raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer "
                               "module method `generate_square_subsequent_mask` to create this mask.")
        # torch's: with no key padding mask and no weights wanted the hint is trusted, attn_mask
        # dropped unread (its shape unchecked) and the causal mask used instead
        causal = is_causal and key_padding_mask is None and not need_weights
        attn_mask = None if causal else canonical_mask(attn_mask, "attn_mask", None, "", query.dtype,
                                                       check_other=False)
        if E != self.embed_dim:
            raise ShapeAssertion(f"was expecting embedding dimension of {self.embed_dim}, but got {E}")
        check_key_value(key, value, not self._qkv_same_embed_dim)
        if key.shape[1] != N:
            raise ShapeMismatch(f"key {key.shape} and value {value.shape} must match the query's batch ({N})")
        H, D = self.num_heads, self.head_dim
        q, k, v = self._project(query, key, value)
        if attn_mask is not None:
            check_attn_mask(attn_mask, L, N, S, H)
        if self.bias_k is not None:   # one more key / value position, learned
            k = F.pad(k, (0, 0, 0, 0, 0, 1)) + F.pad(self.bias_k.expand(1, N, E), (0, 0, 0, 0, S, 0))
            v = F.pad(v, (0, 0, 0, 0, 0, 1)) + F.pad(self.bias_v.expand(1, N, E), (0, 0, 0, 0, S, 0))
            attn_mask = None if attn_mask is None else F.pad(attn_mask, (0, 1))
            key_padding_mask = None if key_padding_mask is None else F.pad(key_padding_mask, (0, 1))
            S += 1
        # [L, N, E] -> [N, H, L, D]
        q = q.reshape(L, N, H, D).permute(1, 2, 0, 3)
        k = k.reshape(S, N, H, D).permute(1, 2, 0, 3)
        v = v.reshape(S, N, H, D).permute(1, 2, 0, 3)
        if self.add_zero_attn:   # one more all-zero key / value position
            k = F.pad(k, (0, 0, 0, 1))
            v = F.pad(v, (0, 0, 0, 1))
            attn_mask = None if attn_mask is None else F.pad(attn_mask, (0, 1))
            key_padding_mask = None if key_padding_mask is None else F.pad(key_padding_mask, (0, 1))
            S += 1
        if key_padding_mask is not None:
            check_key_padding_mask(key_padding_mask, S, N)
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(D))   # [N, H, L, S]
        mask = causal_mask(L, S, scores.dtype, scores.device) if causal else self._mask(attn_mask, key_padding_mask,
                                                                                         N, L, S, scores, need_weights)
        if mask is not None:
            scores = scores + mask
        if not need_weights and mask is not None and not fast:
            # torch's need_weights=False path (scaled_dot_product_attention) gives a query whose
            # keys are all masked zero attention and zero gradients, where the softmax is nan
            weights = softmax_zero_blocked_rows(scores, np.isneginf(mask.numpy()).all(-1, keepdims=True))
        else:
            weights = F.softmax(scores, -1)
        if self.dropout > 0.0 and self.training:
            weights = F.dropout(weights, self.dropout, True)
        out = (weights @ v).permute(2, 0, 1, 3).reshape(L, N, E)   # [L, N, E]
        out = self.out_proj(out)
        if self.batch_first and batched:
            out = out.transpose(0, 1)
        if not batched:
            out = out.squeeze(1)
        if not need_weights:
            return out, None
        # a view when not averaged, as torch's: its own node, so that retain_grad / hooks / autograd.grad
        # on the returned weights see only the gradient that reaches them, not the output's
        w = weights.mean(1) if average_attn_weights else weights.view(tuple(weights.shape))
        return out, (w if batched else w.squeeze(0))

    def merge_masks(self, attn_mask, key_padding_mask, query):
        """torch's: (merged mask, mask type). key_padding_mask [N, S] alone: itself, type 1;
        attn_mask [L, S] or [N*H, L, S]: expanded to [N, H, L, S], type 2, plus the key padding
        mask expanded the same way when both are given; neither: (None, None)."""
        mask_type, merged = None, None
        if key_padding_mask is not None:
            mask_type, merged = 1, key_padding_mask
        if attn_mask is not None:
            batch, seq_len, _ = query.shape
            mask_type = 2
            if attn_mask.dim() == 3:
                merged = attn_mask.view(batch, -1, seq_len, seq_len)
            else:
                merged = attn_mask.view(1, 1, seq_len, seq_len).expand(batch, self.num_heads, -1, -1)
            if key_padding_mask is not None:
                merged = merged + key_padding_mask.view(batch, 1, 1, seq_len).expand(-1, self.num_heads, -1, -1)
        return merged, mask_type

    def _mask(self, attn_mask, key_padding_mask, N, L, S, scores, strict=True):
        """The additive mask, [N, H, L, S] or broadcastable to it, in scores' dtype and device: the
        sum of attn_mask ([L, S] or [N*H, L, S]) and key_padding_mask ([N, S]), both already
        additive float masks (canonical_mask) of checked shapes."""
        total = None
        if attn_mask is not None:
            total = attn_mask.reshape(N, self.num_heads, L, S) if attn_mask.ndim == 3 else attn_mask
        if key_padding_mask is not None:
            pad = key_padding_mask.reshape(N, 1, 1, S)
            total = pad if total is None else total + pad
        # torch's need_weights path (a baddbmm of the mask and the scores) refuses another float dtype;
        # its scaled_dot_product_attention path (need_weights=False) takes float32 too
        if total is not None and not strict and total.dtype not in (np.float32, scores.dtype):
            raise DTypeMismatch(f"Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                                f"attn_mask.dtype: {_C_NAMES[total.dtype]} and  query.dtype: "
                                f"{_C_NAMES[scores.dtype]} instead.")
        if strict and total is not None and total.dtype != scores.dtype:
            raise DTypeMismatch(f"Input dtypes must be the same, got: input {_C_NAMES.get(total.dtype, total.dtype)}, "
                                f"batch1: {_C_NAMES.get(scores.dtype, scores.dtype)}, "
                                f"batch2: {_C_NAMES.get(scores.dtype, scores.dtype)}")
        return None if total is None else total.to(device=scores.device, dtype=scores.dtype)
