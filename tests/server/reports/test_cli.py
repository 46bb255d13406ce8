"""`signage report plays --json` on a real instance."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from server.reports.models import PlayEvent
from server.screens.models import Screen
from tests.conftest import T0
from tests.server.signage_cli import Cli


def test_report_plays(signage: Cli) -> None:
    with signage.session() as s:
        gate = s.scalar(select(Screen).where(Screen.name == "Gate"))
        assert gate is not None
        for i in range(3):
            start = T0 - timedelta(hours=1, minutes=i)
            s.add(
                PlayEvent(
                    event_id=f"e{i}",
                    screen_id=gate.id,
                    screen_name="Gate",
                    organisation_id=gate.organisation_id,
                    asset_sha256="d" * 64,
                    asset_title="Poster",
                    playlist="week",
                    campaign="Cyber week",
                    start=start,
                    end=start + timedelta(seconds=10),
                    duration_ms=10_000,
                    received_at=T0,
                )
            )
        s.commit()
    got = signage.process_json("report", "plays", "--group-by", "campaign,screen")
    assert got["plays"] == 3 and got["seconds"] == 30.0
    assert got["rows"] == [
        {"day": None, "campaign": "Cyber week", "playlist": None, "asset_sha256": None,
         "asset_title": None, "screen_id": got["rows"][0]["screen_id"], "screen_name": "Gate",
         "plays": 3, "seconds": 30.0}
    ]  # fmt: skip
    assert got["since"] == (T0 - timedelta(days=7)).isoformat()
    other = signage.json("report", "plays", "--as", "admin@other.test")
    assert other["plays"] == 0
