"""The demo puts today's theme day on screen, and a restart changes nothing."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from server.campaigns.preview import screen_at
from server.config import load_settings
from server.db import Base, Database, make_engine
from server.demo.seed import SCREENS, seed, seed_campaign, seed_fleet, week_start
from server.screens.models import Screen


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)))
def test_the_demo_week_holds_today_and_starts_on_a_monday(today: date) -> None:
    start = week_start(today)
    assert start <= today < start + timedelta(days=7)
    assert start.weekday() == 0


def counts(database: Database) -> dict[str, int]:
    with database.session() as s:
        return {
            t.name: s.scalar(select(func.count()).select_from(t)) or 0
            for t in Base.metadata.sorted_tables
        }


def playing(database: Database, screen_name: str, at: datetime) -> str | None:
    with database.session() as s:
        screen = s.scalar(select(Screen).where(Screen.name == screen_name))
        assert screen is not None
        return screen_at(s, screen, at, at).segment.playlist


def test_demo_shows_todays_theme_day_and_is_idempotent(
    tmp_path: Path, sqlite_template: Path
) -> None:
    folder = tmp_path / "instance"
    folder.mkdir()
    shutil.copyfile(sqlite_template, folder / "signage.db")
    settings = load_settings({"instance_path": folder, "secret_key": "test"}, environ={})
    database = Database(make_engine(settings))
    wednesday = datetime(2026, 1, 7, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    seed(database, settings, wednesday)
    with database.session() as s:
        seed_fleet(s, wednesday)
    lines = seed_campaign(database, settings, wednesday)
    assert lines[0].startswith("created campaign") and lines[1].startswith("published")
    after_first = counts(database)
    assert after_first["screens"] == len(SCREENS) and after_first["groups"] == 2
    # Published now, so on screens a poll and a margin later; in force from then on.
    later = wednesday + timedelta(minutes=5)
    assert playing(database, "Metro concourse", later) == "telecom-day"
    assert playing(database, "School gate", later) == "telecom-day"
    assert playing(database, "Bank hall", later) == "telecom-day"

    # A restart the same week: nothing changes.
    seed(database, settings, wednesday)
    with database.session() as s:
        seed_fleet(s, later)
    again = seed_campaign(database, settings, later)
    assert again[0].endswith("is unchanged (published)")
    assert counts(database) == after_first

    # A week later the campaign moves on, and Monday is the opening day again.
    monday = datetime(2026, 1, 12, 2, 0, tzinfo=UTC)
    moved = seed_campaign(database, settings, monday)
    assert moved[0].startswith("updated campaign") and moved[1].startswith("published")
    assert playing(database, "Metro concourse", monday + timedelta(minutes=5)) == "opening-day"
    database.engine.dispose()
