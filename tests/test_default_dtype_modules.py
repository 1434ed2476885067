"""nn modules take their parameters' dtype from ts.set_default_dtype, as PyTorch's do (once a
silent divergence: float32 parameters whatever the default, so a float64 program ran in float32)."""
from programs_helpers import float64_default, namespace  # noqa: F401  (a fixture)


def test_modules_take_the_default_dtype_like_torch(float64_default):
    for L in (namespace("torch"), namespace("tinygrad_seq")):
        nn = L.nn
        mods = [nn.Linear(3, 2), nn.Embedding(5, 3), nn.LayerNorm(3), nn.RNN(3, 2), nn.LSTM(3, 2, proj_size=1),
                nn.GRU(3, 2, bidirectional=True), nn.RNNCell(3, 2), nn.LSTMCell(3, 2), nn.GRUCell(3, 2)]
        assert all(str(p.dtype).endswith("float64") for m in mods for p in m.parameters()), L.torch
        assert str(nn.Linear(3, 2, dtype=L.torch.float32).weight.dtype).endswith("float32")
