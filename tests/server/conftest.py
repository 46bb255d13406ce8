"""Fixtures for server tests that run on the app: its media store, settings and player runtime."""

from __future__ import annotations

import pytest
from flask import Flask

from server.config import Settings
from server.delivery.runtime import PlayerRuntime, player_runtime
from server.media.store import MediaStore
from server.storage import get_store
from tests.server.signage_cli import instance, signage  # noqa: F401 - fixtures for every domain


@pytest.fixture
def store(app: Flask) -> MediaStore:
    return get_store(app)


@pytest.fixture
def settings(app: Flask) -> Settings:
    settings: Settings = app.config["SIGNAGE"]
    return settings


@pytest.fixture
def runtime(app: Flask) -> PlayerRuntime:
    return player_runtime(app)
