"""Fixtures for the media tests: a real store on disk and a snapshot of its files."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.media.store import LocalStore


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "store")


def files_under(root: Path) -> set[str]:
    """Every file below `root`, relative: what a store holds, committed or staged."""
    if not root.exists():
        return set()
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
