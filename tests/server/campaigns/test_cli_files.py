"""check, plan, apply, export through the `signage` command on a real instance."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from click.testing import CliRunner
from PIL import Image

from server.__main__ import cli
from tests.server.campaigns.conftest import DEMO_FILE, Instance

BAD = """\
campaign: Broken week
timezone: Asia/Shangai
dates: 2022-09-05 .. 2022-09-11
colour: red
targets: {groups: [nowhere]}
playlists:
  week:
    - slogan: "网络安全为人民"
      duration: 10
    - poster: posters/missing.png
      duration: 15s
schedule:
  - play: weak
  - play: week
    on: 2022-09-20
  - play: week
    between: "09:00-09:00"
    days: [mon, funday]
  - play: week
    from: 2022-09-08T14:30
    until: 2022-09-08T14:00
"""

EXPECTED = [
    "bad.yaml:2: timezone: unknown time zone 'Asia/Shangai'",
    "bad.yaml:4: colour: unknown key",
    "bad.yaml:9: playlists.week[0].duration: '10' is not a duration",
    "bad.yaml:10: playlists.week[1].poster: no such file",
    "bad.yaml:13: schedule[0].play: unknown playlist 'weak'",
    "bad.yaml:15: schedule[1].on: lies outside the campaign's dates",
    "bad.yaml:17: schedule[2].between: '09:00-09:00' starts and ends at the same time",
    "bad.yaml:18: schedule[2].days[1]: 'funday' is not a weekday",
    "bad.yaml:21: schedule[3].until: must be after `from`",
]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_check_reports_every_problem_with_its_line_and_exits_2(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.yaml", BAD)
    missing_instance = tmp_path / "no-instance"
    before = sorted(os.listdir(tmp_path))
    os.chdir(tmp_path)
    result = CliRunner().invoke(
        cli,
        ["--instance", str(missing_instance), "campaign", "check", "bad.yaml"],
        obj={},
        env={"SIGNAGE_SECRET_KEY": "", "SIGNAGE_DATABASE_URL": ""},
    )
    assert result.exit_code == 2, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == len(EXPECTED)
    for line, expected in zip(lines, EXPECTED, strict=True):
        assert line.startswith(expected), (line, expected)
    assert not missing_instance.exists()  # not even an instance folder
    assert sorted(os.listdir(tmp_path)) == before
    assert bad.read_text(encoding="utf-8") == BAD


def test_check_against_the_database_names_unknown_groups_and_writes_nothing(
    instance: Instance, tmp_path: Path
) -> None:
    text = BAD.replace("Asia/Shangai", "Asia/Shanghai").replace("colour: red\n", "")
    text = text.split("schedule:")[0].replace("duration: 10\n", "duration: 10s\n")
    Image.new("RGB", (64, 36), "red").save(tmp_path / "p.png")
    text = text.replace("posters/missing.png", "p.png") + "schedule:\n  - play: week\n"
    bad = write(tmp_path, "bad.yaml", text)
    before = instance.counts()
    media_before = sorted(p.name for p in instance.folder.rglob("*"))
    result = instance.run("campaign", "check", str(bad), "--org", "Province")
    assert result.exit_code == 2, result.output
    assert result.stdout.splitlines() == [
        f"{bad}:4: targets.groups: no group 'nowhere' in 'Province' and its sub-organisations"
    ]
    assert instance.counts() == before
    assert sorted(p.name for p in instance.folder.rglob("*")) == media_before


def test_apply_twice_changes_nothing_the_second_time(instance: Instance) -> None:
    first = instance.run("campaign", "apply", str(DEMO_FILE), "--org", "Province", "--publish")
    assert first.exit_code == 0, first.output
    counts = instance.counts()
    assert counts["publications"] == 1 and counts["campaigns"] == 1
    assert counts["assets"] == 8 + 13  # posters + slogans
    again = instance.run("campaign", "apply", str(DEMO_FILE), "--org", "Province", "--publish")
    assert again.exit_code == 0, again.output
    assert "is unchanged (published)" in again.stdout
    assert instance.counts() == counts  # no rows, no audit events, no content version


def test_export_apply_export_is_identical(instance: Instance, tmp_path: Path) -> None:
    assert instance.run("campaign", "apply", str(DEMO_FILE), "--org", "Province").exit_code == 0
    name = "Cybersecurity Publicity Week 2022 (Fujian)"
    first = instance.run("campaign", "export", name)
    assert first.exit_code == 0, first.output
    assert "poster: sha256:" in first.stdout and "on: 2022-09-07" in first.stdout
    exported = write(tmp_path, "exported.yaml", first.stdout)
    counts = instance.counts()
    assert instance.run("campaign", "apply", str(exported)).exit_code == 0
    assert instance.counts() == counts
    assert instance.run("campaign", "export", name).stdout == first.stdout

    # With --out the posters travel with the file, and the round trip still holds.
    out = instance.run("campaign", "export", name, "--out", str(tmp_path / "a"))
    assert out.exit_code == 0, out.output
    written = Path(out.stdout.strip())
    text = written.read_text(encoding="utf-8")
    assert "poster: posters/telecom-day.png" in text
    assert (tmp_path / "a" / "posters" / "telecom-day.png").is_file()
    assert instance.run("campaign", "apply", str(written)).exit_code == 0
    assert instance.counts() == counts
    again = instance.run("campaign", "export", name, "--out", str(tmp_path / "b"))
    assert Path(again.stdout.strip()).read_text(encoding="utf-8") == text


def test_start_on_moves_every_date_alike(instance: Instance, tmp_path: Path) -> None:
    result = instance.run(
        "campaign", "apply", str(DEMO_FILE), "--org", "Province", "--start-on", "2026-01-05"
    )
    assert result.exit_code == 0, result.output
    exported = instance.run(
        "campaign", "export", "Cybersecurity Publicity Week 2022 (Fujian)"
    ).stdout
    assert "dates: 2026-01-05 .. 2026-01-11" in exported
    assert "on: 2026-01-07" in exported and "on: 2022" not in exported
    with_interval = write(
        tmp_path,
        "drill.yaml",
        "campaign: Drill\ntimezone: Asia/Shanghai\ndates: 2022-09-05 .. 2022-09-11\n"
        "playlists:\n  alert: [{slogan: Drill, duration: 5s}]\nschedule:\n"
        "  - play: alert\n    layer: takeover\n"
        "    from: 2022-09-08T14:00\n    until: 2022-09-08T14:30\n",
    )
    moved = instance.run(
        "campaign", "apply", str(with_interval), "--org", "Province", "--start-on", "2022-10-03"
    )
    assert moved.exit_code == 0, moved.output
    drill = instance.run("campaign", "export", "Drill").stdout
    assert "from: 2022-10-06T14:00\n" in drill and "until: 2022-10-06T14:30\n" in drill


def test_plan_lists_changes_and_reports_a_conflict(instance: Instance, tmp_path: Path) -> None:
    assert (
        instance.run(
            "campaign", "apply", str(DEMO_FILE), "--org", "Province", "--publish"
        ).exit_code
        == 0
    )
    rival = write(
        tmp_path,
        "rival.yaml",
        "campaign: Rival\ntimezone: Asia/Shanghai\ndates: 2022-09-07\n"
        "playlists:\n  telecom-rival: [{slogan: Rival, duration: 5s}]\n"
        "schedule:\n  - play: telecom-rival\n    priority: 10\n",
    )
    result = instance.run("campaign", "plan", str(rival), "--org", "Province")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "campaign 'Rival' in 'Province': new" in out
    assert "+ playlist telecom-rival item 1: slogan 'Rival' (5s)" in out
    assert "+ schedule[0]: play telecom-rival" in out
    # The campus screen's morning slot outranks both, so its tie comes in two stretches.
    assert "conflicts (3), times in Asia/Shanghai:" in out
    assert "2022-09-07 00:00 .. 2022-09-08 00:00 on Lobby, Bank hall: 2 rules tie" in out
    assert "2022-09-07 00:00 .. 2022-09-07 07:30 on Gate: 2 rules tie" in out
    assert "this campaign schedule[0] plays because it was published most recently" in out
    assert "plays: this campaign schedule[0]" in out
    assert "tied: campaign 'Cybersecurity Publicity Week 2022 (Fujian)' schedule[3]" in out
    data = json.loads(
        instance.run("campaign", "plan", str(rival), "--org", "Province", "--json").stdout
    )
    assert data["new"] is True and len(data["conflicts"]) == 3
    assert instance.counts()["campaigns"] == 1  # plan wrote nothing

    # Planning the applied file again: no changes; an edit shows as one.
    same = instance.run("campaign", "plan", str(DEMO_FILE), "--org", "Province")
    assert "published, no changes" in same.stdout
    edited = write(
        tmp_path, "edited.yaml", DEMO_FILE.read_text(encoding="utf-8").replace("15s", "20s", 1)
    )
    # Posters are read relative to the file: give the copy the same ../media (a copy: a link
    # out of the campaign's folder is refused).
    shutil.copytree(DEMO_FILE.parent.parent / "media", tmp_path.parent / "media")
    plan = instance.run("campaign", "plan", str(edited), "--org", "Province")
    assert plan.exit_code == 0, plan.output
    assert "published, 1 changes (would go back to draft)" in plan.stdout
    assert (
        "~ playlist opening-day item 1: image week-opening.png (15s)"
        " → image ../media/posters/week-opening.png (20s)"
    ) in plan.stdout


def test_preview_says_why_the_rule_won_by_name(instance: Instance) -> None:
    published = instance.run("campaign", "apply", str(DEMO_FILE), "--org", "Province", "--publish")
    assert published.exit_code == 0, published.output
    morning = instance.run("preview", "--screen", "Gate", "--at", "2022-09-06T08:00+08:00")
    assert morning.exit_code == 0, morning.output
    assert "  why      priority: 20 beats 10" in morning.stdout
    assert "schedule[2]" in morning.stdout and "(lost on priority)" in morning.stdout
    as_json = instance.run(
        "preview", "--screen", "Gate", "--at", "2022-09-06T08:00+08:00", "--json"
    )
    segment = json.loads(as_json.stdout)["segment"]
    assert segment["why"] == "priority" and segment["rule"]["specificity"] == "group"
    assert [b["lost_on"] for b in segment["beaten"]] == ["priority", "priority"]


CITY_BANKS = """\
campaign: Bank week
timezone: Asia/Shanghai
dates: {dates}
targets: {{groups: [bank-branches]}}
playlists:
  counter: [{{slogan: 银行提示, duration: 5s}}]
