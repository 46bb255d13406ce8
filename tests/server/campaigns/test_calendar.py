"""The fleet calendar: screens × days from the engine's timelines, empty days marked."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from server.accounts.models import Organisation
from server.campaigns.calendar import fleet_calendar
from server.errors import ValidationFailed
from tests.server.campaigns.conftest import DEMO_FILE, Instance


def test_fleet_calendar_shows_theme_days_local_slots_and_empty_days(instance: Instance) -> None:
    published = instance.run("campaign", "apply", str(DEMO_FILE), "--org", "Province", "--publish")
    assert published.exit_code == 0, published.output
    now = datetime.now(UTC)
    with instance.session() as session:
        province = session.scalar(select(Organisation).where(Organisation.name == "Province"))
        assert province is not None
        rows = fleet_calendar(session, province, date(2022, 9, 5), 8, now)
        by_name = {r.screen: r for r in rows}
        assert sorted(by_name) == ["Bank hall", "Gate", "Lobby"]
        gate = by_name["Gate"].cells
        assert gate[0].day == date(2022, 9, 5)
        assert gate[0].playlists == ("opening-day", "campus-morning")
        assert gate[5].playlists == ("youth-day",)  # a Saturday: no campus morning
        bank = by_name["Bank hall"].cells
        assert bank[4].playlists == ("finance-day", "bank-counter")
        assert [c.empty for c in bank] == [False] * 7 + [True]  # the 12th: after the week
        assert not any(c.conflict for r in rows for c in r.cells)
        with pytest.raises(ValidationFailed):
            fleet_calendar(session, province, date(2022, 9, 5), 40, now)
