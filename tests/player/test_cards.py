"""The built-in cards draw a Chinese screen name with real glyphs, not tofu boxes, without
`--font`; and the pairing code reaches the log as well as the screen."""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Iterator

import pytest
from PIL import Image, ImageChops, ImageDraw

from player.display import cards

NAME = "银行大厅"
# Code points no font has: every font draws its missing-glyph box for them.
ABSENT = "\U0010fffd" * len(NAME)


def _has_cjk_font() -> bool:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False
    out = subprocess.run(  # noqa: S603
        [fc_list, ":lang=zh", "file"], capture_output=True, text=True, check=False
    ).stdout
    return bool(out.strip())


needs_cjk = pytest.mark.skipif(
    not _has_cjk_font(), reason="no font with Chinese glyphs (scripts/system-deps installs one)"
)


@pytest.fixture(autouse=True)
def fresh_lookup() -> Iterator[None]:
    cards.cjk_font.cache_clear()
    cards.font.cache_clear()
    yield
    cards.cjk_font.cache_clear()
    cards.font.cache_clear()


def _drawn(text: str) -> Image.Image:
    image = Image.new("L", (400, 80), 0)
    ImageDraw.Draw(image).text((10, 10), text, font=cards.font(48), fill=255)
    return image


@needs_cjk
def test_fontconfig_finds_a_font_that_speaks_chinese() -> None:
    found = cards.cjk_font()
    assert found is not None
    path, index = found
    langs = subprocess.run(  # noqa: S603
        [str(shutil.which("fc-query")), "--index", str(index), "--format", "%{lang}", path],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    assert "zh-cn" in langs.split("|")


@needs_cjk
def test_a_chinese_name_is_drawn_with_glyphs_not_boxes_by_default() -> None:
    name, boxes = _drawn(NAME), _drawn(ABSENT)
    assert name.getbbox() is not None  # something was drawn
    assert ImageChops.difference(name, boxes).getbbox() is not None
    # And each character is its own shape, which boxes never are.
    first, second = _drawn(NAME[0]), _drawn(NAME[1])
    assert ImageChops.difference(first, second).getbbox() is not None


@needs_cjk
def test_the_pairing_card_with_a_chinese_name_differs_from_one_with_boxes() -> None:
    size = (640, 360)
    named = cards.pairing_card(size, code="ABC123", server="http://s", name=NAME)
    boxed = cards.pairing_card(size, code="ABC123", server="http://s", name=ABSENT)
    assert ImageChops.difference(named, boxed).getbbox() is not None


def test_without_fontconfig_the_cards_fall_back_to_pillows_font(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    assert cards.cjk_font() is None
    card = cards.pairing_card((320, 180), code="ABC123", server="http://s", name=NAME)
    assert card.size == (320, 180)
    assert card.getpixel((2, 2)) == cards.PAIRING_BACKGROUND


def test_a_font_file_that_cannot_be_read_falls_back(tmp_path: object) -> None:
    face = cards.font(24, "/nonexistent/font.ttf")
    assert face is not None
    card = cards.idle_card((320, 180), name="Lobby", font_path="/nonexistent/font.ttf")
    assert card.getpixel((2, 2)) == cards.IDLE_BACKGROUND


__all__ = ["logging"]
