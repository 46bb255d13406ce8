"""The built-in cards, drawn with Pillow: the pairing card and the idle card. Never black."""

from __future__ import annotations

import logging
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Final

from PIL import Image, ImageDraw, ImageFont

log = logging.getLogger(__name__)

PAIRING_NAME = "card:pairing"
IDLE_NAME = "card:idle"
PAIRING_BACKGROUND = (16, 42, 67)
IDLE_BACKGROUND = (24, 38, 52)
INK = (245, 247, 250)
MUTED = (159, 179, 200)
ACCENT = (255, 196, 61)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


FC_MATCH_TIMEOUT_S: Final = 5.0
# `:lang=zh` alone lets fontconfig's family preference win (DejaVu on Debian, no Chinese
# glyphs), so ask for a sans-serif face that speaks Chinese first.
CJK_PATTERNS: Final = ("sans-serif:lang=zh-cn", ":lang=zh")


@lru_cache(maxsize=1)
def cjk_font() -> tuple[str, int] | None:
    """A font file (and face index) with Chinese glyphs, found through fontconfig; None
    when fontconfig is missing or knows no such font (cards then use Pillow's own)."""
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        log.info("fontconfig (fc-match) not found: non-Latin screen names need --font")
        return None
    for pattern in CJK_PATTERNS:
        try:
            # A fixed pattern in an argument list, never through a shell.
            result = subprocess.run(  # noqa: S603
                [fc_match, "--format", "%{file}\n%{index}\n%{lang}", pattern],
                capture_output=True,
                text=True,
                timeout=FC_MATCH_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.info("font lookup failed (%s): non-Latin screen names need --font", exc)
            return None
        parts = result.stdout.split("\n")
        if result.returncode != 0 or len(parts) < 3:
            continue
        path, index, langs = parts[0], parts[1], parts[2].split("|")
        if any(lang.startswith("zh") for lang in langs) and Path(path).is_file():
            return path, int(index) if index.isdigit() else 0
    log.info("no font with Chinese glyphs found: non-Latin screen names need --font")
    return None


@lru_cache(maxsize=32)
def font(size: int, path: str | None = None) -> Font:
    """A font of `size` pixels: the given TrueType/OpenType file, else a Chinese-capable
    font from fontconfig, else Pillow's own."""
    if path:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            log.warning("cannot load the font %s; using a system font", path)
    found = cjk_font()
    if found is not None:
        try:
            return ImageFont.truetype(found[0], size, index=found[1])
        except OSError:
            pass
    return ImageFont.load_default(size=size)


def _line(
    draw: ImageDraw.ImageDraw,
    text: str,
    centre_y: float,
    size: int,
    width: int,
    fill: tuple[int, int, int],
    font_path: str | None,
) -> None:
    """Draw `text` centred at `centre_y`, shrunk until it fits 90 % of the width."""
    while size > 8:
        face = font(size, font_path)
        if draw.textlength(text, font=face) <= width * 0.9:
            break
        size = int(size * 0.9)
    face = font(size, font_path)
    draw.text((width / 2, centre_y), text, font=face, fill=fill, anchor="mm")


def pairing_card(
    size: tuple[int, int],
    *,
    code: str | None,
    server: str,
    name: str | None = None,
    font_path: str | None = None,
) -> Image.Image:
    """The card a new screen shows: its pairing code, big, and where to enter it."""
    width, height = size
    image = Image.new("RGB", size, PAIRING_BACKGROUND)
    draw = ImageDraw.Draw(image)
    unit = min(width, height * 16 / 9) / 100
    _line(draw, "Pair this screen", height * 0.18, int(unit * 4.5), width, MUTED, font_path)
    if code:
        _line(draw, " ".join(code), height * 0.45, int(unit * 14), width, ACCENT, font_path)
        hint = "Enter this code under Screens > Pair in Signage Scheduler"
    else:
        _line(draw, "Connecting...", height * 0.45, int(unit * 7), width, INK, font_path)
        hint = "Waiting for the server to hand out a pairing code"
    _line(draw, hint, height * 0.68, int(unit * 2.6), width, INK, font_path)
    _line(draw, server, height * 0.76, int(unit * 2.4), width, MUTED, font_path)
    if name:
        _line(draw, name, height * 0.9, int(unit * 2.4), width, MUTED, font_path)
    return image


def idle_card(
    size: tuple[int, int],
    *,
    name: str | None = None,
    detail: str | None = None,
    font_path: str | None = None,
) -> Image.Image:
    """The card shown when nothing is scheduled or nothing scheduled can be shown."""
    width, height = size
    image = Image.new("RGB", size, IDLE_BACKGROUND)
    draw = ImageDraw.Draw(image)
    unit = min(width, height * 16 / 9) / 100
    _line(draw, "Signage Scheduler", height * 0.45, int(unit * 6), width, INK, font_path)
    if detail:
        _line(draw, detail, height * 0.58, int(unit * 2.6), width, MUTED, font_path)
    if name:
        _line(draw, name, height * 0.9, int(unit * 2.4), width, MUTED, font_path)
    return image
