"""benchmarks/fleet.py is not run in CI, but it imports, and a tiny fleet runs through it."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "fleet.py"


def test_the_fleet_benchmark_imports_and_parses_durations() -> None:
    spec = importlib.util.spec_from_file_location("fleet_benchmark", SCRIPT)
    assert spec is not None and spec.loader is not None
    fleet = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = fleet  # dataclasses look their module up there
    try:
        spec.loader.exec_module(fleet)
    finally:
        del sys.modules[spec.name]
    assert fleet.parse_duration("30s") == 30 and fleet.parse_duration("3m") == 180
    assert fleet.parse_duration("90") == 90


@pytest.mark.integration
@pytest.mark.slow
def test_a_tiny_fleet_runs_through_polling_and_a_publish() -> None:
    if shutil.which("wrk") is None:
        pytest.skip("needs wrk (Debian: apt-get install -y wrk)")
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--database",
            "sqlite",
            "--screens",
            "100",
            "--duration",
            "3s",
            "--poll-interval",
            "2",
            "--margin",
            "2",
            "--workers",
            "1",
            "--threads",
            "4",
            "--connections",
            "2",
            "--phases",
            "ab",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "(a) " in result.stdout and "0 errors" in result.stdout
    assert "(b) publish: all 100 in" in result.stdout, result.stdout
