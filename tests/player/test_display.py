"""Display backends: one contract for all, then what each one adds.

The pygame backend runs on SDL's dummy video driver and is checked by reading back its surface.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from player.display import Display, Frame, open_display
from player.display.headless import HeadlessDisplay
from player.errors import ConfigError

T = datetime(2022, 9, 5, 2, 0, 0, 250000, tzinfo=UTC)
SIZE = (160, 90)
RED, BLUE, BLACK = (255, 0, 0), (0, 0, 255), (0, 0, 0)


def frame(
    color: tuple[int, int, int], name: str = "a" * 64, playlist: str | None = "week"
) -> Frame:
    return Frame(Image.new("RGB", SIZE, color), name, playlist)


@pytest.fixture
def sdl_dummy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")


@pytest.fixture(params=["headless", "window"])
def display(request: pytest.FixtureRequest, tmp_path: Path, sdl_dummy: None) -> Iterator[Display]:
    shown = open_display(request.param, SIZE, data_dir=tmp_path, sleep=lambda s: None)
    yield shown
    shown.close()


def test_contract_shows_what_it_is_given(display: Display) -> None:
    assert display.size == SIZE
    display.show(frame(RED), "cut", T)
    assert display.snapshot().getpixel((80, 45)) == RED
    display.prepare(frame(BLUE))
    display.show(frame(BLUE), "crossfade", T + timedelta(seconds=10))
    assert display.snapshot().getpixel((80, 45)) == BLUE
    assert display.pump()


def test_unknown_display_kind_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        open_display("hologram", SIZE, data_dir=tmp_path, sleep=lambda s: None)  # type: ignore[arg-type]


def test_headless_writes_the_frame_and_a_change_log(tmp_path: Path) -> None:
    display = HeadlessDisplay(SIZE, tmp_path)
    display.show(frame(RED, "f" * 64), "cut", T)
    display.show(frame(BLUE, "card:idle", None), "crossfade", T + timedelta(seconds=5))
    with Image.open(tmp_path / "frames" / "current.png") as png:
        assert png.size == SIZE and png.convert("RGB").getpixel((1, 1)) == BLUE
    assert (tmp_path / "changes.log").read_text().splitlines() == [
        f"2022-09-05T02:00:00.250Z\t{'f' * 64}\tweek\tcut\t+0",
        "2022-09-05T02:00:05.250Z\tcard:idle\t-\tcrossfade\t+0",
    ]
    assert [p.name for p in (tmp_path / "frames").iterdir()] == ["current.png"]


def test_headless_change_log_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("player.display.headless.LOG_MAX_BYTES", 500)
    display = HeadlessDisplay(SIZE, tmp_path)
    for i in range(20):
        display.show(frame(RED if i % 2 else BLUE), "cut", T + timedelta(seconds=i))
    assert (tmp_path / "changes.log").stat().st_size <= 500 + 120
    assert (tmp_path / "changes.log.1").exists()


def test_headless_snapshot_before_any_frame_has_the_display_size(tmp_path: Path) -> None:
    assert HeadlessDisplay(SIZE, tmp_path).snapshot().size == SIZE


def test_pygame_crossfade_blends_and_is_never_black(tmp_path: Path, sdl_dummy: None) -> None:
    seen: list[tuple[int, int, int]] = []

    def sleep(_seconds: float) -> None:
        seen.append(shown.snapshot().getpixel((80, 45)))  # type: ignore[arg-type]

    shown = open_display("window", SIZE, data_dir=tmp_path, sleep=sleep, crossfade_ms=600)
    try:
        shown.show(frame(RED), "cut", T)
        assert seen == []  # a cut does not animate
        shown.prepare(frame(BLUE))
        shown.show(frame(BLUE), "crossfade", T)
        assert len(seen) == 17  # 600 ms at 30 fps: 17 blended frames, then the new one
        reds = [r for r, _, _ in seen]
        blues = [b for _, _, b in seen]
        assert reds == sorted(reds, reverse=True) and blues == sorted(blues)
        assert all(max(p) > 100 for p in seen)  # no dark dip between the two
        midpoint = seen[len(seen) // 2]
        assert abs(midpoint[0] - 127) <= 16 and abs(midpoint[2] - 128) <= 16
        assert shown.snapshot().getpixel((80, 45)) == BLUE
    finally:
        shown.close()


def test_pygame_compose_at_half_way(tmp_path: Path, sdl_dummy: None) -> None:
    from player.display.pygame_backend import PygameDisplay

    shown = PygameDisplay(SIZE, fullscreen=False, sleep=lambda s: None)
    try:
        red, blue = shown._surface(frame(RED)), shown._surface(frame(BLUE))
        shown.compose(red, blue, 0.5)
        r, g, b = shown.snapshot().getpixel((10, 10))  # type: ignore[misc]
        assert (abs(r - 127) <= 1, g, abs(b - 128) <= 1) == (True, 0, True)
    finally:
        shown.close()


def test_pygame_fullscreen_takes_the_screen_size(tmp_path: Path, sdl_dummy: None) -> None:
    shown = open_display("fullscreen", None, data_dir=tmp_path, sleep=lambda s: None)
    try:
        assert shown.size[0] > 0 and shown.size[1] > 0
        big = Frame(Image.new("RGB", shown.size, RED), "x")
        shown.show(big, "cut", T)
        assert shown.snapshot().getpixel((shown.size[0] - 1, shown.size[1] - 1)) == RED
        assert shown.pump()  # closing events are ignored in fullscreen anyway
    finally:
        shown.close()


def test_headless_logs_the_clock_offset_in_use(tmp_path: Path) -> None:
    display = HeadlessDisplay(SIZE, tmp_path, offset=lambda: timedelta(milliseconds=-3002.4))
    display.show(frame(RED, "f" * 64), "cut", T)
    assert (tmp_path / "changes.log").read_text().endswith("\tcut\t-3002\n")


def test_headless_shows_a_prepared_frame_by_one_rename(tmp_path: Path) -> None:
    display = HeadlessDisplay(SIZE, tmp_path)
    red = Frame(Image.new("RGB", SIZE, (255, 0, 0)), "a" * 64)
    display.prepare(red)
    prepared = list((tmp_path / "frames").glob(".frame-*"))
    assert len(prepared) == 1
    display.show(red, "cut", datetime(2026, 1, 5, tzinfo=UTC))
    assert list((tmp_path / "frames").glob(".frame-*")) == []
    with Image.open(display.frame_path) as shown:
        assert shown.convert("RGB").getpixel((0, 0)) == (255, 0, 0)
    display.prepare(Frame(Image.new("RGB", SIZE, (0, 0, 255)), "b" * 64))
    display.close()
    assert list((tmp_path / "frames").glob(".frame-*")) == []
