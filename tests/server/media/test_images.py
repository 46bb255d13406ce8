"""Sniffing, inspecting and normalising real image files."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageCms

from server.media.errors import UnsupportedMedia
from server.media.images import ImageInfo, inspect_image, normalise, sniff
from tests.server.media.samples import adobe_rgb_icc, encoded, noise, write

RED, BLUE = (255, 0, 0), (0, 0, 255)


def close(actual: object, expected: tuple[int, ...], tolerance: int = 12) -> bool:
    assert isinstance(actual, tuple)
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=False))


def marked(width: int, height: int) -> Image.Image:
    """Blue, with a red block in the top-left corner: shows how an image was turned."""
    img = Image.new("RGB", (width, height), BLUE)
    img.paste(RED, (0, 0, width // 4, height // 4))
    return img


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("GIF", "image/gif"), ("WEBP", "image/webp")],
)
def test_each_accepted_format_is_sniffed_and_inspected(
    fmt: str, media_type: str, tmp_path: Path
) -> None:
    data = encoded(noise(64, 48).convert("P") if fmt == "GIF" else noise(64, 48), fmt)
    assert sniff(data[:32]) == fmt
    path = write(tmp_path / "upload.bin", data)  # the name says nothing
    assert inspect_image(path, 10_000) == ImageInfo(fmt, media_type, 64, 48)


def test_declared_name_does_not_matter(tmp_path: Path) -> None:
    path = write(tmp_path / "poster.png", encoded(noise(8, 8), "JPEG"))
    assert inspect_image(path).format == "JPEG"
    fake = write(tmp_path / "poster.jpg", b"GIF87" + b"\0" * 40)  # one byte short of magic
    with pytest.raises(UnsupportedMedia):
        inspect_image(fake)


def test_sniff_needs_the_whole_signature() -> None:
    assert sniff(b"RIFF\0\0\0\0WAVE") is None
    assert sniff(b"\x89PNG\r\n") is None
    assert sniff(b"") is None


def exif_with_orientation_and_gps(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "CameraMaker"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (26.0, 4.0, 30.0)
    return exif.tobytes()


def test_normalise_strips_metadata_and_turns_upright(tmp_path: Path) -> None:
    src = write(
        tmp_path / "camera.jpg",
        encoded(
            marked(400, 200),
            "JPEG",
            quality=95,
            exif=exif_with_orientation_and_gps(6),
            comment=b"secret comment",
            xmp=b"<x:xmpmeta>secret-xmp</x:xmpmeta>",
            icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
        ),
    )
    raw = src.read_bytes()
    assert b"CameraMaker" in raw and b"secret-xmp" in raw and b"secret comment" in raw
    # inspect reports the size the image is shown at
    assert inspect_image(src).width == 200

    info = normalise(src, tmp_path / "out")

    assert info == ImageInfo("JPEG", "image/jpeg", 200, 400)
    out = (tmp_path / "out").read_bytes()
    for secret in (b"CameraMaker", b"secret-xmp", b"secret comment", b"Exif", b"ICC_PROFILE"):
        assert secret not in out
    with Image.open(tmp_path / "out") as img:
        assert not img.getexif() and "icc_profile" not in img.info
        # Orientation 6 is "rotate 90° clockwise to view": top-left goes to top-right.
        assert close(img.getpixel((175, 25)), RED) and close(img.getpixel((25, 25)), BLUE)


def test_normalise_converts_a_wide_gamut_profile_to_srgb(tmp_path: Path) -> None:
    icc = adobe_rgb_icc()
    colour = (200, 80, 60)
    src = write(
        tmp_path / "adobe.png", encoded(Image.new("RGB", (32, 32), colour), "PNG", icc_profile=icc)
    )
    adobe = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    reference = ImageCms.profileToProfile(Image.new("RGB", (1, 1), colour), adobe, srgb)
    assert reference is not None
    expected = reference.getpixel((0, 0))
    assert isinstance(expected, tuple)
    # Adobe RGB's primaries are wider than sRGB's: the same numbers mean a more saturated
    # colour, which in sRGB takes a stronger red.
    assert expected[0] >= colour[0] + 20

    info = normalise(src, tmp_path / "out")

    assert info.format == "PNG"
    with Image.open(tmp_path / "out") as img:
        assert "icc_profile" not in img.info
        assert close(img.getpixel((16, 16)), expected, 2)


def test_png_with_transparency_stays_png_with_alpha(tmp_path: Path) -> None:
    img = Image.new("RGBA", (20, 20), (255, 0, 0, 0))
    img.paste((0, 255, 0, 255), (5, 5, 15, 15))
    src = write(tmp_path / "logo.png", encoded(img, "PNG"))
    assert normalise(src, tmp_path / "out").format == "PNG"
    with Image.open(tmp_path / "out") as out:
        assert out.mode == "RGBA"
        corner = out.getpixel((0, 0))
        assert isinstance(corner, tuple) and corner[3] == 0
        assert out.getpixel((10, 10)) == (0, 255, 0, 255)


@pytest.mark.parametrize(("alpha", "expected"), [(True, "PNG"), (False, "JPEG")])
def test_webp_becomes_png_or_jpeg(alpha: bool, expected: str, tmp_path: Path) -> None:
    img = noise(30, 20, "RGBA" if alpha else "RGB")
    if alpha:
        img.putalpha(128)
    src = write(tmp_path / "in.webp", encoded(img, "WEBP", lossless=True))
    info = normalise(src, tmp_path / "out")
    assert info.format == expected
    assert sniff((tmp_path / "out").read_bytes()[:16]) == expected


def test_animated_gif_keeps_its_first_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (16, 16), RED).convert("P"), Image.new("RGB", (16, 16), BLUE)]
    data = encoded(frames[0], "GIF", save_all=True, append_images=[frames[1].convert("P")])
    src = write(tmp_path / "anim.gif", data)
    with Image.open(src) as check:
        assert getattr(check, "n_frames", 1) == 2
    info = normalise(src, tmp_path / "out")
    assert info == ImageInfo("PNG", "image/png", 16, 16)
    with Image.open(tmp_path / "out") as out:
        assert getattr(out, "n_frames", 1) == 1 and close(out.getpixel((8, 8)), RED, 0)


def test_greyscale_sixteen_bit_png_is_scaled_not_clipped(tmp_path: Path) -> None:
    img = Image.new("I;16", (8, 8), 32768)
    src = write(tmp_path / "deep.png", encoded(img, "PNG"))
    normalise(src, tmp_path / "out")
    with Image.open(tmp_path / "out") as out:
        assert close(out.convert("RGB").getpixel((4, 4)), (128, 128, 128), 2)
