"""Plain-numpy reference recurrences (stumpy's naive.py): every cell's step written directly from
the formulas in API.md, and a layer loop (num_layers, bidirectional, lengths, hx, zoneout in eval,
proj_size), in float64. CPU and CUDA tests check the library against these, never against itself.

Parameters come as a dict name -> array with PyTorch's layer names (weight_ih_l0, ..._reverse).
"""
import numpy as np


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def layer_norm(v, w, b, eps=1e-5):
    mu = v.mean(-1, keepdims=True)
    var = ((v - mu) ** 2).mean(-1, keepdims=True)
    return (v - mu) / np.sqrt(var + eps) * w + b


def _lin(x, w, b=None):
    return x @ w.T + (0.0 if b is None else b)


def step(cell, p, x, states):
    """One step of `cell` (a built-in cell name): p the direction's parameters without suffix,
    x (B, I), states [h] or [h, c] -> new states."""
    h = states[0]
    H = h.shape[-1] if "weight_hr" not in p else p["weight_hr"].shape[1]
    b_ih, b_hh = p.get("bias_ih"), p.get("bias_hh")
    if cell in ("rnn_tanh", "rnn_relu"):
        pre = _lin(x, p["weight_ih"], b_ih) + _lin(h, p["weight_hh"], b_hh)
        return [np.tanh(pre) if cell == "rnn_tanh" else np.maximum(pre, 0)]
    if cell in ("indrnn_relu", "indrnn_tanh"):
        pre = _lin(x, p["weight_ih"], b_ih) + p["weight_hh"] * h + (0.0 if b_hh is None else b_hh)
        return [np.tanh(pre) if cell == "indrnn_tanh" else np.maximum(pre, 0)]
    if cell in ("lstm", "peephole_lstm", "cifg_lstm", "layernorm_lstm"):
        c = states[1]
        if cell == "layernorm_lstm":
            g = (layer_norm(_lin(x, p["weight_ih"]), p["ln_ih_weight"], p["ln_ih_bias"])
                 + layer_norm(_lin(h, p["weight_hh"]), p["ln_hh_weight"], p["ln_hh_bias"])
                 + p.get("bias", 0.0))
        else:
            g = _lin(x, p["weight_ih"], b_ih) + _lin(h, p["weight_hh"], b_hh)
        if cell == "cifg_lstm":
            i, gg, o = (g[:, k * H:(k + 1) * H] for k in range(3))
            i = sigmoid(i)
            c2 = (1 - i) * c + i * np.tanh(gg)
            return [sigmoid(o) * np.tanh(c2), c2]
        i, f, gg, o = (g[:, k * H:(k + 1) * H] for k in range(4))
        if cell == "peephole_lstm":
            pp = p["weight_peephole"]
            i, f = sigmoid(i + pp[0] * c), sigmoid(f + pp[1] * c)
            c2 = f * c + i * np.tanh(gg)
            return [sigmoid(o + pp[2] * c2) * np.tanh(c2), c2]
        c2 = sigmoid(f) * c + sigmoid(i) * np.tanh(gg)
        if cell == "layernorm_lstm":
            return [sigmoid(o) * np.tanh(layer_norm(c2, p["ln_c_weight"], p["ln_c_bias"])), c2]
        h2 = sigmoid(o) * np.tanh(c2)
        if "weight_hr" in p:
            h2 = h2 @ p["weight_hr"].T
        return [h2, c2]
    if cell in ("gru", "gru_reset_before", "layernorm_gru"):
        if cell == "layernorm_gru":
            xg = layer_norm(_lin(x, p["weight_ih"]), p["ln_ih_weight"], p["ln_ih_bias"]) + (0.0 if b_ih is None else b_ih)
            hg = layer_norm(_lin(h, p["weight_hh"]), p["ln_hh_weight"], p["ln_hh_bias"]) + (0.0 if b_hh is None else b_hh)
        else:
            xg, hg = _lin(x, p["weight_ih"], b_ih), _lin(h, p["weight_hh"], b_hh)
        r = sigmoid(xg[:, :H] + hg[:, :H])
        z = sigmoid(xg[:, H:2 * H] + hg[:, H:2 * H])
        if cell == "gru_reset_before":
            w_hn, b_hn = p["weight_hh"][2 * H:], (0.0 if b_hh is None else b_hh[2 * H:])
            n = np.tanh(xg[:, 2 * H:] + (r * h) @ w_hn.T + b_hn)
        else:
            n = np.tanh(xg[:, 2 * H:] + r * hg[:, 2 * H:])
        return [(1 - z) * n + z * h]
    raise ValueError(f"naive: no reference for cell {cell!r}")


def direction(cell, p, x, states, lengths=None, reverse=False, zoneout=0.0):
    """One direction of one layer: x (T, B, I), states [(B, H)] (p as for step) -> y (T, B, H'),
    final states. Past its length a row keeps its state and outputs zeros. zoneout: the
    eval-mode expectation. Any dtype, complex included (complex_step_grads)."""
    T, B = x.shape[:2]
    lens = np.full(B, T) if lengths is None else np.asarray(lengths)
    ys = [None] * T
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        new = step(cell, p, x[t], states)
        if zoneout:
            new = [zoneout * s + (1 - zoneout) * n for s, n in zip(states, new)]
        live = (t < lens)[:, None]
        states = [np.where(live, n, s) for n, s in zip(new, states)]
        ys[t] = np.where(live, new[0], 0.0)
    return np.stack(ys), states


def layer(cell, params, x, hx, num_layers=1, bidirectional=False, lengths=None, zoneout=0.0):
    """x (T, B, I) time-major; hx: list of (L*D, B, *) initial states ->
    out (T, B, D*H'), finals list of (L*D, B, *). zoneout: the eval-mode expectation."""
    dirs = 2 if bidirectional else 1
    finals = [[] for _ in hx]
    inp = x
    for layer_k in range(num_layers):
        outs = []
        for d in range(dirs):
            sfx = f"_l{layer_k}" + ("_reverse" if d else "")
            p = {k[:-len(sfx)]: v for k, v in params.items() if k.endswith(sfx)}
            y, states = direction(cell, p, inp, [s[layer_k * dirs + d] for s in hx], lengths, bool(d), zoneout)
            outs.append(y)
            for f, s in zip(finals, states):
                f.append(s)
        inp = np.concatenate(outs, axis=2)
    return inp, [np.stack(f) for f in finals]


def complex_step_grads(fn, arrays, h=1e-30):
    """The gradient of the real scalar fn(**arrays) with respect to each array (None entries are
    skipped) by complex-step differentiation: Im fn(a + i h e_k) / h, exact to rounding (no
    difference of nearby values), for fn written with analytic numpy ops such as step's."""
    grads = {}
    for name, a in arrays.items():
        if a is None:
            continue
        g = np.zeros(a.shape)
        for k in np.ndindex(a.shape):
            z = a.astype(np.complex128)
            z[k] += 1j * h
            g[k] = np.imag(fn(**dict(arrays, **{name: z}))) / h
        grads[name] = g
    return grads
