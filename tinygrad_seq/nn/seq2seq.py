r"""Encoder-decoder with attention (Luong et al. 2015, "input feeding").

Encoder: embedding + (bidirectional, multi-layer) LSTM or GRU over the padded source, with each
sequence's length, so padding never enters a state. Its outputs are the attention keys.

Decoder, one step t (tokens y_{t-1}, attentional state a_{t-1}, a_0 = 0):

    s_t           = RNN([embed(y_{t-1}); a_{t-1}], s_{t-1})      input feeding
    c_t, w_t      = attention(top layer of s_t, encoder outputs, source mask)
    a_t           = tanh(W_c [h_t; c_t])
    logits_t      = W_out a_t

The decoder's initial state is tanh(Linear) of the encoder's final states, both directions
concatenated, layer by layer (a "bridge"; one for h and one for c with LSTMs).

Seq2Seq ties them and adds teacher-forced training (with scheduled sampling), greedy decoding
and beam search. Decoding bookkeeping (choosing tokens, beams, finished hypotheses) is numpy on
the host; each model step is Tensor ops.
"""
from __future__ import annotations

import collections

import numpy as np

from tinygrad_seq import functional as F
from tinygrad_seq import random
from tinygrad_seq.autograd import no_grad
from tinygrad_seq.creation import cat, stack
from tinygrad_seq.nn.attention import BahdanauAttention, LuongAttention
from tinygrad_seq.nn.layers import Dropout, Embedding, Linear
from tinygrad_seq.nn.module import Module
from tinygrad_seq.nn.variants import LAYERS, layer_class
from tinygrad_seq.tensor import Tensor

DecodeResult = collections.namedtuple("DecodeResult", ["tokens", "attention", "lengths"])
DecodeResult.__doc__ = """Greedy decoding: tokens (B, L) int64 (eos included, pad after it),
attention (B, L, S) (zero rows after eos), lengths (B,) tokens produced including eos."""
Hypothesis = collections.namedtuple("Hypothesis", ["tokens", "score", "log_prob", "attention"])
Hypothesis.__doc__ = """One beam search result: tokens (n,) int64 (eos last if it was produced),
score = log_prob / n ** length_penalty, log_prob the summed token log-probabilities, attention
(n, S)."""


def _rnn_cls(rnn_type):
    """The recurrent layer class for rnn_type: "lstm", "gru" or a variant (nn/variants.py LAYERS)."""
    try:
        return layer_class(rnn_type)
    except ValueError:
        raise ValueError(f"rnn_type must be 'lstm' or 'gru' (or one of {sorted(LAYERS)}), got {rnn_type!r}") from None


def _host_ints(x, what):
    arr = x.numpy() if isinstance(x, Tensor) else np.asarray(x)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{what} must hold integer token ids, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def _check_source(src, src_lengths):
    """-> (src (B, S) int64, lengths (B,) int64), with clear errors for bad input."""
    s = _host_ints(src, "src")
    if s.ndim != 2:
        raise ValueError(f"src must be (batch, source length), got shape {s.shape}")
    lens = _host_ints(src_lengths, "src_lengths").reshape(-1)
    if lens.shape[0] != s.shape[0]:
        raise ValueError(f"src has batch size {s.shape[0]} but src_lengths has {lens.shape[0]} entries")
    bad = np.nonzero((lens < 1) | (lens > s.shape[1]))[0]
    if bad.size:
        i = int(bad[0])
        raise ValueError(f"src_lengths[{i}] = {int(lens[i])} is out of range 1..{s.shape[1]} "
                         "(every source sequence needs at least one token, and at most the padded width)")
    return s, lens


