"""The CPU-vs-CUDA comparison run: without a GPU it runs the CPU side, says so and exits 0;
under the CUDA simulator both devices run and must agree."""
import json
import os
import subprocess
import sys

import pytest


def run_compare(tmp_path, extra_env=None):
    env = dict(os.environ, **(extra_env or {}))
    out_json, out_png = tmp_path / "c.json", tmp_path / "c.png"
    proc = subprocess.run([sys.executable, "-m", "tinygrad_seq.compare", "--quick", "--repeats", "1",
                           "--json", str(out_json), "--png", str(out_png)],
                          capture_output=True, text=True, env=env, timeout=600)
    return proc, out_json, out_png


def test_compare_cpu_only(tmp_path):
    proc, out_json, out_png = run_compare(tmp_path, {"NUMBA_ENABLE_CUDASIM": "0"})
    assert proc.returncode == 0, proc.stderr
    assert "No GPU is present" in proc.stdout
    data = json.loads(out_json.read_text())
    names = [r["case"] for r in data["rows"]]
    assert any(n.startswith("lstm") for n in names) and any("train-step" in n for n in names)
    assert all(r["cpu_s"] > 0 and r["cpu_gflops"] > 0 for r in data["rows"])
    assert all("torch_cpu_s" in r for r in data["rows"] if not r["case"].startswith("lm-"))
    pytest.importorskip("matplotlib")
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.cuda
def test_compare_both_devices_agree(tmp_path):
    proc, out_json, _ = run_compare(tmp_path, {"NUMBA_ENABLE_CUDASIM": "1"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = json.loads(out_json.read_text())["rows"]
    assert all(r["agree"] for r in rows), rows
