"""`signage campaign check|plan|apply --server URL --token T` against a running server prints
what the local command prints against the same database, line for line, with the same exit
status: an operator never needs a shell on the server."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from tests.integration.conftest import VENV_BIN, Admin, ServerProcess, StartServer

pytestmark = pytest.mark.integration
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

GOOD = """\
campaign: Campus week
timezone: Asia/Shanghai
dates: 2026-01-05 .. 2026-01-11
playlists:
  week:
    - poster: posters/campus.png
      duration: 10s
    - slogan: "网络安全为人民"
      duration: 8s
schedule:
  - play: week
    between: "08:00-18:00"
"""

BAD = """\
campaign: Broken week
timezone: Asia/Shangai
dates: 2026-01-05 .. 2026-01-11
playlists:
  week:
    - poster: posters/missing.png
      duration: 15s
schedule:
  - play: weak
"""


def write_files(folder: Path) -> tuple[Path, Path]:
    (folder / "posters").mkdir(parents=True)
    Image.new("RGB", (640, 360), "teal").save(folder / "posters" / "campus.png")
    good, bad = folder / "good.yaml", folder / "bad.yaml"
    good.write_text(GOOD, encoding="utf-8")
    bad.write_text(BAD, encoding="utf-8")
    return good, bad


def signage(server: ServerProcess, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "signage"), *args],
        env=server.env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
    )


def remote(
    server: ServerProcess, admin: Admin, *args: str, cwd: Path
) -> subprocess.CompletedProcess[str]:
    return signage(server, *args, "--server", server.base_url, "--token", admin.token, cwd=cwd)


def same(local: subprocess.CompletedProcess[str], far: subprocess.CompletedProcess[str]) -> None:
    assert (far.returncode, far.stdout, far.stderr) == (
        local.returncode,
        local.stdout,
        local.stderr,
    )


def test_check_plan_and_apply_say_the_same_remotely(
    start_server: StartServer, tmp_path: Path
) -> None:
    here = start_server("here")
    there = start_server("there")
    admins = []
    for server in (here, there):
        server.set_clock(NOW)
        admins.append(server.seed_admin(organisation="City"))
    files = tmp_path / "files"
    good, bad = write_files(files)

    # A file with problems: each with its line, exit status 2, from both.
    local = signage(here, "campaign", "check", "bad.yaml", cwd=files)
    assert local.returncode == 2, local.stderr
    assert "bad.yaml:2: timezone: unknown time zone 'Asia/Shangai'" in local.stdout
    same(local, remote(here, admins[0], "campaign", "check", "bad.yaml", cwd=files))

    for command in (("check",), ("plan",), ("plan", "--json")):
        local = signage(here, "campaign", *command, "good.yaml", cwd=files)
        assert local.returncode == 0, local.stderr
        same(local, remote(here, admins[0], "campaign", *command, "good.yaml", cwd=files))

    # Applying: locally on one instance, remotely on its twin; both say the same.
    local = signage(here, "campaign", "apply", "good.yaml", "--org", "City", cwd=files)
    far = remote(there, admins[1], "campaign", "apply", "good.yaml", "--org", "City", cwd=files)
    assert local.returncode == 0 and "created campaign 'Campus week'" in local.stdout
    same(local, far)
    # and a second time, nothing to change on either.
    again = remote(there, admins[1], "campaign", "apply", "good.yaml", cwd=files)
    assert again.returncode == 0 and "is unchanged (draft)" in again.stdout, again.stdout


def test_another_organisations_campaign_is_not_there(
    start_server: StartServer, tmp_path: Path
) -> None:
    server = start_server()
    server.set_clock(NOW)
    server.seed_admin(organisation="City")
    outsider = server.seed_admin(organisation="Elsewhere", email="other@example.test")
    files = tmp_path / "files"
    good, _ = write_files(files)
    far = remote(server, outsider, "campaign", "plan", "good.yaml", "--org", "City", cwd=files)
    assert far.returncode == 2
    assert "no organisation 'City'" in far.stdout
    applied = remote(server, outsider, "campaign", "apply", "good.yaml", "--org", "City", cwd=files)
    assert applied.returncode == 2 and "no organisation 'City'" in applied.stdout


def test_a_bad_token_is_one_line_and_exit_1(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server()
    files = tmp_path / "files"
    good, _ = write_files(files)
    far = signage(
        server,
        "campaign",
        "check",
        "good.yaml",
        "--server",
        server.base_url,
        "--token",
        "nope",
        cwd=files,
    )
    assert far.returncode == 1
    assert far.stderr.startswith("signage: the server answered 401")
    assert "Traceback" not in far.stderr
