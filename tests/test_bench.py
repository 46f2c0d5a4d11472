"""
A smoke run of the benchmark at tiny sizes: it runs, every scenario
reports, and the figures are numbers. (Speed itself is never asserted.)
"""

from __future__ import annotations

import json
import subprocess
import sys


def test_quick_benchmark_runs(tmp_path):
    out = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "-m", "chatroom.bench", "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(out.read_text())
    scenarios = [r["scenario"] for r in report["results"]]
    assert any(s.startswith("fan-out 20 WEB") for s in scenarios), scenarios
    for kind in ["fan-out", "paced", "memory", "login storm", "UDP", "paced05", "curve"]:
        assert any(s.startswith(kind) for s in scenarios), scenarios
    for entry in report["results"]:
        for value in entry["figures"].values():
            assert isinstance(value, (int, float))
    fanOut = report["results"][0]["figures"]
    assert fanOut["deliveries"] == 20 * 50 and fanOut["deliveries/s"] > 0
    assert "Traceback" not in result.stdout + result.stderr
    # Both servers side by side; a missing ngIRCd is said, never silent.
    for kind in ["paced05", "curve"]:
        ngircd = next(r for r in report["results"] if r["scenario"].startswith(f"{kind} ngircd"))
        assert ngircd["figures"] or "SKIPPED" in " ".join(ngircd["notes"])
