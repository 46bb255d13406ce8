"""What got in a new operator's way (issue 14), each fixed and kept fixed: campaign check
with no organisation, preview's zone and names, serve before `db upgrade`, organisations'
time zones, one-line errors."""

from __future__ import annotations

import logging
import shutil
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.__main__ import cli
from server.accounts.models import Organisation
from server.app import create_app
from server.config import load_settings
from server.screens.models import Screen
from tests.server.signage_cli import Cli

CAMPAIGN = """\
campaign: Drill
timezone: Asia/Shanghai
dates: 2026-01-01 .. 2026-01-31
playlists:
  alert: [{slogan: Drill, duration: 5s}]
schedule:
  - play: alert
"""
ENV = {"SIGNAGE_DATABASE_URL": "", "SIGNAGE_SECRET_KEY": "", "SIGNAGE_MEDIA_PATH": ""}


def test_campaign_check_without_any_organisation_says_how_to_create_one(
    tmp_path: Path, sqlite_template: Path
) -> None:
    folder = tmp_path / "instance"
    folder.mkdir()
    shutil.copyfile(sqlite_template, folder / "signage.db")
    (tmp_path / "drill.yaml").write_text(CAMPAIGN, encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        ["--instance", str(folder), "campaign", "check", str(tmp_path / "drill.yaml")],
        obj={},
        env=ENV,
    )
    assert result.exit_code == 2
    assert "several root organisations" not in result.output
    assert "there is no organisation yet: create one with `signage org create NAME`" in (
        result.stdout
    )


def test_preview_without_an_offset_takes_the_screens_zone_and_says_so(signage: Cli) -> None:
    result = signage.run("preview", "--screen", "Bank hall", "--at", "2026-12-03 10:00", "--json")
    assert result.exit_code == 0, result.output
    assert result.stderr == (
        "note: --at '2026-12-03 10:00' has no UTC offset: read in the screen's time zone,"
        " Asia/Shanghai (+0800)\n"
    )
    assert '"at": "2026-12-03T10:00:00+08:00"' in result.stdout


def test_preview_matches_names_in_any_case_and_suggests_a_close_one(signage: Cli) -> None:
    exact = signage.run("preview", "--screen", "BANK HALL", "--at", "2026-12-03T10:00+08:00")
    assert exact.exit_code == 0, exact.output
    assert exact.stdout.startswith("screen 'Bank hall'")
    typo = signage.run("preview", "--screen", "bank hal", "--at", "2026-12-03T10:00+08:00")
    assert typo.exit_code == 1
    assert typo.stderr == "signage: no screen 'bank hal'; did you mean 'Bank hall'?\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("state", ["no file", "empty file"])
def test_serve_on_a_never_migrated_instance_says_run_db_upgrade(
    signage: Cli, tmp_path: Path, state: str
) -> None:
    folder = tmp_path / "fresh"
    folder.mkdir()
    if state == "empty file":
        (folder / "signage.db").touch()
    done = signage.run_process("--instance", str(folder), "serve", "--port", str(_free_port()))
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "run `signage db upgrade`" in done.stderr
    assert done.stderr.startswith("signage: ")


def test_create_app_on_a_never_migrated_database_logs_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "signage.db").touch()
    settings = load_settings({"instance_path": tmp_path, "secret_key": "x"}, environ={})
    with caplog.at_level(logging.ERROR, logger="server.app"):
        create_app(settings)
    assert [r.getMessage() for r in caplog.records] == [
        "the database has no tables yet: run `signage db upgrade`"
    ]


def test_new_screens_take_their_organisations_zone(
    client: FlaskClient, world, session: Session  # type: ignore[no-untyped-def]
) -> None:
    admin = world["admin"].headers
    r = client.patch(
        f"/api/v1/organisations/{world.province.id}",
        json={"timezone": "Asia/Shanghai"},
        headers=admin,
    )
    assert r.status_code == 200 and r.json["timezone"] == "Asia/Shanghai"
    r = client.post(
        "/api/v1/organisations", json={"name": "Wuhan", "parent_id": world.province.id},
        headers=admin,
    )  # fmt: skip
    assert r.status_code == 201 and r.json["timezone"] == "Asia/Shanghai"  # the parent's
    wuhan = r.json["id"]
    r = client.post(
        "/api/v1/screens", json={"name": "Hall", "organisation_id": wuhan}, headers=admin
    )
    assert r.status_code == 201 and r.json["timezone"] == "Asia/Shanghai"
    r = client.post(
        f"/api/v1/organisations/{wuhan}/enrolment-tokens",
        json={"expires_at": "2026-02-01T00:00:00Z", "max_uses": 3},
        headers=admin,
    )
    assert r.status_code == 201 and r.json["timezone"] == "Asia/Shanghai"
    r = client.post(
        "/api/v1/organisations",
        json={"name": "Bad", "parent_id": wuhan, "timezone": "Asia/Shangai"},
        headers=admin,
    )
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "timezone"
    session.rollback()
    assert session.scalar(select(Organisation.id).where(Organisation.name == "Bad")) is None
    assert session.scalar(select(Screen.timezone).where(Screen.name == "Hall")) == "Asia/Shanghai"
