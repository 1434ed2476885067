"""nn.Transformer and its layers against torch's with the same state dict (dropout 0): outputs and
gradients, post-norm and norm_first, relu and gelu, masks, batch_first; pytorch/examples'
word_language_model TransformerModel pieces (generate_square_subsequent_mask)."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts
from tinygrad_seq import nn

D, HEADS, FF = 8, 2, 16
# torch's own notes about its nested-tensor fast path and mask types
pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor:UserWarning",
                                        "ignore:Support for mismatched:UserWarning")


def _load(ours, theirs):
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert list(ours.state_dict()) == list(theirs.state_dict())


def _compare(make, call, arrays):
    torch.manual_seed(0)
    theirs = make(torch.nn).double()
    ours = make(nn).double()
    _load(ours, theirs)
    results = []
    for lib, module in ((ts, ours), (torch, theirs)):
        xs = [lib.tensor(a, requires_grad=True) for a in arrays]
        out = call(lib, module, *xs)
        (out * lib.tensor(np.linspace(-1, 1, out.numel()).reshape(out.shape))).sum().backward()
        results.append([out.detach().numpy()] + [x.grad.numpy() for x in xs] +
                       [p.grad.numpy() for _, p in sorted(module.named_parameters())])
    for a, t in zip(*results):
        np.testing.assert_allclose(a, t, rtol=1e-8, atol=1e-10)


RNG = np.random.default_rng(0)
SRC, TGT = RNG.standard_normal((5, 2, D)), RNG.standard_normal((4, 2, D))
PAD = np.array([[False, False, False, True, True], [False, False, False, False, False]])


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_stack_matches_torch(norm_first, activation):
    def make(m):
        layer = m.TransformerEncoderLayer(D, HEADS, FF, dropout=0.0, activation=activation, norm_first=norm_first)
        return m.TransformerEncoder(layer, 2, norm=m.LayerNorm(D))

    def call(lib, module, src):
        mask = (nn.Transformer if lib is ts else torch.nn.Transformer).generate_square_subsequent_mask(5).double()
        return module(src, mask=mask, src_key_padding_mask=lib.tensor(PAD))
    _compare(make, call, [SRC])


@pytest.mark.parametrize("batch_first", [False, True])
def test_full_transformer_matches_torch(batch_first):
    def make(m):
        return m.Transformer(D, HEADS, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=FF, dropout=0.0,
                             batch_first=batch_first)

    def call(lib, module, src, tgt):
        if batch_first:
            src, tgt = src.transpose(0, 1), tgt.transpose(0, 1)
        tgt_mask = (nn.Transformer if lib is ts else torch.nn.Transformer).generate_square_subsequent_mask(4).double()
        return module(src, tgt, tgt_mask=tgt_mask, src_key_padding_mask=lib.tensor(PAD),
                      memory_key_padding_mask=lib.tensor(PAD))
    _compare(make, call, [SRC, TGT])


def test_decoder_layer_norm_first_matches_torch():
    def make(m):
        return m.TransformerDecoderLayer(D, HEADS, FF, dropout=0.0, norm_first=True, activation="gelu")
    _compare(make, lambda lib, module, tgt, mem: module(tgt, mem), [TGT, SRC])


def test_square_subsequent_mask_and_errors():
    m = nn.Transformer.generate_square_subsequent_mask(3)
    assert m.tolist() == torch.nn.Transformer.generate_square_subsequent_mask(3).tolist()
    with pytest.raises(RuntimeError, match="relu/gelu"):
        nn.TransformerEncoderLayer(D, HEADS, activation="tanh")
