"""Uploads run on an app with small caps, so oversize bodies are cheap to make."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from server.app import create_app
from server.clock import SettableClock
from server.db import get_db
from tests.server.assets.helpers import settings_for


@pytest.fixture
def app(database_url: str, tmp_path: Path, clock: SettableClock) -> Iterator[Flask]:
    """The shared `app`, with a 1 MiB upload cap and a 10 MP pixel cap."""
    app = create_app(settings_for(database_url, tmp_path / "instance"), clock_=clock)
    app.config["TESTING"] = True
    yield app
    get_db(app).engine.dispose()


@pytest.fixture
def media_root(app: Flask) -> Path:
    root: Path = app.config["SIGNAGE"].media_root
    return root
