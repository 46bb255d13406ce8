"""The demo campaign, applied and published through the CLI, previewed on real screens."""

from __future__ import annotations

import json

from tests.server.campaigns.conftest import DEMO_FILE, Instance

THEME_DAYS = [
    "opening-day",
    "campus-day",
    "telecom-day",
    "rule-of-law-day",
    "finance-day",
    "youth-day",
    "personal-information-day",
]


def publish_demo(instance: Instance) -> None:
    result = instance.run("campaign", "apply", str(DEMO_FILE), "--org", "Province", "--publish")
    assert result.exit_code == 0, result.output
    assert "published as content version" in result.stdout


def test_the_demo_file_checks_clean(instance: Instance) -> None:
    result = instance.run("campaign", "check", str(DEMO_FILE), "--org", "Province")
    assert result.exit_code == 0, result.output
    assert "10 playlists, 10 schedule entries" in result.stdout


def test_preview_names_telecommunications_day_on_the_seventh(instance: Instance) -> None:
    publish_demo(instance)
    result = instance.run("preview", "--screen", "Lobby", "--at", "2022-09-07T10:00+08:00")
    assert result.exit_code == 0, result.output
    assert "playlist 'telecom-day' of campaign 'Cybersecurity Publicity Week 2022 (Fujian)'" in (
        result.stdout
    )
    assert "won by   campaign" in result.stdout and "on 2022-09-07 priority 10" in result.stdout
    assert "beating  campaign" in result.stdout and "play week" in result.stdout
    data = json.loads(
        instance.run(
            "preview", "--screen", "Lobby", "--at", "2022-09-07T10:00+08:00", "--json"
        ).stdout
    )
    segment = data["segment"]
    assert segment["playlist"] == "telecom-day"
    assert segment["rule"]["entry"] == 3
    assert [b["playlist"] for b in segment["beaten"]] == ["week"]
    assert [i["kind"] for i in segment["items"]] == ["image", "slogan"]
    assert data["item"]["index"] in (0, 1)


def test_no_campaign_playlist_the_day_before(instance: Instance) -> None:
    publish_demo(instance)
    result = instance.run(
        "preview", "--screen", "Lobby", "--at", "2022-09-04T10:00+08:00", "--json"
    )
    assert result.exit_code == 0, result.output
    segment = json.loads(result.stdout)["segment"]
    assert segment["campaign"] is None and segment["rule"] is None
    assert segment["playlist"] is None  # no default playlist either: the idle card


def test_theme_days_come_in_order_through_the_week(instance: Instance) -> None:
    publish_demo(instance)
    result = instance.run(
        "preview",
        "--screen",
        "Lobby",
        "--from",
        "2022-09-05T00:00+08:00",
        "--to",
        "2022-09-12T00:00+08:00",
        "--json",
    )
    assert result.exit_code == 0, result.output
    segments = json.loads(result.stdout)["segments"]
    days = [s["playlist"] for s in segments]
    assert days == THEME_DAYS
    # Each theme day runs from one Shanghai midnight (16:00 UTC the day before) to the next.
    assert [s["start"] for s in segments] == [
        f"2022-09-{d:02d}T16:00:00+00:00" for d in range(4, 11)
    ]


def test_group_content_reaches_only_its_group(instance: Instance) -> None:
    publish_demo(instance)
    gate = json.loads(
        instance.run(
            "preview", "--screen", "Gate", "--at", "2022-09-07T08:00+08:00", "--json"
        ).stdout
    )["segment"]
    lobby = json.loads(
        instance.run(
            "preview", "--screen", "Lobby", "--at", "2022-09-07T08:00+08:00", "--json"
        ).stdout
    )["segment"]
    bank = json.loads(
        instance.run(
            "preview", "--screen", "Bank hall", "--at", "2022-09-09T10:00+08:00", "--json"
        ).stdout
    )["segment"]
    assert gate["playlist"] == "campus-morning"
    assert lobby["playlist"] == "telecom-day"
    assert bank["playlist"] == "bank-counter"
    assert [b["playlist"] for b in bank["beaten"]] == ["finance-day", "week"]
