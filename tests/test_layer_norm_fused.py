"""LayerNormFunction (one node, layer_norm_node.py) against its reference composition
(functional_extra.layer_norm_composite) and finite differences, float64."""
import numpy as np
import pytest

import tinygrad_seq as ts
from tinygrad_seq.functional_extra import layer_norm_composite


@pytest.mark.parametrize("shape,normalized,affine", [((4, 7), (7,), True), ((2, 3, 4, 5), (4, 5), True),
                                                     ((6, 3), (3,), False), ((1, 9), (9,), True)])
def test_fused_layer_norm_matches_its_composition(shape, normalized, affine):
    rng = np.random.default_rng(0)
    X, G = rng.standard_normal(shape), rng.standard_normal(shape)
    W, B = rng.standard_normal(normalized), rng.standard_normal(normalized)
    results = []
    for fused in (True, False):
        x = ts.tensor(X, requires_grad=True)
        w = ts.tensor(W, requires_grad=True) if affine else None
        b = ts.tensor(B, requires_grad=True) if affine else None
        y = (ts.nn.functional.layer_norm(x, normalized, w, b, 1e-5) if fused
             else layer_norm_composite(x, normalized, w, b, 1e-5))
        (y * ts.tensor(G)).sum().backward()
        results.append([y.detach().numpy(), x.grad.numpy()] + ([w.grad.numpy(), b.grad.numpy()] if affine else []))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_fused_layer_norm_gradcheck():
    rng = np.random.default_rng(1)
    x = ts.tensor(rng.standard_normal((3, 5)), requires_grad=True)
    w = ts.tensor(rng.standard_normal(5), requires_grad=True)
    b = ts.tensor(rng.standard_normal(5), requires_grad=True)
    assert ts.gradcheck(lambda x, w, b: ts.nn.functional.layer_norm(x, (5,), w, b), (x, w, b))
