"""Slogans: text and a style rendered to a poster image at a screen's resolution.

The font size is fitted: the largest size at which the wrapped text fits inside the
margins. Every character is checked against the font first; a box is never drawn.
"""

from __future__ import annotations

import dataclasses
import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, get_args

from PIL import Image, ImageDraw

from server.media.errors import FieldError, InvalidMediaRequest
from server.media.fonts import FontFile, Weight, check_glyphs, find_font, font_file_at, load_font
from server.media.images import (
    DEFAULT_MAX_PIXELS,
    ImageInfo,
    draft_for,
    opened,
    parse_colour,
    prepare,
    save,
)
from server.media.linebreak import wrap
from server.media.variants import check_size, fit_onto

Align = Literal["left", "center", "right"]
MAX_TEXT_LENGTH: Final = 500
# Breaking only between phrases ("网络安全为人民，/网络安全靠人民") reads far better than
# splitting a word across lines; it is preferred while it costs at most this much size.
PHRASE_SIZE_RATIO: Final = 0.8


@dataclass(frozen=True)
class SloganStyle:
    """How a slogan looks. Margins are a fraction of the screen's short side; line spacing
    is the baseline-to-baseline distance as a multiple of the font size."""

    font_family: str = "Noto Sans CJK SC"
    weight: Weight = "bold"
    # Set by the server's configuration, never from request input: it names a local file.
    font_path: Path | None = None
    font_index: int = 0
    text_color: str = "#FFFFFF"
    background_color: str = "#B0171F"
    # A local image file (e.g. a stored blob's path), cover-fitted behind the text.
    background_image: Path | None = None
    align: Align = "center"
    margin: float = 0.08
    line_spacing: float = 1.3
    min_font_size: int = 12
    max_font_size: int | None = None

    def __post_init__(self) -> None:
        errors: list[FieldError] = []
        for name in ("text_color", "background_color"):
            try:
                parse_colour(getattr(self, name), name)
            except InvalidMediaRequest as exc:
                errors.extend(exc.errors)
        if self.weight not in get_args(Weight):
            errors.append(FieldError("weight", "must be 'regular' or 'bold'"))
        if self.align not in get_args(Align):
            errors.append(FieldError("align", "must be 'left', 'center' or 'right'"))
        if not _is_number(self.margin) or not 0 <= self.margin < 0.5:
            errors.append(FieldError("margin", "must be a fraction from 0 to below 0.5"))
        if not _is_number(self.line_spacing) or not 0.8 <= self.line_spacing <= 4:
            errors.append(FieldError("line_spacing", "must be from 0.8 to 4"))
        if not _is_int(self.min_font_size) or not 4 <= self.min_font_size <= 1000:
            errors.append(FieldError("min_font_size", "must be an integer from 4 to 1000"))
        if self.max_font_size is not None and (
            not _is_int(self.max_font_size) or self.max_font_size < self.min_font_size
        ):
            errors.append(FieldError("max_font_size", "must be an integer >= min_font_size"))
        if not isinstance(self.font_family, str) or not self.font_family.strip():
            errors.append(FieldError("font_family", "must be a non-empty string"))
        if errors:
            raise InvalidMediaRequest("invalid slogan style", errors)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# Fields a client may set; paths to local files are the server's business only.
_CLIENT_FIELDS: Final = {
    "font_family": str,
    "weight": str,
    "text_color": str,
    "background_color": str,
    "align": str,
    "margin": float,
    "line_spacing": float,
    "min_font_size": int,
    "max_font_size": int,
}


