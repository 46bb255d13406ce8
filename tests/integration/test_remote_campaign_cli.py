"""`signage campaign check|plan|apply --server URL --token T` against a running server prints
what the local command prints against the same database, line for line, with the same exit
status: an operator never needs a shell on the server."""

from __future__ import annotations

import difflib
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
    said = [f"exit {p.returncode}\n{p.stdout}{p.stderr}".splitlines() for p in (local, far)]
    diff = "\n".join(difflib.unified_diff(*said, "local", "--server", lineterm=""))
    assert said[0] == said[1], diff
    assert (far.stdout, far.stderr) == (local.stdout, local.stderr)


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


def test_the_approval_steps_say_the_same_remotely(
    start_server: StartServer, tmp_path: Path
) -> None:
    """Twin servers, one driven by the local command (`--as`), the other by --server with the
    same people's tokens: every step prints the same, refusals included, and the server
    driven remotely ends in the state the lines say."""
    here, there = start_server("here"), start_server("there")
    tokens = []
    for server in (here, there):
        server.set_clock(NOW)
        author = server.seed_admin(organisation="City", email="author@city.test")
        approver = server.seed_admin(organisation="City", email="approver@city.test")
        tokens.append({"author@city.test": author, "approver@city.test": approver})
    files = tmp_path / "files"
    write_files(files)
    for server in (here, there):
        applied = signage(server, "campaign", "apply", "good.yaml", "--org", "City", cwd=files)
        assert applied.returncode == 0, applied.stdout + applied.stderr

    def both(email: str, *step: str) -> subprocess.CompletedProcess[str]:
        local = signage(here, "campaign", *step, "--as", email, cwd=files)
        far = remote(there, tokens[1][email], "campaign", *step, cwd=files)
        same(local, far)
        return far

    steps = [
        ("author@city.test", ("submit", "Campus week"), 0, "submitted"),
        ("author@city.test", ("approve", "Campus week"), 1, "own submission"),
        ("approver@city.test", ("send-back", "Campus week", "--comment", "方框里写错了年份"), 0,
         "draft"),
        ("author@city.test", ("submit", "1", "--json"), 0, '"status": "submitted"'),
        ("approver@city.test", ("approve", "Campus week"), 0, "approved"),
        ("approver@city.test", ("publish", "Campus week"), 0, "on screens from"),
        ("approver@city.test", ("archive", "No such week"), 1, "no campaign 'No such week'"),
        ("approver@city.test", ("archive", "Campus week", "--org", "Nowhere"), 1,
         "no campaign 'Campus week' in 'Nowhere'"),
    ]  # fmt: skip
    for email, step, status, said in steps:
        far = both(email, *step)
        assert far.returncode == status, (step, far.stdout, far.stderr)
        assert said in far.stdout + far.stderr, (step, far.stdout, far.stderr)

    from server.campaigns.models import Campaign

    with there.session() as session:
        campaign = session.get(Campaign, 1)
        assert campaign is not None and campaign.status.value == "published"
        assert campaign.approved_by_id is not None
