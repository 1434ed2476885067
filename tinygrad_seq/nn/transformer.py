"""torch's Transformer modules (nn.TransformerEncoderLayer, TransformerEncoder,
TransformerDecoderLayer, TransformerDecoder, Transformer) over nn.MultiheadAttention, with
torch's submodule names (so state dicts move both ways), post-norm or norm_first, relu / gelu /
a callable activation, batch_first. pytorch/examples' word_language_model TransformerModel
builds on these; the recurrent layers stay this library's focus."""
import copy
import warnings

import numpy as np

from tinygrad_seq import functional as F
from tinygrad_seq.autograd import is_grad_enabled
from tinygrad_seq.nn.attention_masks import canonical_mask
from tinygrad_seq.nn.container import ModuleList
from tinygrad_seq.nn.init import xavier_uniform_
from tinygrad_seq.nn.layers import Dropout, LayerNorm, Linear
from tinygrad_seq.nn.module import Module
from tinygrad_seq.nn.multihead import MultiheadAttention
from tinygrad_seq.nn.transformer_fast_path import mark_fast_path_rows, relu_or_gelu, relu_or_gelu_code
from tinygrad_seq.tensor import Tensor


def _activation(activation):
    if callable(activation):
        return activation
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


class _FeedForward:
    """The position-wise block both layers share: linear2(dropout(act(linear1(x)))), then the
    residual branch's dropout."""

    def _ff_setup(self, d_model, dim_feedforward, dropout, bias, dtype):
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)

    def _ff_block(self, x, out_dropout):
        return out_dropout(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoderLayer(_FeedForward, Module):
    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        Module.__init__(self)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            dtype=dtype)
        self._ff_setup(d_model, dim_feedforward, dropout, bias, dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1, self.dropout2 = Dropout(dropout), Dropout(dropout)
        activation = _activation(activation)
        self.activation_relu_or_gelu = relu_or_gelu_code(activation)   # torch's flag (its fast path reads it)
        self.activation = activation   # last, as torch's (a Module one prints last)
        _place(self, device, None)   # (made in dtype: torch draws float64 weights from its float64 stream)

    def __setstate__(self, state):
        """torch's: a pickle made before `activation` existed gets relu (a Module activation, in
        _modules, is found and kept)."""
        super().__setstate__(state)
        if not hasattr(self, "activation"):
            self.activation = F.relu

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        src_key_padding_mask = canonical_mask(src_key_padding_mask, "src_key_padding_mask", src_mask, "src_mask",
                                              src.dtype)
        src_mask = canonical_mask(src_mask, "src_mask", None, "", src.dtype, check_other=False)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x), self.dropout2)
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x, self.dropout2))
        # torch's fused inference kernel gives a query whose keys are all masked a nan row
        return mark_fast_path_rows(self, x, src, src_mask, src_key_padding_mask)


class TransformerDecoderLayer(_FeedForward, Module):
    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu", layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        Module.__init__(self)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            dtype=dtype)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                                 dtype=dtype)
        self._ff_setup(d_model, dim_feedforward, dropout, bias, dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1, self.dropout2, self.dropout3 = Dropout(dropout), Dropout(dropout), Dropout(dropout)
        self.activation = _activation(activation)   # last, as torch's (a Module one prints last)
        _place(self, device, None)   # (made in dtype: torch draws float64 weights from its float64 stream)

    def __setstate__(self, state):
        """torch's: `activation` missing from the instance dict becomes F.relu, before the state
        is set. A Module activation (nn.GELU()) lives in _modules, so a deep copy or unpickling of
        the layer (TransformerDecoder's clones) then computes relu (its GELU stays in _modules,
        shadowed), as torch's does."""
        if "activation" not in state:
            state["activation"] = F.relu
        super().__setstate__(state)

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                need_weights=False, is_causal=is_causal)[0]
        return self.dropout2(x)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            return x + self._ff_block(self.norm3(x), self.dropout3)
        x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
        x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
        return self.norm3(x + self._ff_block(x, self.dropout3))