class Encoder(Module):
    """Embedding + LSTM/GRU over padded token ids.

    Call: ``encoder(src, lengths)`` with src (B, S) int token ids and lengths (B,) ->
    ``outputs (B, S, H * num_directions)`` (zero past each length) and ``state``: the final
    hidden state per layer with the directions concatenated, (num_layers, B, H * num_directions),
    or a pair (h, c) of those for LSTMs.
    """
    def __init__(self, vocab_size, embed_size, hidden_size, num_layers=1, rnn_type="lstm",
                 bidirectional=True, dropout=0.0, padding_idx=0):
        super().__init__()
        self.hidden_size, self.num_layers, self.bidirectional = hidden_size, num_layers, bidirectional
        self.rnn_type = rnn_type.lower()
        self.output_size = hidden_size * (2 if bidirectional else 1)
        self.embedding = Embedding(vocab_size, embed_size, padding_idx=padding_idx)
        self.dropout = Dropout(dropout)
        self.rnn = _rnn_cls(rnn_type)(embed_size, hidden_size, num_layers, batch_first=True,
                                      dropout=dropout, bidirectional=bidirectional)

    def _merge_directions(self, h):
        """(num_layers * dirs, B, H) -> (num_layers, B, dirs * H)."""
        if not self.bidirectional:
            return h
        L, B, H = self.num_layers, h.shape[1], self.hidden_size
        return h.reshape(L, 2, B, H).permute(0, 2, 1, 3).reshape(L, B, 2 * H)

    def forward(self, src, lengths):
        s, lens = _check_source(src, lengths)
        dev = self.embedding.weight.device
        x = self.dropout(self.embedding(Tensor(s, device=dev)))     # (B, S, E)
        out, state = self.rnn(x, lengths=lens)
        if isinstance(state, tuple):  # (h, c) of the LSTM-like cells
            state = (self._merge_directions(state[0]), self._merge_directions(state[1]))
        else:
            state = self._merge_directions(state)
        return out, state


class Decoder(Module):
    """Embedding + LSTM/GRU with input feeding + attention + output layer (one step per call).

    Args: vocab_size, embed_size, hidden_size, key_size (the encoder's output size),
    num_layers=1, rnn_type="lstm", attention="general" (a LuongAttention method: "dot",
    "general", "concat"; or "bahdanau"), dropout=0.0, padding_idx=0.
    """
    def __init__(self, vocab_size, embed_size, hidden_size, key_size, num_layers=1, rnn_type="lstm",
                 attention="general", dropout=0.0, padding_idx=0):
        super().__init__()
        self.vocab_size, self.hidden_size, self.num_layers = vocab_size, hidden_size, num_layers
        self.rnn_type = rnn_type.lower()
        self.embedding = Embedding(vocab_size, embed_size, padding_idx=padding_idx)
        self.dropout = Dropout(dropout)
        self.rnn = _rnn_cls(rnn_type)(embed_size + hidden_size, hidden_size, num_layers, dropout=dropout)
        if attention == "bahdanau":
            self.attention = BahdanauAttention(hidden_size, key_size, hidden_size)
        elif attention in LuongAttention.METHODS:
            self.attention = LuongAttention(hidden_size, key_size, attention)
        else:
            raise ValueError(f"attention must be 'bahdanau' or one of Luong's {LuongAttention.METHODS}, "
                             f"got {attention!r}")
        self.combine = Linear(hidden_size + key_size, hidden_size, bias=False)
        self.out = Linear(hidden_size, vocab_size)

    def memory(self, enc_out, mask):
        """What every step attends to: (keys, mask or None, projected keys)."""
        return enc_out, mask, self.attention.project_keys(enc_out)

    def step(self, emb, state, memory):
        """emb (B, E) embedded input tokens; state (rnn state, feed (B, H)) ->
        (attentional hidden a_t (B, H), new state, attention weights (B, S))."""
        rnn_state, feed = state
        x = cat([emb, feed], dim=1).unsqueeze(0)                   # (1, B, E + H)
        out, rnn_state = self.rnn(x, rnn_state)
        h = out[0]                                                  # top layer (B, H)
        keys, mask, proj = memory
        context, weights = self.attention(h, keys, mask, projected_keys=proj)
        a = self.combine(cat([h, context], dim=1)).tanh()
        return a, (rnn_state, a), weights

    def logits(self, a):
        return self.out(self.dropout(a))


