"""Fixtures for the player's tests: a fake server on a fake clock, and players (rigs) on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.player.fakes import T0, FakeClock, FakeServer, Rig


@pytest.fixture
def server() -> FakeServer:
    return FakeServer(FakeClock(T0))


@pytest.fixture
def make_rig(server: FakeServer, tmp_path: Path) -> Iterator[Callable[..., Rig]]:
    rigs: list[Rig] = []

    def make(name: str = "p1", **kw: Any) -> Rig:
        rig = Rig(server, tmp_path / name, **kw)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        try:
            rig.close()
        except Exception:  # noqa: S110 - a test may have closed it already
            pass
