"""Issue 12, finding 11: campaign YAML aliases are refused before they expand, and poster
paths stay inside the campaign's folder."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from PIL import Image

from server.campaigns.files.load import load_campaign

HEAD = "campaign: C\ntimezone: UTC\ndates: 2026-01-01 .. 2026-01-07\n"


def test_finding_11_yaml_aliases_are_refused_before_they_expand(tmp_path: Path) -> None:
    # An alias bomb: each entry repeats the one before 12 times, 12**5 ≈ 250,000 entries in
    # six lines (large enough to show expansion, small enough to finish on the old code).
    bomb = tmp_path / "playlists" / "bomb.yaml"
    bomb.parent.mkdir()
    bomb.write_text(
        HEAD
        + "playlists:\n  p:\n    - {slogan: Hi, duration: 5s}\n"
        + "schedule:\n  - &e0 {play: p}\n"
        + "".join(f"  - &e{n} [" + ", ".join([f"*e{n - 1}"] * 12) + "]\n" for n in range(1, 6))
    )
    tracemalloc.start()
    try:
        spec, problems = load_campaign(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert spec is None
    assert any("alias" in p.reason for p in problems), problems[:3]
    assert len(problems) < 10
    assert peak < 20 * 1024 * 1024, peak


def test_finding_11_poster_paths_stay_inside_the_campaigns_folder(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "playlists").mkdir(parents=True)
    (project / "media").mkdir()
    Image.new("RGB", (64, 36), "red").save(project / "media" / "ok.png")
    Image.new("RGB", (64, 36), "blue").save(tmp_path / "secret.png")
    (project / "playlists" / "link.png").symlink_to(tmp_path / "secret.png")

    def problems_for(poster: str) -> list[str]:
        path = project / "playlists" / "c.yaml"
        path.write_text(
            HEAD
            + f"playlists:\n  p:\n    - {{poster: {poster}, duration: 5s}}\n"
            + "schedule:\n  - play: p\n"
        )
        _, found = load_campaign(path)
        return [f"{p.field}: {p.reason}" for p in found]

    assert problems_for("../media/ok.png") == []
    for outside in ("../../secret.png", "../media/../../secret.png", "link.png"):
        found = problems_for(outside)
        assert any("inside the campaign" in p for p in found), (outside, found)
