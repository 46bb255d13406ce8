"""Slogan posters rendered with real fonts found through fontconfig."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFont

from server.media.errors import InvalidMediaRequest, MediaSetupError
from server.media.fonts import ABSENT_CODE_POINT, FontFile, find_font, load_font
from server.media.images import ImageInfo
from server.media.pipeline import store_slogan
from server.media.profiles import Profile
from server.media.slogans import (
    SloganStyle,
    fit_font_size,
    layout,
    render_slogan,
    style_from_mapping,
)
from server.media.store import LocalStore
from tests.server.media.samples import encoded, write

SLOGAN = "网络安全为人民，网络安全靠人民"
CJK_FAMILY = "Noto Sans CJK SC"


def font_or_skip(family: str, package: str) -> FontFile:
    try:
        return find_font(family, "bold")
    except (InvalidMediaRequest, MediaSetupError):
        pytest.skip(f"fontconfig has no {family!r} font (Debian package {package})")


@pytest.fixture
def cjk() -> FontFile:
    return font_or_skip(CJK_FAMILY, "fonts-noto-cjk")


@pytest.fixture
def dejavu() -> FontFile:
    return font_or_skip("DejaVu Sans", "fonts-dejavu-core")


def glyph_mask(face: ImageFont.FreeTypeFont, ch: str) -> tuple[tuple[float, ...], bytes]:
    box = face.getbbox(ch)
    img = Image.new("L", (200, 200))
    ImageDraw.Draw(img).text((50, 50), ch, font=face, fill=255)
    return box, img.tobytes()


def ink_box(path: Path, background: tuple[int, int, int]) -> tuple[int, int, int, int]:
    with Image.open(path) as img:
        plain = Image.new("RGB", img.size, background)
        box = ImageChops.difference(img.convert("RGB"), plain).getbbox()
    assert box is not None, "nothing was drawn"
    return box


def test_chinese_slogan_is_drawn_with_real_glyphs(cjk: FontFile, tmp_path: Path) -> None:
    face = ImageFont.truetype(str(cjk.path), 64, index=cjk.index)
    notdef = glyph_mask(face, ABSENT_CODE_POINT)
    assert notdef != glyph_mask(face, "A")
    for ch in SLOGAN:
        assert glyph_mask(face, ch) != notdef, f"{ch!r} would be a missing-glyph box"

    render = render_slogan(SLOGAN, SloganStyle(), 1920, 1080, tmp_path / "poster")

    assert render.info == ImageInfo("PNG", "image/png", 1920, 1080)
    assert "".join(render.lines) == SLOGAN
    assert render.lines == ("网络安全为人民，", "网络安全靠人民") and render.phrase_breaks
    left, top, right, bottom = ink_box(tmp_path / "poster", (0xB0, 0x17, 0x1F))
    margin = round(0.08 * 1080)
    assert left >= margin and right <= 1920 - margin and top >= margin and bottom <= 1080 - margin
    # Centred vertically: the gaps above and below the ink are about equal.
    assert abs(top - (1080 - bottom)) < 0.2 * render.font_size


@pytest.mark.parametrize("phrases", [False, True])
@pytest.mark.parametrize(
    ("text", "width", "height"),
    [
        (SLOGAN, 1920, 1080),
        (SLOGAN, 1080, 1920),
        ("网络安全为人民 Cybersecurity for the people", 1280, 720),
        ("个人信息保护日\n守护你我他", 3840, 2160),
    ],
)
def test_fitted_size_is_the_largest_that_fits(
    cjk: FontFile, text: str, width: int, height: int, phrases: bool
) -> None:
    style = SloganStyle()
    margin = round(style.margin * min(width, height))
    box = (width - 2 * margin, height - 2 * margin)

    fitted = fit_font_size(text, cjk, style, box, phrases=phrases)

    def fits(size: int) -> bool:
        got = layout(text, cjk, size, style.line_spacing, box[0], phrases=phrases)
        return got.widest <= box[0] and got.block_height <= box[1]

    assert fits(fitted.size) and not fits(fitted.size + 1)


def test_a_word_wider_than_the_line_shrinks_the_text(dejavu: FontFile, tmp_path: Path) -> None:
    style = SloganStyle(font_family="DejaVu Sans", margin=0.0)
    word = "Cybersecurity"
    render = render_slogan(word, style, 300, 1000, tmp_path / "p")
    assert render.lines == (word,)
    assert load_font(dejavu, render.font_size).getlength(word) <= 300
    assert load_font(dejavu, render.font_size + 1).getlength(word) > 300


def test_latin_wraps_at_spaces(dejavu: FontFile, tmp_path: Path) -> None:
    style = SloganStyle(font_family="DejaVu Sans")
    render = render_slogan("Cybersecurity for the people", style, 600, 1000, tmp_path / "p")
    assert len(render.lines) > 1
    assert " ".join(render.lines) == "Cybersecurity for the people"


def test_font_lacking_chinese_is_refused_naming_the_characters(
    dejavu: FontFile, tmp_path: Path
) -> None:
    style = SloganStyle(font_family="DejaVu Sans")
    with pytest.raises(InvalidMediaRequest) as caught:
        render_slogan("Safety 网络", style, 800, 600, tmp_path / "p")
    assert caught.value.detail == "font 'DejaVu Sans' cannot draw: '网' (U+7F51), '络' (U+7EDC)"
    assert caught.value.errors[0].field == "text"
    assert not (tmp_path / "p").exists()


def test_emoji_and_unassigned_code_points_are_refused(cjk: FontFile, tmp_path: Path) -> None:
    with pytest.raises(InvalidMediaRequest) as caught:
        render_slogan("网络安全 \U0001f600 \u0378", SloganStyle(), 800, 600, tmp_path / "p")
    assert "U+1F600" in caught.value.detail and "U+0378" in caught.value.detail
    assert "U+7F51" not in caught.value.detail
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize("align", ["left", "right"])
def test_alignment(dejavu: FontFile, align: str, tmp_path: Path) -> None:
    style = SloganStyle(font_family="DejaVu Sans", align=align, background_color="#000")  # type: ignore[arg-type]
    render_slogan("a\nmuch longer line", style, 1000, 500, tmp_path / "p")
    left, _, right, _ = ink_box(tmp_path / "p", (0, 0, 0))
    margin = round(0.08 * 500)
    if align == "left":
        assert margin - 2 <= left <= margin + 20
    else:
        assert 1000 - margin - 20 <= right <= 1000 - margin + 2


def test_background_image_is_cover_fitted(dejavu: FontFile, tmp_path: Path) -> None:
    background = write(tmp_path / "bg.png", encoded(Image.new("RGB", (300, 100), "#00ff00"), "PNG"))
    style = SloganStyle(font_family="DejaVu Sans", background_image=background)
    render = render_slogan("Safe", style, 400, 400, tmp_path / "p")
    assert render.info.format == "JPEG"
    with Image.open(tmp_path / "p") as img:
        corner = img.getpixel((3, 3))
        assert isinstance(corner, tuple) and corner[1] > 230 and corner[0] < 25


def test_explicit_font_path(dejavu: FontFile, tmp_path: Path) -> None:
    style = SloganStyle(font_family="ignored", font_path=dejavu.path)
    assert render_slogan("Hello", style, 200, 100, tmp_path / "p").font_size > 10


@pytest.mark.parametrize(
    ("text", "reason"),
    [("", "empty"), (" \n\t ", "empty"), ("bell\x07", "control"), ("长" * 501, "longer")],
)
def test_bad_text(dejavu: FontFile, text: str, reason: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidMediaRequest, match=reason):
        render_slogan(text, SloganStyle(font_family="DejaVu Sans"), 100, 100, tmp_path / "p")


def test_text_that_cannot_fit_even_at_the_minimum_size(dejavu: FontFile, tmp_path: Path) -> None:
    style = SloganStyle(font_family="DejaVu Sans", min_font_size=40)
    with pytest.raises(InvalidMediaRequest, match="does not fit"):
        render_slogan("word " * 50, style, 320, 240, tmp_path / "p")


def test_unknown_font_family_is_refused() -> None:
    with pytest.raises(InvalidMediaRequest, match="not installed"):
        find_font("No Such Family 42", "regular")


def test_style_validation() -> None:
    with pytest.raises(InvalidMediaRequest) as caught:
        SloganStyle(text_color="nope", margin=0.7, align="justify", line_spacing=0)  # type: ignore[arg-type]
    fields = {e.field for e in caught.value.errors}
    assert fields == {"text_color", "margin", "align", "line_spacing"}


def test_style_from_mapping() -> None:
    style = style_from_mapping({"align": "left", "margin": 0, "text_color": "#000"})
    assert style.align == "left" and style.margin == 0.0 and style.font_family == CJK_FAMILY
    with pytest.raises(InvalidMediaRequest) as caught:
        style_from_mapping({"font_path": "/etc/passwd", "margin": "wide", "bogus": 1})
    assert {e.field for e in caught.value.errors} == {"font_path", "margin", "bogus"}


def test_pipeline_stores_a_slogan(cjk: FontFile, store: LocalStore) -> None:
    stored, render = store_slogan(store, SLOGAN, SloganStyle(), Profile(1280, 720))
    assert list(store.iter_hashes()) == [stored.sha256]
    assert (stored.info.width, stored.info.height) == (1280, 720) and render.font_size > 50
