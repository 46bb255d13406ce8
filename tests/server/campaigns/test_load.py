"""Reading campaign files: values as text, every problem on its line, inverse formatting."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.campaigns.files import schema
from server.campaigns.files.load import parse_campaign
from server.campaigns.files.shift import start_on

HEAD = "campaign: C\ntimezone: Europe/Berlin\ndates: 2026-03-23 .. 2026-04-05\n"
PLAYLISTS = "playlists:\n  p: [{slogan: Hello, duration: 5s}]\n"


def problems(text: str, tmp_path: Path) -> list[str]:
    _, found = parse_campaign(text, tmp_path)
    return [f"{p.line}: {p.field}: {p.reason}" for p in found]


def test_yaml_1_1_surprises_do_not_happen(tmp_path: Path) -> None:
    spec, found = parse_campaign(
        HEAD + PLAYLISTS + "schedule:\n  - play: p\n    on: 2026-03-29\n    between: 07:30-09:00\n"
        "  - play: p\n    days: [mon, sat]\n    between: [22:00-06:00, 12:00-24:00]\n",
        tmp_path,
    )
    assert found == []
    assert spec is not None
    first, second = spec.entries
    assert first.first_date == first.last_date == date(2026, 3, 29)
    assert first.windows == ((time(7, 30), time(9, 0)),)
    assert second.weekdays == (0, 5)
    assert second.windows == ((time(22, 0), time(6, 0)), (time(12, 0), time(0, 0)))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("", ["1: playlists: is required", "1: schedule: is required"]),
        (PLAYLISTS + "schedule: []\n", ["6: schedule: is empty: the campaign would play nothing"]),
        (
            PLAYLISTS + "schedule:\n  - play: p\n    play: p\n",
            ["8: schedule[0].play: given twice"],
        ),
        (
            "playlists:\n  p:\n    - {slogan: Hi, poster: a.png, duration: 5s}\n"
            "schedule:\n  - play: p\n",
            ["6: playlists.p[0]: needs exactly one of `slogan` or `poster`"],
        ),
        (
            "playlists:\n  p:\n    - {poster: a.png, duration: 5s, style: {align: left}}\n"
            "schedule:\n  - play: p\n",
            [
                "6: playlists.p[0].poster: no such file: a.png",
                "6: playlists.p[0].style: only slogans have a style",
            ],
        ),
        (
            "playlists:\n  p:\n    - {slogan: Hi, duration: 0s}\n    - {slogan: Hi}\n"
            "schedule:\n  - play: p\n",
            [
                "6: playlists.p[0].duration: must be longer than zero",
                "7: playlists.p[1].duration: is required",
            ],
        ),
        (
            PLAYLISTS
            + "schedule:\n  - play: p\n    days: [sat]\n    dates: 2026-03-23 .. 2026-03-27\n",
            [
                "8: schedule[0].days: no date in 2026-03-23 .. 2026-03-27 falls on these days:"
                " it never plays"
            ],
        ),
        (
            PLAYLISTS
            + "schedule:\n  - play: p\n    from: 2026-03-29T02:30\n    until: 2026-03-29T04:00\n",
            [
                "8: schedule[0].from: '2026-03-29T02:30' does not exist in Europe/Berlin"
                " (a daylight-saving gap)"
            ],
        ),
        (
            PLAYLISTS
            + "schedule:\n  - play: p\n    from: 2026-03-20T10:00\n    until: 2026-04-06T00:00:01\n"
            "  - play: p\n    from: 2026-03-24T10:00\n    until: 2026-03-24T11:00\n"
            "    on: 2026-03-24\n",
            [
                "8: schedule[0].from: lies before the campaign's dates (2026-03-23 .. 2026-04-05)",
                "9: schedule[0].until: lies after the campaign's dates (2026-03-23 .. 2026-04-05)",
                "13: schedule[1].on: cannot be combined with `from`/`until`",
            ],
        ),
        (
            PLAYLISTS
            + "schedule:\n  - play: p\n    priority: high\n    layer: top\n    time: utc\n",
            [
                "8: schedule[0].priority: must be a whole number up to ±1000000",
                "9: schedule[0].layer: must be one of: normal, takeover",
                "10: schedule[0].time: must be one of: campaign, screen-local",
            ],
        ),
        (
            PLAYLISTS + "schedule:\n  - play: p\n    targets: {groups: [], tags: ['bad tag']}\n",
            [
                "8: schedule[0].targets.tags[0]: 'bad tag' is not a tag"
                " (letters, digits and _ . : / -, at most 64)"
            ],
        ),
    ],
)
def test_each_problem_on_its_line(body: str, expected: list[str], tmp_path: Path) -> None:
    assert problems(HEAD + body, tmp_path) == [e.replace("{tmp}", str(tmp_path)) for e in expected]


def test_broken_yaml_names_its_line(tmp_path: Path) -> None:
    assert problems(HEAD + "playlists: [\n", tmp_path)[0].startswith("5: file: not valid YAML")
    assert problems("- a list\n", tmp_path) == ["1: file: must be a mapping (key: value lines)"]
    assert problems("", tmp_path) == ["1: file: is empty"]


def test_a_slogan_the_font_cannot_draw_is_refused(tmp_path: Path) -> None:
    found = problems(
        HEAD
        + 'playlists:\n  p: [{slogan: "Hi \U0001f600", duration: 5s}]\nschedule: [{play: p}]\n',
        tmp_path,
    )
    assert len(found) == 1 and found[0].startswith("5: playlists.p[0].slogan: characters missing")


@given(st.integers(min_value=1, max_value=schema.MAX_DURATION_MS))
def test_durations_read_back_as_written(ms: int) -> None:
    assert schema.parse_duration(schema.format_duration(ms)) == ms


@given(
    st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
    ).map(lambda d: d.replace(microsecond=0))
)
def test_instants_read_back_as_written(instant: datetime) -> None:
    tz = ZoneInfo("Europe/Berlin")
    assert schema.parse_instant(schema.format_instant(instant, tz), tz) == instant


def test_start_on_keeps_wall_clock_times_across_daylight_saving(tmp_path: Path) -> None:
    spec, found = parse_campaign(
        HEAD + PLAYLISTS + "schedule:\n  - play: p\n    on: 2026-03-24\n"
        "  - play: p\n    from: 2026-03-27T14:00\n    until: 2026-03-27T15:00\n",
        tmp_path,
    )
    assert found == [] and spec is not None
    moved = start_on(spec, date(2026, 3, 30))  # a week later, after the switch to summer time
    assert (moved.start, moved.end) == (date(2026, 3, 30), date(2026, 4, 12))
    assert moved.entries[0].first_date == date(2026, 3, 31)
    interval = moved.entries[1].interval
    assert interval is not None
    assert interval[0].astimezone(ZoneInfo("Europe/Berlin")).time() == time(14, 0)
    assert interval[1] - interval[0] == timedelta(hours=1)
    assert interval[0].utcoffset() == timedelta(hours=2)
