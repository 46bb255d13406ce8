"""Decoding, fitting and encoding pictures, and the built-in cards."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from player.display.cards import IDLE_BACKGROUND, PAIRING_BACKGROUND, idle_card, pairing_card
from player.display.render import (
    SCREENSHOT_MAX_BYTES,
    blend,
    decode_asset,
    encode_screenshot,
    fit_image,
)
from player.errors import AssetUndecodable

RED, BLUE, BLACK = (255, 0, 0), (0, 0, 255), (0, 0, 0)
SCREEN = (320, 180)


def save(tmp_path: Path, image: Image.Image, fmt: str = "PNG", **kw: object) -> Path:
    path = tmp_path / f"asset.{fmt.lower()}"
    image.save(path, fmt, **kw)
    return path


def test_contain_letterboxes_on_black() -> None:
    framed = fit_image(Image.new("RGB", (100, 100), RED), SCREEN, "contain")
    assert framed.size == SCREEN
    assert framed.getpixel((160, 90)) == RED
    assert framed.getpixel((5, 90)) == BLACK and framed.getpixel((314, 90)) == BLACK
    assert framed.getpixel((70, 90)) == RED and framed.getpixel((249, 90)) == RED


def test_cover_fills_the_screen_and_crops() -> None:
    tall = Image.new("RGB", (100, 300), RED)
    tall.paste(BLUE, (0, 0, 100, 100))  # the top third is cropped away
    covered = fit_image(tall, SCREEN, "cover")
    assert covered.size == SCREEN
    colors = {covered.getpixel((x, y)) for x in (0, 160, 319) for y in (0, 90, 179)}
    assert colors == {RED}


def test_transparency_is_composited_over_black() -> None:
    image = Image.new("RGBA", SCREEN, (255, 0, 0, 0))
    image.paste((0, 0, 255, 255), (0, 0, 160, 180))
    flat = fit_image(image, SCREEN, "contain")
    assert flat.mode == "RGB"
    assert flat.getpixel((10, 10)) == BLUE and flat.getpixel((300, 10)) == BLACK


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    image = Image.new("RGB", (180, 320), RED)
    image.paste(BLUE, (0, 0, 180, 100))  # blue on top when upright
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: viewers turn it 90° clockwise
    path = save(tmp_path, image.rotate(90, expand=True), "JPEG", exif=exif, quality=95)
    frame = decode_asset(path, (180, 320), "contain")
    top, bottom = frame.getpixel((90, 20)), frame.getpixel((90, 300))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[2] > 200 and bottom[0] > 200


def test_decoded_jpeg_and_png_are_fitted(tmp_path: Path) -> None:
    for fmt in ("PNG", "JPEG"):
        path = save(tmp_path, Image.new("RGB", (1600, 900), RED), fmt)
        frame = decode_asset(path, SCREEN, "contain")
        assert frame.size == SCREEN
        pixel = frame.getpixel((160, 90))
        assert isinstance(pixel, tuple) and pixel[0] > 240 and pixel[2] < 15


def test_garbage_and_truncated_files_are_undecodable(tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.write_bytes(b"this is not an image" * 10)
    with pytest.raises(AssetUndecodable):
        decode_asset(junk, SCREEN, "contain")
    buffer = io.BytesIO()
    Image.new("RGB", (400, 400), RED).save(buffer, "PNG")
    cut = tmp_path / "cut.png"
    cut.write_bytes(buffer.getvalue()[:200])
    with pytest.raises(AssetUndecodable):
        decode_asset(cut, SCREEN, "contain")


def test_an_enormous_image_is_refused_before_decoding(tmp_path: Path) -> None:
    path = save(tmp_path, Image.new("1", (8_000, 8_750)))  # 70 Mpx in a tiny file
    with pytest.raises(AssetUndecodable, match="too large"):
        decode_asset(path, SCREEN, "contain")
    bomb = save(tmp_path, Image.new("1", (10_000, 10_000)))  # past Pillow's own bomb limit
    with pytest.raises(AssetUndecodable, match="decompression bomb"):
        decode_asset(bomb, SCREEN, "contain")


def test_blend_midpoint() -> None:
    mid = blend(Image.new("RGB", SCREEN, RED), Image.new("RGB", SCREEN, BLUE), 0.5)
    assert mid.getpixel((0, 0)) == (127, 0, 127) or mid.getpixel((0, 0)) == (128, 0, 128)


def test_screenshot_is_a_small_downscaled_jpeg() -> None:
    big = Image.effect_noise((3840, 2160), 100).convert("RGB")
    data = encode_screenshot(big)
    assert len(data) <= SCREENSHOT_MAX_BYTES
    shot = Image.open(io.BytesIO(data))
    assert shot.format == "JPEG" and max(shot.size) == 1280


def colours(image: Image.Image) -> int:
    return len(image.getcolors(maxcolors=1 << 16) or [])


def test_pairing_card_shows_the_code_big() -> None:
    card = pairing_card((1920, 1080), code="K7M2QX", server="https://s.example", name="Lobby")
    assert card.size == (1920, 1080) and card.mode == "RGB"
    assert card.getpixel((5, 5)) == PAIRING_BACKGROUND
    other = pairing_card((1920, 1080), code="ABCDEF", server="https://s.example", name="Lobby")
    code_band = (0, 380, 1920, 600)
    assert card.crop(code_band).tobytes() != other.crop(code_band).tobytes()
    # The code is drawn in the accent colour over a large area: it is legible from afar.
    counts = {c: n for n, c in card.crop(code_band).getcolors(maxcolors=1 << 16) or []}
    assert counts.get((255, 196, 61), 0) > 20_000
    waiting = pairing_card((800, 480), code=None, server="https://s.example")
    assert colours(waiting) > 2


def test_idle_card_is_never_black() -> None:
    for size in ((1920, 1080), (1080, 1920), (320, 180)):
        card = idle_card(size, name="Lobby", detail="Nothing scheduled")
        assert card.size == size
        assert card.getpixel((0, 0)) == IDLE_BACKGROUND
        assert colours(card) > 2  # text was drawn
        darkest, _ = card.convert("L").getextrema()
        assert isinstance(darkest, int) and darkest > 0  # not one black pixel