def style_from_mapping(data: Mapping[str, object], base: SloganStyle | None = None) -> SloganStyle:
    """A style from request data (JSON), over `base`'s values; InvalidMediaRequest per field."""
    errors: list[FieldError] = []
    values: dict[str, object] = {}
    for key, value in data.items():
        kind = _CLIENT_FIELDS.get(key)
        if kind is None:
            errors.append(FieldError(str(key), "unknown style field"))
        elif key == "max_font_size" and value is None:
            values[key] = None
        elif kind is float and _is_number(value):
            values[key] = float(value)  # type: ignore[arg-type]
        elif kind is int and _is_int(value) or kind is str and isinstance(value, str):
            values[key] = value
        else:
            errors.append(FieldError(key, f"must be {kind.__name__}"))
    if errors:
        raise InvalidMediaRequest("invalid slogan style", errors)
    return dataclasses.replace(base or SloganStyle(), **values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class SloganRender:
    """The fitted font size, the lines as drawn, and the written image."""

    font_size: int
    lines: tuple[str, ...]
    info: ImageInfo
    phrase_breaks: bool = False


def clean_text(text: str) -> str:
    """NFC text with `\\n` line ends, or InvalidMediaRequest (empty, too long, control chars)."""
    if not isinstance(text, str):
        raise InvalidMediaRequest("slogan text must be a string", [FieldError("text", "not text")])
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = "\n".join(line.replace("\t", " ").strip() for line in text.split("\n")).strip("\n")
    if not text.strip():
        raise InvalidMediaRequest("slogan text is empty", [FieldError("text", "empty")])
    if len(text) > MAX_TEXT_LENGTH:
        raise InvalidMediaRequest(
            f"slogan text is longer than {MAX_TEXT_LENGTH} characters",
            [FieldError("text", f"at most {MAX_TEXT_LENGTH} characters")],
        )
    controls = sorted(
        {f"U+{ord(c):04X}" for c in text if c != "\n" and unicodedata.category(c) == "Cc"}
    )
    if controls:
        raise InvalidMediaRequest(
            f"slogan text contains control characters: {', '.join(controls)}",
            [FieldError("text", "control characters")],
        )
    return text


def resolve_font(style: SloganStyle) -> FontFile:
    """The style's explicit font file if set, else what fontconfig has for its family."""
    if style.font_path is not None:
        return font_file_at(style.font_path, style.font_index)
    return find_font(style.font_family, style.weight)


@dataclass(frozen=True)
class _Layout:
    size: int
    phrases: bool
    lines: list[str]
    line_height: float
    ascent: int
    block_height: float
    widest: float


def layout(
    text: str,
    font: FontFile,
    size: int,
    spacing: float,
    max_width: float,
    *,
    phrases: bool = False,
) -> _Layout:
    """Wrap `text` at `size` and measure the block it makes."""
    face = load_font(font, size)
    lines = wrap(text, face.getlength, max_width, phrases=phrases)
    ascent, descent = face.getmetrics()
    line_height = size * spacing
    widest = max((face.getlength(line) for line in lines), default=0.0)
    block = (len(lines) - 1) * line_height + ascent + descent
    return _Layout(size, phrases, lines, line_height, ascent, block, widest)


def fit_font_size(
    text: str,
    font: FontFile,
    style: SloganStyle,
    box: tuple[float, float],
    *,
    phrases: bool = False,
) -> _Layout:
    """The layout at the largest size whose block fits `box` (width, height).

    Sizes fit, then stop fitting, as they grow; the search keeps `low` fitting and `high`
    not, so the answer's size + 1 does not fit (unless capped by max_font_size).
    """

    def fits(size: int) -> _Layout | None:
        candidate = layout(text, font, size, style.line_spacing, box[0], phrases=phrases)
        ok = candidate.widest <= box[0] and candidate.block_height <= box[1]
        return candidate if ok else None

    best = fits(style.min_font_size)
    if best is None:
        raise InvalidMediaRequest(
            f"slogan does not fit {int(box[0])}x{int(box[1])} px even at "
            f"{style.min_font_size} px; shorten it or lower min_font_size",
            [FieldError("text", "too long for the screen")],
        )
    cap = style.max_font_size or 10 * int(max(box) + 1)
    low, high = style.min_font_size, style.min_font_size
    while True:  # grow until a size does not fit
        high = min(high * 2, cap + 1)
        found = fits(high) if high <= cap else None
        if found is None:
            break
        low, best = high, found
        if high >= cap:
            return best
    while high - low > 1:
        middle = (low + high) // 2
        found = fits(middle)
        if found is None:
            high = middle
        else:
            low, best = middle, found
    return best


def _canvas(style: SloganStyle, width: int, height: int, max_pixels: int) -> Image.Image:
    colour = parse_colour(style.background_color, "background_color")
    if style.background_image is None:
        return Image.new("RGB", (width, height), colour)
    with opened(style.background_image, max_pixels) as img:
        draft_for(img, (width, height))
        return fit_onto(prepare(img, detach=False), width, height, "cover", colour)


def render_slogan(
    text: str,
    style: SloganStyle,
    width: int,
    height: int,
    dst_path: Path,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> SloganRender:
    """Draw `text` as a width x height poster at `dst_path`.

    PNG on a plain background (crisp, small), JPEG over a background image. Raises
    InvalidMediaRequest for empty or overlong text, characters the font lacks, or text that
    cannot fit even at the style's minimum size.
    """
    check_size(width, height)
    text = clean_text(text)
    font = resolve_font(style)
    check_glyphs(text, font)
    margin = round(style.margin * min(width, height))
    box = (width - 2 * margin, height - 2 * margin)
    fitted = fit_font_size(text, font, style, box)
    try:
        by_phrase = fit_font_size(text, font, style, box, phrases=True)
    except InvalidMediaRequest:
        pass
    else:
        if by_phrase.size >= PHRASE_SIZE_RATIO * fitted.size:
            fitted = by_phrase
    canvas = _canvas(style, width, height, max_pixels)
    draw = ImageDraw.Draw(canvas)
    face = load_font(font, fitted.size)
    fill = parse_colour(style.text_color, "text_color")
    x, anchor = {
        "left": (margin, "ls"),
        "center": (width / 2, "ms"),
        "right": (width - margin, "rs"),
    }[style.align]
    top = margin + (box[1] - fitted.block_height) / 2
    for index, line in enumerate(fitted.lines):
        baseline = top + fitted.ascent + index * fitted.line_height
        draw.text((x, baseline), line, font=face, fill=fill, anchor=anchor)
    info = save(canvas, dst_path, "PNG" if style.background_image is None else "JPEG")
    return SloganRender(fitted.size, tuple(fitted.lines), info, fitted.phrases)
