r"""Attention over a sequence of keys (encoder outputs) for a query (decoder state).

    scores_s  = score(q, k_s)                         one per source position s
    weights   = softmax(scores) over the valid positions (masked ones get exactly 0)
    context   = sum_s weights_s * k_s

Scores:
    BahdanauAttention (additive):   v^T tanh(W_q q + W_k k_s)
    LuongAttention "dot":           q^T k_s                     (query_size == key_size)
    LuongAttention "general":       q^T W k_s
    LuongAttention "concat":        v^T tanh(W [q; k_s])

Calling ``attn(query, keys, mask=None)``: query (B, Hq) or (B, T, Hq) for all decoder steps at
once, keys (B, S, Hk), mask (B, S) bool with True at real positions. Returns
``(context, weights)``: (B, Hk) and (B, S), or (B, T, Hk) and (B, T, S).

The key-side projection does not depend on the query: ``attn.project_keys(keys)`` computes it
once per source batch and ``attn(query, keys, mask, projected_keys=...)`` reuses it at every
decoder step.
"""
import numpy as np

from tinygrad_seq import functional as F
from tinygrad_seq.nn.layers import Linear
from tinygrad_seq.nn.module import Module
# torch.nn.attention's names live at this path too: `from torch.nn.attention import sdpa_kernel`
from tinygrad_seq.nn.attention_backends import SDPBackend, WARN_FOR_UNFUSED_KERNELS, sdpa_kernel  # noqa: F401
from tinygrad_seq.tensor import Tensor


def _host(x):
    return x.numpy() if isinstance(x, Tensor) else np.asarray(x)


class _Attention(Module):
    query_size: int
    key_size: int

    def project_keys(self, keys):
        """The query-independent part of the score for keys (B, S, Hk); None if there is none."""
        return None

    def score(self, query, keys, projected_keys):
        """query (B, T, Hq), keys (B, S, Hk) -> scores (B, T, S)."""
        raise NotImplementedError(f"{type(self).__name__} must define score()")

    def _check(self, query, keys, mask):
        name = type(self).__name__
        for what, t in (("query", query), ("keys", keys)):
            if not isinstance(t, Tensor):
                raise TypeError(f"{name}: {what} must be a Tensor, got {type(t).__name__}")
        if query.ndim not in (2, 3):
            raise ValueError(f"{name}: query must be (B, Hq) or (B, T, Hq), got shape {query.shape}")
        if keys.ndim != 3:
            raise ValueError(f"{name}: keys must be (B, S, Hk), got shape {keys.shape}")
        if query.shape[0] != keys.shape[0]:
            raise ValueError(f"{name}: batch sizes differ: query has {query.shape[0]} "
                             f"(shape {query.shape}), keys have {keys.shape[0]} (shape {keys.shape})")
        if query.shape[-1] != self.query_size:
            raise ValueError(f"{name}: query has {query.shape[-1]} features, expected query_size="
                             f"{self.query_size}")
        if keys.shape[-1] != self.key_size:
            raise ValueError(f"{name}: keys have {keys.shape[-1]} features, expected key_size="
                             f"{self.key_size}")
        if keys.shape[1] == 0:
            raise ValueError(f"{name}: keys have no positions (shape {keys.shape})")
        if mask is None:
            return None
        m = _host(mask)
        if isinstance(mask, Tensor) and mask.device != "cpu" and m.dtype == np.uint8:
            m = m.astype(bool)                  # device masks travel as bytes
        if m.dtype != np.bool_:
            raise TypeError(f"{name}: mask must be bool (True = a real position), got {m.dtype}")
        want = (keys.shape[0], keys.shape[1])
        if m.shape != want:
            raise ValueError(f"{name}: mask must have shape {want} (batch, source length), got {m.shape}")
        empty = np.nonzero(~m.any(axis=1))[0]
        if empty.size:
            raise ValueError(f"{name}: mask row {int(empty[0])} has no valid position; attention "
                             "over an empty sequence is undefined")
        return m

    def forward(self, query, keys, mask=None, projected_keys=None):
        m = self._check(query, keys, mask)
        single = query.ndim == 2
        q = query.unsqueeze(1) if single else query                # (B, T, Hq)
        if projected_keys is None:
            projected_keys = self.project_keys(keys)
        scores = self.score(q, keys, projected_keys)                # (B, T, S)
        if m is not None and not m.all():
            # exp(-inf - max) is exactly 0, and softmax's backward multiplies by it: masked
            # positions get exactly zero weight and zero gradient
            bias = np.where(m, 0.0, -np.inf).astype(scores.dtype)[:, None, :]
            scores = scores + Tensor(bias, device=scores.device)
        weights = F.softmax(scores, dim=-1)
        context = weights @ keys                                    # (B, T, Hk)
        if single:
            return context.squeeze(1), weights.squeeze(1)
        return context, weights