schedule:
  - play: counter
    days: [mon, tue, wed, thu, fri]
    priority: 30
"""


def test_check_and_plan_note_what_saves_a_week_without_failing(
    instance: Instance, tmp_path: Path
) -> None:
    # The demo file's dates (2022) are all in the past by the instance's clock.
    checked = instance.run("campaign", "check", str(DEMO_FILE), "--org", "Province")
    assert checked.exit_code == 0, checked.output
    assert (
        f"note: {DEMO_FILE}:10: dates: every date (2022-09-05 .. 2022-09-11) is in the past:"
        " is the year right?" in checked.stderr
    )
    ahead = instance.run(
        "campaign", "check", str(DEMO_FILE), "--org", "Province", "--start-on", "2099-01-05"
    )
    assert ahead.exit_code == 0 and "starts more than a year from now" in ahead.stderr
    # The province's week is published; a city campaign for its bank branches, weekdays
    # only, outranks the theme days there and leaves the weekend empty.
    published = instance.run("campaign", "apply", str(DEMO_FILE), "--org", "Province", "--publish")
    assert published.exit_code == 0, published.output
    banks = write(tmp_path, "banks.yaml", CITY_BANKS.format(dates="2022-09-05 .. 2022-09-11"))
    plan = instance.run("campaign", "plan", str(banks), "--org", "City")
    assert plan.exit_code == 0, plan.output
    notes = [line for line in plan.stderr.splitlines() if line.startswith("note:")]
    assert f"note: {banks}:3: dates: every date" in notes[0]
    theme = [n for n in notes if "theme day" in n]
    # Monday to Friday, and the province's one-day bank-counter entry on Friday.
    assert len(theme) == 6 and all(n.startswith(f"note: {banks}:8: schedule[0]") for n in theme)
    assert (
        "takes over campaign 'Cybersecurity Publicity Week 2022 (Fujian)' schedule[3]"
        " (play telecom-day on 2022-09-07 priority 10)" in theme[2]
    )
    assert theme[2].endswith(
        "a parent organisation's theme day, on 1 screen (Bank hall) on 2022-09-07"
    )
    assert notes[-1] == (
        f"note: {banks}:8: schedule: on 2022-09-10, 2022-09-11 nothing of this campaign plays"
        " on 1 of the 1 screen it targets (Bank hall)"
    )
    as_json = instance.run("campaign", "plan", str(banks), "--org", "City", "--json")
    kinds = [n["kind"] for n in json.loads(as_json.stdout)["notes"]]
    assert kinds == ["dates"] + ["theme-day"] * 6 + ["empty-day"]
    # check says the same notes as plan
    again = instance.run("campaign", "check", str(banks), "--org", "City")
    assert again.exit_code == 0
    assert [line for line in again.stderr.splitlines() if line.startswith("note:")] == notes
