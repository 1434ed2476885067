"""Cell options and user cells at their edges (found by an audit against API.md): proj_size with
zoneout refused up front, a user cell without weight_ih as a cell class, reset_after and
zoneout checked, a TypeError in a user's step reported as the step's bug naming the cell."""
import warnings
import numpy as np
import pytest
import tinygrad_seq as ts
from tinygrad_seq import nn

sig = lambda v: 1 / (1 + np.exp(-v))


# 1. nn.LSTM(proj_size=P, zoneout=p): accepted at construction, crashes in forward.
def test_lstm_proj_size_with_zoneout_works_or_is_rejected_at_construction():
    I, H, P, T, B, p = 3, 5, 2, 4, 3, 0.3
    try:
        m = nn.LSTM(I, H, proj_size=P, zoneout=p).double()
    except ValueError as e:                      # acceptable: a clear refusal up front
        assert "zoneout" in str(e) and "proj" in str(e)
        return
    m.eval()
    rng = np.random.default_rng(0)
    sd = {k: rng.uniform(-.8, .8, v.shape) for k, v in m.state_dict().items()}
    m.load_state_dict(sd)
    x = rng.standard_normal((T, B, I))
    out, (hn, cn) = m(ts.Tensor(x))              # was: ShapeMismatch sub (3,2) vs (3,5)
    h, c, outs = np.zeros((B, P)), np.zeros((B, H)), []
    for t in range(T):                           # API.md: eval state = p*prev + (1-p)*new
        g = x[t] @ sd["weight_ih_l0"].T + sd["bias_ih_l0"] + h @ sd["weight_hh_l0"].T + sd["bias_hh_l0"]
        i, f, gg, o = np.split(g, 4, -1)
        c_new = sig(f) * c + sig(i) * np.tanh(gg)
        h_new = (sig(o) * np.tanh(c_new)) @ sd["weight_hr_l0"].T
        c, h = p * c + (1 - p) * c_new, p * h + (1 - p) * h_new
        outs.append(h)
    np.testing.assert_allclose(out.numpy(), np.stack(outs), atol=1e-10)
    np.testing.assert_allclose(cn.numpy()[0], c, atol=1e-10)


# 2. nn.RecurrentCell of a CellSpec whose params have no 'weight_ih' crashes on every call,
#    although nn.Recurrent of the same spec works (README: params is any list of ParamSpecs).
def _dual_step(cell, x, s):
    m = 0.5 * s.m + cell.linear(x, cell.wx).relu()
    return {"h": (m + cell.linear(s.h, cell.u)).tanh(), "m": m}


DUAL = nn.CellSpec("audit_dual_cell", 1, ("h", "m"), _dual_step,
                   params=[nn.ParamSpec("wx", ("H", "I")), nn.ParamSpec("u", ("H", "H"))])


def test_recurrent_cell_with_custom_parameter_names():
    I, H, B = 3, 4, 2
    rng = np.random.default_rng(1)
    layer = nn.Recurrent(DUAL, I, H).double()    # the layer works
    layer(ts.Tensor(rng.standard_normal((3, B, I))))
    cell = nn.RecurrentCell(DUAL, I, H).double()
    P = {n: rng.uniform(-.8, .8, p.shape) for n, p in cell.named_parameters()}
    cell.load_state_dict(P)
    x, h0, m0 = (rng.standard_normal(s) for s in ((B, I), (B, H), (B, H)))
    h, m = cell(ts.Tensor(x), (ts.Tensor(h0), ts.Tensor(m0)))  # was: AttributeError weight_ih
    m_ref = 0.5 * m0 + np.maximum(x @ P["wx"].T, 0)
    np.testing.assert_allclose(m.numpy(), m_ref, atol=1e-12)
    np.testing.assert_allclose(h.numpy(), np.tanh(m_ref + h0 @ P["u"].T), atol=1e-12)


# 3. reset_after is not validated: the string "False" silently runs PyTorch's reset-after GRU
#    (nonlinearity, the other Option, is validated with a clear ValueError).
@pytest.mark.parametrize("cls", [nn.GRU, nn.GRUCell])
@pytest.mark.parametrize("value", ["False", "no", 2])
def test_reset_after_rejects_non_bool(cls, value):
    with pytest.raises((ValueError, TypeError), match="reset_after"):
        cls(3, 4, reset_after=value)


# 4. A bug in the user's step that raises TypeError (here cell.linear without its weight) is
#    reported at build as "cannot be fused; running the step unfused" and then fails at call
#    with a bare TypeError that does not name the cell (README: a broken description raises an
#    error naming it when the layer is built; the warning is for ops the generator cannot fuse).
def _broken_step(cell, x, s):
    a, b = cell.split(cell.linear(x, cell.weight_ih, cell.bias_ih) + cell.linear(s.h, cell.weight_hh, cell.bias_hh))
    return {"h": a.tanh() * cell.linear(s.h).sigmoid()}


def test_step_typeerror_is_reported_as_a_broken_step_naming_the_cell():
    spec = nn.CellSpec("audit_broken_step", 2, ("h",), _broken_step)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        with pytest.raises(Exception) as e:
            nn.Recurrent(spec, 3, 4)(ts.randn(3, 2, 3))
    assert "audit_broken_step" in str(e.value)
    assert not any("cannot be fused" in str(x.message) for x in w)


# 5. zoneout of a wrong type: bare comparison TypeError, not naming zoneout.
def test_zoneout_wrong_type_error_names_zoneout():
    with pytest.raises((ValueError, TypeError), match="zoneout"):
        nn.LSTM(3, 4, zoneout="a")