class Seq2Seq(Module):
    """Encoder-decoder with attention.

    Args: src_vocab_size, tgt_vocab_size, embed_size=64, hidden_size=128 (decoder, and encoder
    per direction), num_layers=1, rnn_type="lstm" or "gru", attention="general" (see Decoder),
    bidirectional=True, dropout=0.0, pad_idx=0, bos_idx=1, eos_idx=2 (the target vocabulary's;
    seqdata.Vocab's defaults), teacher_forcing_ratio=1.0.

    ``model(src, src_lengths, tgt_in)`` -> (logits (B, T, V), attention (B, T, S)) with tgt_in
    (B, T) = bos + target (padded with pad_idx). ``model.loss(logits, tgt_out)`` is the mean
    cross entropy over the non-pad positions of tgt_out = target + eos.
    """
    def __init__(self, src_vocab_size, tgt_vocab_size, embed_size=64, hidden_size=128, num_layers=1,
                 rnn_type="lstm", attention="general", bidirectional=True, dropout=0.0, pad_idx=0,
                 bos_idx=1, eos_idx=2, teacher_forcing_ratio=1.0):
        super().__init__()
        for name, idx in (("pad_idx", pad_idx), ("bos_idx", bos_idx), ("eos_idx", eos_idx)):
            if not isinstance(idx, (int, np.integer)) or not 0 <= idx < tgt_vocab_size:
                raise ValueError(f"{name} = {idx!r} is not a token of the target vocabulary (0..{tgt_vocab_size - 1})")
        if pad_idx == eos_idx or pad_idx == bos_idx:
            # decoding never emits pad: with eos == pad no sequence would ever end
            raise ValueError(f"pad_idx ({pad_idx}) must differ from bos_idx ({bos_idx}) and eos_idx ({eos_idx})")
        self.config = dict(src_vocab_size=src_vocab_size, tgt_vocab_size=tgt_vocab_size,
                           embed_size=embed_size, hidden_size=hidden_size, num_layers=num_layers,
                           rnn_type=rnn_type, attention=attention, bidirectional=bidirectional,
                           dropout=dropout, pad_idx=pad_idx, bos_idx=bos_idx, eos_idx=eos_idx,
                           teacher_forcing_ratio=teacher_forcing_ratio)
        self.pad_idx, self.bos_idx, self.eos_idx = pad_idx, bos_idx, eos_idx
        self.teacher_forcing_ratio = teacher_forcing_ratio
        self.encoder = Encoder(src_vocab_size, embed_size, hidden_size, num_layers, rnn_type,
                               bidirectional, dropout, pad_idx)
        self.is_lstm = len(self.encoder.rnn.cell_spec.states) == 2  # a cell state c to bridge too
        if attention == "dot" and self.encoder.output_size != hidden_size:
            raise ValueError(f"attention='dot' scores a decoder state ({hidden_size}) against the encoder's "
                             f"outputs ({self.encoder.output_size}, bidirectional={bidirectional}): they must be "
                             "the same size; use bidirectional=False, or 'general', 'concat' or 'bahdanau'")
        self.decoder = Decoder(tgt_vocab_size, embed_size, hidden_size, self.encoder.output_size,
                               num_layers, rnn_type, attention, dropout, pad_idx)
        self.bridge_h = Linear(self.encoder.output_size, hidden_size)
        if self.is_lstm:
            self.bridge_c = Linear(self.encoder.output_size, hidden_size)

    @property
    def device(self):
        return self.decoder.out.weight.device

    # ------------------------------------------------------------ shared pieces
    def encode(self, src, src_lengths):
        """-> (memory for the decoder, initial decoder state)."""
        s, lens = _check_source(src, src_lengths)
        enc_out, enc_state = self.encoder(s, lens)
        mask = None if np.all(lens == s.shape[1]) else np.arange(s.shape[1])[None, :] < lens[:, None]
        if self.is_lstm:
            rnn_state = (self.bridge_h(enc_state[0]).tanh(), self.bridge_c(enc_state[1]).tanh())
        else:
            rnn_state = self.bridge_h(enc_state).tanh()
        B = s.shape[0]
        feed = Tensor(np.zeros((B, self.decoder.hidden_size), enc_out.dtype), device=enc_out.device)
        return self.decoder.memory(enc_out, mask), (rnn_state, feed)

    def _embed(self, tokens):
        return self.decoder.dropout(self.decoder.embedding(Tensor(tokens, device=self.device)))

    # ------------------------------------------------------------ training
    def forward(self, src, src_lengths, tgt_in, teacher_forcing_ratio=None):
        """Teacher-forced decoding of tgt_in (B, T). With teacher_forcing_ratio < 1 each input
        token after the first is, with probability 1 - ratio (per sequence and step), the
        model's own previous prediction instead (scheduled sampling)."""
        ratio = self.teacher_forcing_ratio if teacher_forcing_ratio is None else teacher_forcing_ratio
        if not 0.0 <= ratio <= 1.0:
            raise ValueError(f"teacher_forcing_ratio must be in [0, 1], got {ratio}")
        tgt = _host_ints(tgt_in, "tgt_in")
        if tgt.ndim != 2 or tgt.shape[1] == 0:
            raise ValueError(f"tgt_in must be (batch, target length) with at least one step, got shape {tgt.shape}")
        src, src_lengths = _check_source(src, src_lengths)
        if tgt.shape[0] != src.shape[0]:
            raise ValueError(f"src has batch size {src.shape[0]} but tgt_in has batch size {tgt.shape[0]}")
        memory, state = self.encode(src, src_lengths)
        T = tgt.shape[1]
        if ratio >= 1.0:
            emb_all = self._embed(tgt)                               # (B, T, E), one lookup
            outs, attn = [], []
            for t in range(T):
                a, state, w = self.decoder.step(emb_all[:, t], state, memory)
                outs.append(a)
                attn.append(w)
            logits = self.decoder.logits(stack(outs, 1))              # (B, T, V), one GEMM
            return logits, stack(attn, 1)
        rng = random.generator()
        tokens = tgt[:, 0]
        logits, attn = [], []
        for t in range(T):
            a, state, w = self.decoder.step(self._embed(tokens), state, memory)
            lg = self.decoder.logits(a)
            logits.append(lg)
            attn.append(w)
            if t + 1 < T:
                own = lg.numpy().argmax(axis=1)
                tokens = np.where(rng.random(len(own)) < ratio, tgt[:, t + 1], own)
        return stack(logits, 1), stack(attn, 1)

    def loss(self, logits, tgt_out):
        """Mean cross entropy over the positions where tgt_out is not pad_idx."""
        V = logits.shape[-1]
        t = _host_ints(tgt_out, "tgt_out")
        if t.shape != logits.shape[:-1]:
            raise ValueError(f"tgt_out has shape {t.shape} but the logits are {logits.shape}")
        return F.cross_entropy(logits.reshape(-1, V), Tensor(t.reshape(-1), device=logits.device),
                               ignore_index=self.pad_idx)

    # ------------------------------------------------------------ decoding
    def _log_probs(self, a):
        """Host log-probabilities (N, V) of the next token; pad and bos are never produced."""
        lg = self.decoder.logits(a).numpy().astype(np.float64)
        lg[:, [self.pad_idx, self.bos_idx]] = -np.inf
        m = lg.max(axis=1, keepdims=True)
        return lg - m - np.log(np.exp(lg - m).sum(axis=1, keepdims=True))

    def _check_max_len(self, max_len):
        if not isinstance(max_len, (int, np.integer)) or max_len < 1:
            raise ValueError(f"max_len must be a positive integer, got {max_len!r}")

    def greedy_decode(self, src, src_lengths, max_len=50):
        """Pick the most likely token at each step until eos or max_len tokens.
        Returns DecodeResult(tokens (B, L), attention (B, L, S), lengths (B,)), L <= max_len."""
        self._check_max_len(max_len)
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                memory, state = self.encode(src, src_lengths)
                B, S = memory[0].shape[0], memory[0].shape[1]
                tokens = np.full(B, self.bos_idx, np.int64)
                done = np.zeros(B, bool)
                lengths = np.zeros(B, np.int64)
                out_tok, out_attn = [], []
                for _ in range(max_len):
                    a, state, w = self.decoder.step(self._embed(tokens), state, memory)
                    tokens = self._log_probs(a).argmax(axis=1)
                    tokens[done] = self.pad_idx
                    out_tok.append(tokens)
                    out_attn.append(np.where(done[:, None], 0.0, w.numpy()))
                    lengths += ~done
                    done |= tokens == self.eos_idx
                    if done.all():
                        break
        finally:
            self.train(was_training)
        return DecodeResult(np.stack(out_tok, 1), np.stack(out_attn, 1), lengths)

    def beam_search(self, src, src_lengths, beam_size=5, max_len=50, length_penalty=1.0, n_best=None):
        """Beam search per source sequence. Returns a list (one per batch element) of up to
        n_best (default beam_size) Hypothesis, best score first.

        A hypothesis ends at eos; a source is finished when beam_size hypotheses have ended
        (or after max_len steps, when the live beams are added unfinished).
        score = log_prob / length ** length_penalty (0: no normalisation). beam_size=1 is
        greedy decoding."""
        self._check_max_len(max_len)
        if not isinstance(beam_size, (int, np.integer)) or beam_size < 1:
            raise ValueError(f"beam_size must be a positive integer, got {beam_size!r}")
        K = int(beam_size)
        n_best = K if n_best is None else n_best
        if not isinstance(n_best, (int, np.integer)) or n_best < 1:
            raise ValueError(f"n_best must be a positive integer, got {n_best!r}")
        if not np.isfinite(length_penalty):
            raise ValueError(f"length_penalty must be a finite number, got {length_penalty!r}")
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                return self._beam_search(src, src_lengths, K, max_len, length_penalty, n_best)
        finally:
            self.train(was_training)

    def _beam_search(self, src, src_lengths, K, max_len, length_penalty, n_best):
        memory, state = self.encode(src, src_lengths)
        B, S = memory[0].shape[0], memory[0].shape[1]
        rep = np.repeat(np.arange(B), K)                             # beam row -> batch element
        memory = tuple(None if m is None else m[rep] for m in memory)
        state = _reorder(state, rep)
        scores = np.full((B, K), -np.inf)
        scores[:, 0] = 0.0                                           # one live beam at first
        hist = np.zeros((B, K, 0), np.int64)
        attn_hist = np.zeros((B, K, 0, S))
        finished = [[] for _ in range(B)]
        done = np.zeros(B, bool)
        tokens = np.full(B * K, self.bos_idx, np.int64)

        def norm(lp, n):
            return lp / (n ** length_penalty) if length_penalty else lp

        for t in range(max_len):
            a, state, w = self.decoder.step(self._embed(tokens), state, memory)
            logp = self._log_probs(a)
            V = logp.shape[1]
            cand = (scores[:, :, None] + logp.reshape(B, K, V)).reshape(B, K * V)
            w = w.numpy().reshape(B, K, S)
            new_beam = np.zeros((B, K), np.int64)
            new_tok = np.full((B, K), self.pad_idx, np.int64)
            new_scores = np.full((B, K), -np.inf)
            for b in range(B):
                if done[b]:
                    continue
                order = np.argsort(-cand[b], kind="stable")[:2 * K]
                n_live = 0
                for rank, idx in enumerate(order.tolist()):
                    lp = cand[b, idx]
                    if not np.isfinite(lp) or n_live == K:
                        break
                    beam, tok = divmod(idx, V)
                    if tok == self.eos_idx:
                        if rank < K:
                            toks = np.append(hist[b, beam], tok)
                            att = np.concatenate([attn_hist[b, beam], w[b, beam][None]], 0)
                            finished[b].append(Hypothesis(toks, norm(lp, t + 1), lp, att))
                        continue
                    new_beam[b, n_live], new_tok[b, n_live], new_scores[b, n_live] = beam, tok, lp
                    n_live += 1
                if len(finished[b]) >= K or n_live == 0:
                    done[b] = True
            rows = np.arange(B)[:, None]
            attn_hist = np.concatenate([attn_hist[rows, new_beam], w[rows, new_beam][:, :, None]], 2)
            hist = np.concatenate([hist[rows, new_beam], new_tok[:, :, None]], 2)
            scores = new_scores
            if done.all():
                break
            flat = (np.arange(B)[:, None] * K + new_beam).reshape(-1)
            state = _reorder(state, flat)
            tokens = new_tok.reshape(-1)
        n_steps = hist.shape[2]
        for b in range(B):
            if not done[b]:                                          # max_len reached
                for k in range(K):
                    if np.isfinite(scores[b, k]):
                        finished[b].append(Hypothesis(hist[b, k].copy(), norm(scores[b, k], n_steps),
                                                      scores[b, k], attn_hist[b, k].copy()))
        return [sorted(f, key=lambda h: -h.score)[:n_best] for f in finished]


def _reorder(state, idx):
    """Pick decoder-state rows: rnn state tensors are (L, N, H), the feed (N, H)."""
    rnn_state, feed = state
    if isinstance(rnn_state, tuple):
        rnn_state = tuple(s[:, idx] for s in rnn_state)
    else:
        rnn_state = rnn_state[:, idx]
    return rnn_state, feed[idx]
