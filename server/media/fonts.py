"""Fonts for slogans: found through fontconfig, checked for every glyph before drawing."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Final, Literal

from PIL import Image, ImageDraw, ImageFont

from server.media.errors import FieldError, InvalidMediaRequest, MediaSetupError, MediaUnavailable

Weight = Literal["regular", "bold"]
FC_MATCH_TIMEOUT: Final = 10.0
# A code point no font assigns (the last of plane 16, private use, noncharacter-adjacent):
# any font draws its missing-glyph (.notdef) shape for it.
ABSENT_CODE_POINT: Final = "\U0010fffd"
_PROBE_SIZE: Final = 48
_FC_SPECIAL: Final = str.maketrans({c: f"\\{c}" for c in "\\-:,"})


@dataclass(frozen=True)
class FontFile:
    """A face inside a font file (collections such as .ttc hold several)."""

    path: Path
    index: int
    family: str


@lru_cache(maxsize=64)
def find_font(family: str, weight: Weight = "regular") -> FontFile:
    """The font file fontconfig has for `family` at `weight`.

    Raises InvalidMediaRequest if fontconfig would only substitute another family: drawing a
    slogan in a font nobody chose is worse than refusing it.
    """
    if not family or any(ord(c) < 32 for c in family):
        raise InvalidMediaRequest(
            f"invalid font family {family!r}", [FieldError("font_family", "empty or control")]
        )
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        raise MediaSetupError("fontconfig (fc-match) is not installed; it is needed for slogans")
    pattern = f"{family.translate(_FC_SPECIAL)}:weight={weight}"
    # Arguments are a list and never go through a shell; the family is escaped for
    # fontconfig's own pattern syntax above.
    try:
        result = subprocess.run(  # noqa: S603
            [fc_match, "--format", "%{file}\n%{index}\n%{family}", pattern],
            capture_output=True,
            text=True,
            timeout=FC_MATCH_TIMEOUT,
            check=False,
        )
    except (subprocess.TimeoutExpired, OSError) as exc:
        raise MediaUnavailable(f"font lookup failed ({type(exc).__name__})") from None
    lines = result.stdout.split("\n")
    if result.returncode != 0 or len(lines) < 3 or not lines[0] or not lines[1].isdigit():
        raise InvalidMediaRequest(
            f"font family {family!r} is not installed",
            [FieldError("font_family", "not found by fontconfig")],
        )
    families = [name.strip().casefold() for name in lines[2].split(",")]
    if family.strip().casefold() not in families:
        raise InvalidMediaRequest(
            f"font family {family!r} is not installed (fontconfig offers {lines[2]!r})",
            [FieldError("font_family", "not installed")],
        )
    return FontFile(Path(lines[0]), int(lines[1]), lines[2].split(",")[0])


def font_file_at(path: Path, index: int = 0) -> FontFile:
    """A FontFile for an explicitly configured path; its family read from the font."""
    try:
        face = ImageFont.truetype(str(path), _PROBE_SIZE, index=index)
    except OSError as exc:
        raise InvalidMediaRequest(
            f"cannot load font {str(path)!r}: {exc}", [FieldError("font_path", str(exc))]
        ) from None
    family, _style = face.getname()
    return FontFile(Path(path), index, family or Path(path).stem)


@lru_cache(maxsize=128)
def load_font(font: FontFile, size: int) -> ImageFont.FreeTypeFont:
    """The face at `size` pixels (cached: fitting asks for the same sizes repeatedly)."""
    return ImageFont.truetype(str(font.path), size, index=font.index)


def _signature(face: ImageFont.FreeTypeFont, ch: str) -> tuple[tuple[int, ...], bytes]:
    """What `ch` looks like in `face`: its ink box and its pixels."""
    left, top, right, bottom = (int(v) for v in face.getbbox(ch))
    width, height = max(1, right - left), max(1, bottom - top)
    canvas = Image.new("L", (width, height), 0)
    ImageDraw.Draw(canvas).text((-left, -top), ch, font=face, fill=255)
    return (left, top, right, bottom, int(face.getlength(ch) * 64)), canvas.tobytes()


@lru_cache(maxsize=64)
def _notdef(font: FontFile) -> tuple[tuple[int, ...], bytes]:
    return _signature(load_font(font, _PROBE_SIZE), ABSENT_CODE_POINT)


@lru_cache(maxsize=8192)
def has_glyph(font: FontFile, ch: str) -> bool:
    """True if `font` draws `ch` as something other than its missing-glyph shape."""
    return _signature(load_font(font, _PROBE_SIZE), ch) != _notdef(font)


def missing_glyphs(text: str, font: FontFile) -> list[str]:
    """The distinct characters of `text` (whitespace aside) that `font` cannot draw."""
    seen: dict[str, None] = {}
    for ch in text:
        if not ch.isspace() and ch not in seen:
            seen[ch] = None
    return [ch for ch in seen if not has_glyph(font, ch)]


def check_glyphs(text: str, font: FontFile, field: str = "text") -> None:
    """Raise InvalidMediaRequest naming every character of `text` that `font` lacks."""
    missing = missing_glyphs(text, font)
    if missing:
        listed = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in missing)
        raise InvalidMediaRequest(
            f"font {font.family!r} cannot draw: {listed}",
            [FieldError(field, f"characters missing from font {font.family!r}: {listed}")],
        )
