"""bench/compare_history.py scores kept compare_torch runs against issue 14's goals."""
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
import compare_history  # noqa: E402


def _row(cell, T, B, H, ratio, gflops=100.0, layer_over_kernel=1.0):
    return dict(cell=cell, T=T, B=B, H=H, ratio=ratio, gflops=gflops, layer_over_kernel=layer_over_kernel)


def _run(rows, date="2026-12-03T12:34:20+01:00"):
    return dict(date=date, machine_slug="m", load_average_before=[1.0], matmul_gflops=[190.0, 200.0],
                threads=2, rows=rows)


def test_the_goals_are_counted_as_the_issue_sets_them():
    rows = [
        _row("lstm", 50, 1, 64, 2.0),
        _row("lstm", 50, 16, 256, 0.99, layer_over_kernel=1.06),   # below 1.0; layer 6% over
        _row("lstm", 200, 64, 512, 1.2, gflops=170.0),             # 85% of the faster matmul probe
        # GRU: torch at 100 / 200 / 1.2 = 42% of matmul -> goal 1.5 (missed)
        _row("gru", 50, 16, 64, 1.2, gflops=100.0),
        # torch at 150 / 200 / 1.2 = 62.5% -> goal 1.1 (met)
        _row("gru", 50, 64, 512, 1.2, gflops=150.0, layer_over_kernel=1.05),
        _row("rnn", 50, 1, 64, 1.6),
    ]
    s = compare_history.score(_run(rows))
    lo, hi, met, n, median = s["lstm"]
    assert (lo, hi, met, n) == (0.99, 2.0, 2, 3)
    assert median == pytest.approx(1.2)
    assert s["peak_pct"] == pytest.approx(85.0)
    assert s["gru"] == (1, 2)
    assert s["rnn"] == (1, 1)
    assert s["layer"] == (3, 4)   # B >= 16 only; 1.05 counts as within 5%


def test_a_run_and_its_machine_named_copy_count_once_and_times_read_as_utc(tmp_path):
    run = _run([_row("lstm", 200, 64, 512, 1.0)])
    paths = []
    for name in ("compare_torch_m_2026-12-03T1134.json", "compare_torch_m.json"):
        path = tmp_path / name
        path.write_text(json.dumps(run))
        paths.append(str(path))
    (tmp_path / "other.json").write_text(json.dumps({"not": "a run"}))
    found = compare_history.runs(paths + [str(tmp_path / "other.json")])
    assert len(found) == 1 and found[0][1] == paths[0]
    line = compare_history.summary_line(*found[0])
    assert line.startswith("| 2026-12-03 11:34 | m |")   # 12:34 at +01:00
    assert "| 1/1 |" in line and "| - | - |" in line      # no GRU or RNN rows


def test_the_grid_table_has_a_line_per_shape_with_every_cell():
    run = _run([_row("lstm", 50, 1, 64, 2.0), _row("gru", 50, 1, 64, 3.0), _row("rnn", 200, 1, 64, 4.0)])
    for row in run["rows"]:
        row.update(ours_ms=1.0, torch_ms=2.0)
    lines = compare_history.grid_table(run).splitlines()
    assert len(lines) == 4
    assert lines[2].startswith("| 50 | 1 | 64 | 1.00 | 2.00 | 2.00 | 50 | 3.00 | - | 1.00, 1.00, - |")
    assert lines[3].startswith("| 200 | 1 | 64 | - | - | - | - | - | 4.00 |")
