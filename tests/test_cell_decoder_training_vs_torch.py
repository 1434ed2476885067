"""A PyTorch program that trains a decoder built from nn.LSTMCell / nn.GRUCell / nn.RNNCell
(teacher forcing over several steps, dot attention over an encoder's outputs, Adam, gradient
clipping), run unchanged on torch and on this library from the same weights: the losses and
every parameter after three steps agree (float64), through the fused one-step cells."""
import numpy as np
import pytest
import torch

import tinygrad_seq as ts

B, S, T, H, V = 3, 5, 4, 6, 7


def _program(L, cell_name, weights, data):
    nn, F = L.nn, L.nn.functional
    L.manual_seed(0)
    enc = nn.GRU(H, H, batch_first=True).double()
    dec = getattr(nn, cell_name)(2 * H, H).double()
    emb, out = nn.Embedding(V, H).double(), nn.Linear(2 * H, V).double()
    modules = {"enc": enc, "dec": dec, "emb": emb, "out": out}
    for m_name, m in modules.items():
        m.load_state_dict({k: L.tensor(v) for k, v in weights[m_name].items()})
    params = [p for m in modules.values() for p in m.parameters()]
    opt = L.optim.Adam(params, lr=0.05)
    src, tgt = L.tensor(data["src"]), L.tensor(data["tgt"])
    losses = []
    for _ in range(3):
        opt.zero_grad()
        mem, h_enc = enc(src)                          # (B, S, H), (1, B, H)
        h = h_enc[0]
        state = (h, L.zeros_like(h)) if cell_name == "LSTMCell" else h
        ctx = L.zeros(B, H, dtype=L.float64)
        loss = 0
        for t in range(T):
            inp = L.cat([emb(tgt[:, t]), ctx], dim=1)
            state = dec(inp, state)
            h = state[0] if isinstance(state, tuple) else state
            attn = F.softmax(L.bmm(mem, h.unsqueeze(2)).squeeze(2), dim=1)
            ctx = L.bmm(attn.unsqueeze(1), mem).squeeze(1)
            loss = loss + F.cross_entropy(out(L.cat([h, ctx], dim=1)), tgt[:, (t + 1) % T])
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        losses.append(loss.item())
    return losses, {f"{m_name}.{k}": v.detach().numpy() for m_name, m in modules.items()
                    for k, v in m.state_dict().items()}


@pytest.mark.parametrize("cell_name", ["LSTMCell", "GRUCell", "RNNCell"])
def test_cell_decoder_trains_as_torchs(cell_name):
    torch.manual_seed(0)
    shapes = {"enc": torch.nn.GRU(H, H, batch_first=True), "dec": getattr(torch.nn, cell_name)(2 * H, H),
              "emb": torch.nn.Embedding(V, H), "out": torch.nn.Linear(2 * H, V)}
    weights = {n: {k: v.double().numpy().copy() for k, v in m.state_dict().items()} for n, m in shapes.items()}
    rng = np.random.default_rng(0)
    data = {"src": rng.standard_normal((B, S, H)), "tgt": rng.integers(0, V, (B, T))}
    theirs = _program(torch, cell_name, weights, data)
    ours = _program(ts, cell_name, weights, data)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-10)
    assert ours[1].keys() == theirs[1].keys()
    for k in theirs[1]:
        np.testing.assert_allclose(ours[1][k], theirs[1][k], rtol=1e-9, atol=1e-11, err_msg=k)