class TransformerEncoder(Module):
    """num_layers copies of encoder_layer (deep copies, as torch's), then norm if given.

    torch runs an eval-mode batch_first encoder with a key padding mask on nested tensors, which
    leaves exact zeros at the padded positions (before the final norm); the same conditions give
    the same zeros here (the valid positions are computed alike either way)."""

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True):
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(encoder_layer) for _ in range(num_layers)])
        self.num_layers, self.norm, self.mask_check = num_layers, norm, mask_check
        why_not = _why_not_nested(encoder_layer)
        if enable_nested_tensor and why_not:
            warnings.warn(f"enable_nested_tensor is True, but self.use_nested_tensor is False because {why_not}",
                          UserWarning, stacklevel=2)
        self.use_nested_tensor = enable_nested_tensor and not why_not

    def _zeros_padding(self, src, mask, src_key_padding_mask):
        if not (self.use_nested_tensor and not self.layers[0].training and src.ndim == 3
                and src_key_padding_mask is not None and mask is None):
            return None
        pad = src_key_padding_mask.numpy().astype(bool)
        if self.mask_check and (np.diff(pad.astype(np.int8), axis=1) < 0).any():   # not left aligned
            return None
        layer = self.layers[0]
        weights = (src, layer.self_attn.in_proj_weight, layer.self_attn.in_proj_bias, layer.self_attn.out_proj.weight,
                   layer.linear1.weight, layer.linear2.weight, layer.norm1.weight, layer.norm2.weight)
        if is_grad_enabled() and any(w is not None and w.requires_grad for w in weights):
            return None
        return pad

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        # torch's _canonical_mask: bool masks made additive (-inf where True), so that the layers
        # see float masks of src's dtype and do not warn again about mismatched dtypes
        src_key_padding_mask = canonical_mask(src_key_padding_mask, "src_key_padding_mask", mask, "mask", src.dtype)
        mask = canonical_mask(mask, "mask", None, "", src.dtype, check_other=False)
        nested_pad = self._zeros_padding(src, mask, src_key_padding_mask)
        if nested_pad is not None:
            _warn_nested_prototype()
        out = src
        for layer in self.layers:
            out = layer(out, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=bool(is_causal))
        if nested_pad is not None:
            out = out.masked_fill(Tensor(nested_pad[:, :, None], device=out.device), 0.0)
        return self.norm(out) if self.norm is not None else out


_NESTED_PROTOTYPE = ("The PyTorch API of nested tensors is in prototype stage and will change in the near future. "
                     "We recommend specifying layout=torch.jagged when constructing a nested tensor, as this layout "
                     "receives active development, has better operator coverage, and works with torch.compile.")
_nested_said = []


def _warn_nested_prototype():
    """torch's TORCH_WARN_ONCE where its encoder makes nested tensors: once a process, at the
    library's line (as torch's points into its transformer.py)."""
    if not _nested_said:
        _nested_said.append(True)
        warnings.warn(_NESTED_PROTOTYPE, UserWarning, stacklevel=2)


def _why_not_nested(layer):
    """torch's reasons an encoder does not take its nested-tensor path ('' when it does)."""
    if not isinstance(layer, TransformerEncoderLayer):
        return "encoder_layer was not TransformerEncoderLayer"
    attn = layer.self_attn
    for failed, reason in ((layer.norm_first, "encoder_layer.norm_first was True"),
                           (not attn.batch_first, "encoder_layer.self_attn.batch_first was not True(use batch_first "
                                                  "for better inference performance)"),
                           (not attn._qkv_same_embed_dim, "encoder_layer.self_attn._qkv_same_embed_dim was not True"),
                           (attn.in_proj_bias is None, "encoder_layer.self_attn was passed bias=False"),
                           (not relu_or_gelu(layer),
                            "encoder_layer.activation_relu_or_gelu was not True"),
                           (layer.norm1.eps != layer.norm2.eps,
                            "encoder_layer.norm1.eps was not equal to encoder_layer.norm2.eps"),
                           (attn.num_heads % 2 == 1, "encoder_layer.self_attn.num_heads is odd")):
        if failed:
            return reason
    return ""


class TransformerDecoder(Module):
    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = ModuleList([copy.deepcopy(decoder_layer) for _ in range(num_layers)])
        self.num_layers, self.norm = num_layers, norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        out = tgt
        for layer in self.layers:
            out = layer(out, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                        tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                        tgt_is_causal=bool(tgt_is_causal), memory_is_causal=memory_is_causal)
        return self.norm(out) if self.norm is not None else out


class Transformer(Module):
    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6, dim_feedforward=2048,
                 dropout=0.1, activation="relu", custom_encoder=None, custom_decoder=None, layer_norm_eps=1e-5,
                 batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        layer_args = dict(dim_feedforward=dim_feedforward, dropout=dropout, activation=activation, dtype=dtype,
                          layer_norm_eps=layer_norm_eps, batch_first=batch_first, norm_first=norm_first, bias=bias)
        self.encoder = custom_encoder if custom_encoder is not None else TransformerEncoder(
            TransformerEncoderLayer(d_model, nhead, **layer_args), num_encoder_layers,
            LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        self.decoder = custom_decoder if custom_decoder is not None else TransformerDecoder(
            TransformerDecoderLayer(d_model, nhead, **layer_args), num_decoder_layers,
            LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        self._reset_parameters()
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first
        _place(self, device, dtype)   # (custom encoders and decoders: cast, as torch's .to would)

    def _reset_parameters(self):
        """torch's: xavier_uniform_ on every parameter of more than one dimension."""
        for p in self.parameters():
            if p.ndim > 1:
                xavier_uniform_(p)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        batched = src.ndim == 3   # torch's checks, before the encoder runs
        if batched and src.shape[0 if self.batch_first else 1] != tgt.shape[0 if self.batch_first else 1]:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                            memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """[sz, sz] float mask: -inf above the diagonal (future positions), 0 elsewhere."""
        from tinygrad_seq import dtypes
        dt = np.dtype(dtype or dtypes.get_default_dtype())
        return Tensor(np.triu(np.full((sz, sz), -np.inf, dt), 1), device=device or "cpu")


def _place(module, device, dtype):
    if dtype is not None or device is not None:
        module.to(device=device, dtype=dtype)
