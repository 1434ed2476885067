"""The dropout between the layers of a stacked recurrent module, drawn as torch draws it."""
import numpy as np

from tinygrad_seq import functional as F, random
from tinygrad_seq.nn.utils import rnn as _rnn_utils
from tinygrad_seq.tensor import Tensor


def inter_layer_dropout(module, layer_in, lens):
    """layer_in [T, B, width], a layer's output, with module.dropout applied. On a PackedSequence
    (packed_forward sets module._packed_rows, flat indices into [T, B]) or with lengths= (the rows
    pack_padded_sequence(enforce_sorted=False) packs; lens, or None), torch drops from the packed
    data, one draw per valid step in packed order; padding stays 0."""
    rows = getattr(module, "_packed_rows", None)
    if rows is None and lens is not None:
        rows = _rnn_utils.lengths_rows(lens)
    if rows is None:
        return F.dropout(layer_in, module.dropout, True)
    T, B, width = layer_in.shape
    mask = np.zeros((T * B, width), layer_in.dtype)
    mask[rows] = random.bernoulli_mask(1.0 - module.dropout, (len(rows), width), layer_in.dtype)
    return layer_in * Tensor(mask.reshape(T, B, width), device=layer_in.device)