class BahdanauAttention(_Attention):
    r"""Additive attention (Bahdanau et al. 2015): score(q, k) = v^T tanh(W_q q + W_k k + b).

    Args: query_size, key_size, hidden_size (the size of the tanh layer).
    Parameters: ``query_proj.weight`` (hidden, Hq), ``key_proj.weight`` (hidden, Hk),
    ``key_proj.bias`` (hidden,), ``v.weight`` (1, hidden).
    """
    def __init__(self, query_size, key_size, hidden_size):
        super().__init__()
        for name, v in (("query_size", query_size), ("key_size", key_size), ("hidden_size", hidden_size)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                raise ValueError(f"BahdanauAttention: {name} must be a positive integer, got {v!r}")
        self.query_size, self.key_size, self.hidden_size = query_size, key_size, hidden_size
        self.query_proj = Linear(query_size, hidden_size, bias=False)
        self.key_proj = Linear(key_size, hidden_size)
        self.v = Linear(hidden_size, 1, bias=False)

    def project_keys(self, keys):
        return self.key_proj(keys)                                  # (B, S, hidden)

    def score(self, query, keys, projected_keys):
        pq = self.query_proj(query)                                 # (B, T, hidden)
        e = (pq.unsqueeze(2) + projected_keys.unsqueeze(1)).tanh()  # (B, T, S, hidden)
        return self.v(e).squeeze(-1)

    def extra_repr(self):
        return f"query_size={self.query_size}, key_size={self.key_size}, hidden_size={self.hidden_size}"


class LuongAttention(_Attention):
    r"""Multiplicative attention (Luong et al. 2015).

        "dot":      score(q, k) = q^T k                  (query_size must equal key_size)
        "general":  score(q, k) = q^T W k                W: ``linear.weight`` (Hq, Hk)
        "concat":   score(q, k) = v^T tanh(W [q; k])     W: ``linear.weight`` (hidden, Hq + Hk),
                                                         v: ``v.weight`` (1, hidden)

    Args: query_size, key_size, method="general", hidden_size=None (only for "concat"; defaults
    to query_size).
    """
    METHODS = ("dot", "general", "concat")

    def __init__(self, query_size, key_size, method="general", hidden_size=None):
        super().__init__()
        if method not in self.METHODS:
            raise ValueError(f"LuongAttention: method must be one of {self.METHODS}, got {method!r}")
        if method == "dot" and query_size != key_size:
            raise ValueError(f"LuongAttention: method 'dot' needs query_size == key_size, got "
                             f"{query_size} and {key_size}")
        self.query_size, self.key_size, self.method = query_size, key_size, method
        self.hidden_size = None
        if method == "general":
            self.linear = Linear(key_size, query_size, bias=False)
        elif method == "concat":
            self.hidden_size = hidden_size or query_size
            self.linear = Linear(query_size + key_size, self.hidden_size, bias=False)
            self.v = Linear(self.hidden_size, 1, bias=False)

    def project_keys(self, keys):
        if self.method == "general":
            return self.linear(keys)                                # (B, S, Hq)
        if self.method == "concat":                                 # W [q; k] = W_q q + W_k k
            return keys @ self.linear.weight[:, self.query_size:].T   # (B, S, hidden)
        return None

    def score(self, query, keys, projected_keys):
        if self.method == "dot":
            return query @ keys.transpose(1, 2)
        if self.method == "general":
            return query @ projected_keys.transpose(1, 2)
        pq = query @ self.linear.weight[:, :self.query_size].T      # (B, T, hidden)
        e = (pq.unsqueeze(2) + projected_keys.unsqueeze(1)).tanh()  # (B, T, S, hidden)
        return self.v(e).squeeze(-1)

    def extra_repr(self):
        s = f"query_size={self.query_size}, key_size={self.key_size}, method={self.method!r}"
        return s + (f", hidden_size={self.hidden_size}" if self.method == "concat" else "")
