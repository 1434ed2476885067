"""Two training steps whose time is mostly outside the recurrent kernels, ours and torch's, the
same code on each library: a word LM (Embedding 10000 x 256, LSTM 256, Linear 256 -> 10000,
cross_entropy, clip_grad_norm_, Adam; T=35, B=32) and an attention decoder (LSTM encoder over
S=30, 20 LSTMCell steps with LayerNorm, dot attention, softmax, a tanh output layer and a 1000-way
cross_entropy a step; B=32, H=256). float32, torch on as many threads as Numba.

    python bench/train_steps_vs_torch.py [--rounds 5]

Prints ms a step (best of `rounds` rounds of 5 steps) for each library, run alternately.
"""
import argparse
import time

import numpy as np

V, E, H, B, T, S, STEPS, CLASSES = 10000, 256, 256, 32, 35, 30, 20, 1000


def build(L):
    """(word_lm_step, attention_step) closures on library L (tinygrad_seq or torch)."""
    nn, F = L.nn, L.nn.functional
    L.manual_seed(0)
    rng = np.random.default_rng(0)
    emb, lstm, head = nn.Embedding(V, E), nn.LSTM(E, H), nn.Linear(H, V)
    params = list(emb.parameters()) + list(lstm.parameters()) + list(head.parameters())
    opt = L.optim.Adam(params, lr=1e-3)
    x, y = L.tensor(rng.integers(0, V, (T, B))), L.tensor(rng.integers(0, V, (T, B)))

    def word_lm_step():
        opt.zero_grad()
        out, _ = lstm(emb(x))
        loss = F.cross_entropy(head(out).reshape(-1, V), y.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(params, 0.25)
        opt.step()

    enc, dec, ln = nn.LSTM(H, H), nn.LSTMCell(H, H), nn.LayerNorm(H)
    att_out, proj = nn.Linear(2 * H, H), nn.Linear(H, CLASSES)
    p2 = [p for m in (enc, dec, ln, att_out, proj) for p in m.parameters()]
    opt2 = L.optim.Adam(p2, lr=1e-3)
    src = L.tensor(rng.standard_normal((S, B, H)).astype(np.float32))
    tgt = L.tensor(rng.integers(0, CLASSES, (STEPS, B)))

    def attention_step():
        opt2.zero_grad()
        mem, (h, c) = enc(src)
        h, c = h[0], c[0]
        memb = mem.transpose(0, 1)                          # [B, S, H]
        losses = []
        for t in range(STEPS):
            h, c = dec(ln(h), (h, c))
            scores = (memb @ h.unsqueeze(2)).squeeze(2)     # [B, S]
            a = F.softmax(scores, dim=1)
            context = (a.unsqueeze(1) @ memb).squeeze(1)    # [B, H]
            o = att_out(L.cat([context, h], dim=1)).tanh()
            losses.append(F.cross_entropy(proj(o), tgt[t]))
        (sum(losses) / STEPS).backward()
        nn.utils.clip_grad_norm_(p2, 1.0)
        opt2.step()

    return word_lm_step, attention_step


def best_ms(step, rounds, per_round=5):
    for _ in range(3):
        step()
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(per_round):
            step()
        best = min(best, (time.perf_counter() - t0) / per_round)
    return best * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    import torch
    import tinygrad_seq as ts
    torch.set_num_threads(ts.get_num_threads())
    libs = {"tinygrad_seq": build(ts), "torch": build(torch)}
    print(f"{'step':22} {'tinygrad_seq ms':>16} {'torch ms':>10}")
    for i, name in enumerate(("word LM", "attention decoder")):
        ours = best_ms(libs["tinygrad_seq"][i], args.rounds)
        theirs = best_ms(libs["torch"][i], args.rounds)
        print(f"{name:22} {ours:16.1f} {theirs:10.1f}")


if __name__ == "__main__":
    main()
