"""Freed frames go back to the system: the malloc settings the player makes at start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Frames of 4 MB come and go, two held at a time, after one 8 MB block was freed (which is
# what raises glibc's mmap threshold); then small objects land on top of the heap. Prints
# the resident KiB still held afterwards.
PROBE = """
import sys
def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 // 1024
if sys.argv[1] == "tuned":
    from player.memory import tune_malloc
    assert tune_malloc()
big = bytearray(8 * 1024 * 1024); del big
before = rss()
held = []
for i in range(20):
    held.append(bytearray(4 * 1024 * 1024))
    if len(held) > 2:
        held.pop(0)
held.clear()
small = [bytes(100) for _ in range(1000)]
print(rss() - before)
"""


def retained_kib(mode: str) -> int:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    return int(result.stdout)


def glibc() -> bool:
    try:
        return bool(os.confstr("CS_GNU_LIBC_VERSION"))
    except (AttributeError, ValueError, OSError):
        return False


def test_tuned_malloc_gives_freed_frames_back() -> None:
    if not glibc():
        pytest.skip("the settings are glibc's")
    assert retained_kib("tuned") < 2048
    # Without the settings glibc keeps them: the reason the player makes them.
    assert retained_kib("plain") > 4096
