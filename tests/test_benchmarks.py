"""The benchmark scripts run to the end on tiny sizes, so their documented commands keep working
(a registry entry whose parameters a script does not know broke bench_advantages once).

No timing is asserted: each script prints its own ratios; here only that it finishes and prints
its ratios.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

CASES = {
    "bench_advantages.py": (["--groups", "32", "--repeats", "1", "--threads", "1"], "torch"),
    "bench_vs_verl.py": (["--groups", "32", "--repeats", "1"], "verl"),
    "bench_group_ids.py": (["--sizes", "256", "--repeats", "1"], None),
    "bench_bandit.py": (["--problems", "64", "--answers", "8", "--steps", "2", "--repeats", "1"], "torch"),
}  # fmt: skip


@pytest.mark.parametrize("script", sorted(CASES))
def test_benchmark_runs_on_tiny_sizes(script):
    args, needs = CASES[script]
    if needs:
        pytest.importorskip(needs)
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "×" in done.stdout or "x " in done.stdout, done.stdout[-2000:]  # it printed ratios
