"""bench/step_vs_torch.py: its one-step paths (T=1, a decoder's step) run our layer and torch's
on the same weights and data, so the two sides compute the same thing; a tiny run writes its
table."""
import json
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
import step_vs_torch  # noqa: E402


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("batch", [1, 3])
def test_both_sides_train_the_same_step(cell, batch):
    ours, theirs, ours_module, theirs_module = step_vs_torch.make_paths(cell, batch, 16, "train")
    ours()
    theirs()
    for (name, p), (name_t, q) in zip(ours_module.named_parameters(), theirs_module.named_parameters()):
        assert name == name_t
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=2e-4, atol=2e-5, err_msg=name)


def test_a_tiny_run_writes_its_table(tmp_path):
    md, js = tmp_path / "s.md", tmp_path / "s.json"
    rows = step_vs_torch.main(["--cells", "rnn", "--batches", "1", "--hiddens", "8", "--rounds", "1", "--calls",
                               "1", "--gap", "0", "--markdown", str(md), "--json", str(js)])
    assert [(r["mode"], r["cell"], r["B"], r["H"]) for r in rows] == [("train", "rnn", 1, 8), ("infer", "rnn", 1, 8)]
    assert all(r["ours_us"] > 0 and r["torch_us"] > 0 for r in rows)
    assert "| train | rnn | 1 | 8 |" in md.read_text()
    assert json.loads(js.read_text())["rows"] == rows
