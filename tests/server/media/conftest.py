"""Fixtures for the media tests: a real store on disk and a snapshot of its files."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.media.store import LocalStore


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "store")
