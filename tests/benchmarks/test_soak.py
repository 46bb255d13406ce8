"""benchmarks/soak.py is not run in CI (it takes half an hour), but it imports, its growth
figure is a plain slope, and a few seconds of it run end to end here."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "soak.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("soak_benchmark", SCRIPT)
    assert spec is not None and spec.loader is not None
    soak = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = soak  # dataclasses look their module up there
    try:
        spec.loader.exec_module(soak)
    finally:
        del sys.modules[spec.name]
    return soak


def test_the_soak_defaults_and_its_growth_per_hour() -> None:
    soak = load()
    args = soak.parse_args([])
    assert (args.minutes, args.players, args.real_players) == (30.0, 500, 2)
    mib = soak.MIB
    # 1 MiB more every 10 minutes is 6 MiB an hour, whatever the noise around it.
    samples = [(t * 60.0, 100 * mib + t * mib // 10 + (mib // 4) * (t % 2)) for t in range(31)]
    assert soak.slope_per_hour(samples) == pytest.approx(6.0, abs=0.6)
    assert soak.slope_per_hour(samples[:2]) is None


@pytest.mark.integration
def test_a_few_seconds_of_soak_run_without_errors(tmp_path: Path) -> None:
    out = tmp_path / "soak.json"
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--minutes",
            "0.1",
            "--players",
            "10",
            "--real-players",
            "1",
            "--poll-interval",
            "2",
            "--sample-every",
            "1",
            "--workers",
            "1",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(out.read_text())
    assert result["errors"]["total"] == 0, result["errors"]
    assert result["requests"]["hello 201"] == 10
    assert result["requests"].get("manifest 304", 0) > 0
    roles = {m["role"] for m in result["memory"]}
    assert roles == {"server worker", "player real-1"}
    assert all(m["samples"] >= 3 for m in result["memory"])
    assert "MiB/hour" in done.stdout
