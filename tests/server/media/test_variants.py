"""Screen variants and thumbnails: exact sizes, contain vs cover, sRGB, upright, no EXIF."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageCms

from server.media.errors import InvalidMediaRequest
from server.media.images import ImageInfo
from server.media.pipeline import ingest_image, store_thumbnail, store_variant
from server.media.profiles import Profile
from server.media.store import LocalStore
from server.media.variants import make_thumbnail, make_variant
from tests.server.media.samples import adobe_rgb_icc, encoded, write

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


def close(actual: object, expected: tuple[int, ...], tolerance: int = 16) -> bool:
    assert isinstance(actual, tuple)
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=False))


def stripes(path: Path) -> Path:
    """300x100: red, green, blue thirds (3:1, wider than any screen)."""
    img = Image.new("RGB", (300, 100), GREEN)
    img.paste(RED, (0, 0, 100, 100))
    img.paste(BLUE, (200, 0, 300, 100))
    return write(path, encoded(img, "PNG"))


def test_contain_letterboxes_with_the_background(tmp_path: Path) -> None:
    info = make_variant(stripes(tmp_path / "s.png"), tmp_path / "v", 100, 100, "contain", "#fff")
    assert info == ImageInfo("JPEG", "image/jpeg", 100, 100)
    with Image.open(tmp_path / "v") as img:
        assert img.size == (100, 100) and img.mode == "RGB"
        # The 3:1 image becomes 100x33, centred: bars above and below.
        assert close(img.getpixel((50, 5)), WHITE) and close(img.getpixel((50, 95)), WHITE)
        assert close(img.getpixel((5, 50)), RED) and close(img.getpixel((95, 50)), BLUE)
        assert close(img.getpixel((50, 50)), GREEN)


def test_cover_fills_and_crops_the_centre(tmp_path: Path) -> None:
    make_variant(stripes(tmp_path / "s.png"), tmp_path / "v", 100, 100, "cover")
    with Image.open(tmp_path / "v") as img:
        assert img.size == (100, 100)
        for xy in [(2, 2), (97, 2), (2, 97), (97, 97), (50, 50)]:
            assert close(img.getpixel(xy), GREEN), xy


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1080, 1920), (1280, 720), (7, 3)])
@pytest.mark.parametrize("fit", ["contain", "cover"])
def test_exact_dimensions(width: int, height: int, fit: str, tmp_path: Path) -> None:
    src = write(tmp_path / "src.jpg", encoded(Image.new("RGB", (640, 480), GREEN), "JPEG"))
    info = make_variant(src, tmp_path / "v", width, height, fit)  # type: ignore[arg-type]
    assert (info.width, info.height) == (width, height)
    with Image.open(tmp_path / "v") as img:
        assert img.size == (width, height)


def test_variant_of_a_camera_jpeg_is_upright_srgb_without_exif(tmp_path: Path) -> None:
    # Stored sideways (orientation 6), in Adobe RGB, with GPS: as phones and cameras do.
    img = Image.new("RGB", (400, 200), BLUE)
    img.paste(RED, (0, 0, 100, 100))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif.get_ifd(0x8825)[1] = "N"
    icc = adobe_rgb_icc()
    src = write(tmp_path / "cam.jpg", encoded(img, "JPEG", quality=95, exif=exif, icc_profile=icc))

    make_variant(src, tmp_path / "v", 100, 200, "cover")

    data = (tmp_path / "v").read_bytes()
    assert b"Exif" not in data and b"ICC_PROFILE" not in data
    adobe = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    red_in_srgb = ImageCms.profileToProfile(Image.new("RGB", (1, 1), RED), adobe, srgb)
    assert red_in_srgb is not None
    with Image.open(tmp_path / "v") as out:
        assert out.size == (100, 200) and not out.getexif() and "icc_profile" not in out.info
        # Upright: the red corner is now top-right, and its colour was converted.
        assert close(out.getpixel((75, 25)), red_in_srgb.getpixel((0, 0)), 10)  # type: ignore[arg-type]
        assert close(out.getpixel((25, 25)), BLUE, 24)


def test_transparent_areas_take_the_background(tmp_path: Path) -> None:
    img = Image.new("RGBA", (50, 50), (0, 0, 0, 0))
    img.paste((255, 0, 0, 255), (20, 20, 30, 30))
    src = write(tmp_path / "logo.png", encoded(img, "PNG"))
    make_variant(src, tmp_path / "v", 50, 50, "contain", "#00ff00", output_format="PNG")
    with Image.open(tmp_path / "v") as out:
        assert out.getpixel((2, 2)) == GREEN and out.getpixel((25, 25)) == RED


@pytest.mark.parametrize(
    ("args", "field"),
    [((0, 10, "contain"), "width"), ((10, 20000, "cover"), "height"), ((10, 10, "fill"), "fit")],
)
def test_bad_variant_requests(args: tuple[int, int, str], field: str, tmp_path: Path) -> None:
    src = write(tmp_path / "s.png", encoded(Image.new("RGB", (4, 4)), "PNG"))
    with pytest.raises(InvalidMediaRequest) as caught:
        make_variant(src, tmp_path / "v", *args)  # type: ignore[arg-type]
    assert caught.value.errors[0].field == field
    with pytest.raises(InvalidMediaRequest, match="not a colour"):
        make_variant(src, tmp_path / "v", 4, 4, "contain", "nope")


def test_thumbnail_keeps_proportions_and_never_enlarges(tmp_path: Path) -> None:
    big = write(tmp_path / "big.jpg", encoded(Image.new("RGB", (1600, 900), RED), "JPEG"))
    assert make_thumbnail(big, tmp_path / "t") == ImageInfo("JPEG", "image/jpeg", 320, 180)
    small = write(tmp_path / "small.png", encoded(Image.new("RGB", (100, 40), RED), "PNG"))
    assert make_thumbnail(small, tmp_path / "t2").width == 100


def test_pipeline_stores_variants_and_thumbnails(store: LocalStore) -> None:
    upload = encoded(Image.new("RGB", (800, 600), RED), "JPEG")
    original = ingest_image(store, io.BytesIO(upload), max_bytes=10**7)
    variant = store_variant(store, original.sha256, Profile(1920, 1080), "contain")
    thumb = store_thumbnail(store, original.sha256)
    assert (variant.info.width, variant.info.height) == (1920, 1080)
    assert (thumb.info.width, thumb.info.height) == (320, 240)
    assert set(store.iter_hashes()) == {original.sha256, variant.sha256, thumb.sha256}
    assert store.size(variant.sha256) == variant.size
