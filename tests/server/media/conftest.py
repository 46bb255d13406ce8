"""Fixtures for the media tests: a real store on disk, and every backend for the contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.media.store import LocalStore, MediaStore


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "store")


@pytest.fixture(params=["local", "s3"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> MediaStore:
    """Each backend in turn: the local store, and the S3 store on a fresh bucket of a real
    S3-protocol server reached over HTTP."""
    if request.param == "local":
        return LocalStore(tmp_path / "store")
    s3 = request.getfixturevalue("s3_server")
    return s3.store(s3.new_bucket(), tmp_path / "staging")  # type: ignore[no-any-return]
