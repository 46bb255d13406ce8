"""Image checks and normalising with Pillow: paths in, values out.

Every decode goes through `opened()`: the format is decided from magic bytes, the pixel
count is checked from the header before any pixel is decoded, and Pillow's
decompression-bomb warning is an error for the duration of the call.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Final, Literal

from PIL import Image, ImageCms, ImageColor, ImageOps

from server.media.errors import FieldError, InvalidMediaRequest, MediaRejected, UnsupportedMedia

# A 24-megapixel camera poster fits with room to spare; 50 MP of RGBA is 200 MB decoded.
DEFAULT_MAX_PIXELS: Final = 50_000_000
JPEG_QUALITY: Final = 90
MEDIA_TYPES: Final = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}
SNIFF_BYTES: Final = 512
_ORIENTATION_TAG: Final = 0x0112
_SWAPPING_ORIENTATIONS: Final = frozenset({5, 6, 7, 8})

OutputFormat = Literal["JPEG", "PNG"]


@dataclass(frozen=True)
class ImageInfo:
    """What an image is: Pillow's format name, its media type, and its upright size."""

    format: str
    media_type: str
    width: int
    height: int


def sniff(head: bytes) -> str | None:
    """The accepted format that `head` (the file's first bytes) starts with, if any."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def describe(head: bytes) -> str:
    """A short human name for what unaccepted bytes look like, for error messages."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    signatures: list[tuple[bool, str]] = [
        (b"<svg" in text[:SNIFF_BYTES], "an SVG document"),
        (text.startswith((b"<!doctype html", b"<html")) or b"<script" in text, "HTML"),
        (text.startswith(b"<?xml"), "an XML document"),
        (head.startswith(b"PK\x03\x04"), "a ZIP archive"),
        (head.startswith(b"%PDF"), "a PDF document"),
        (head.startswith(b"\x7fELF"), "an ELF executable"),
        (head.startswith(b"MZ"), "a Windows executable"),
        (head.startswith(b"#!"), "a script"),
        (head.startswith(b"BM"), "a BMP image"),
        (head.startswith((b"II*\x00", b"MM\x00*")), "a TIFF image"),
        (head[4:8] == b"ftyp", "an ISO media file (HEIC, AVIF or video)"),
    ]
    for matched, name in signatures:
        if matched:
            return name
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "unrecognised binary data"
    return "text"


def _unsupported(kind: str) -> UnsupportedMedia:
    return UnsupportedMedia(
        f"only PNG, JPEG, WebP and GIF images are accepted; this is {kind}",
        [FieldError("file", f"{kind} is not an accepted image format")],
    )


# Pillow's messages may name the file it read ("cannot identify image file '/srv/…part'"):
# anything quoted and anything that looks like a path is cut out before a message leaves.
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
_PATHLIKE = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][^\s\\/]*){2,}|[\\/]\S+")


def pillow_reason(exc: BaseException) -> str:
    """Pillow's explanation without file names or paths, at most 200 characters."""
    text = _PATHLIKE.sub("…", _QUOTED.sub("…", str(exc)))
    text = " ".join(text.split())[:200]
    return text or type(exc).__name__


def _rejected(reason: str) -> MediaRejected:
    return MediaRejected(f"image rejected: {reason}", [FieldError("file", reason)])


@contextmanager
def opened(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> Iterator[Image.Image]:
    """Open an accepted image lazily, refusing hostile input before any pixel is decoded.

    Errors raised by Pillow inside the block (decoding, conversion) become MediaRejected.
    """
    with Path(path).open("rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if not head:
        raise _rejected("the file is empty")
    fmt = sniff(head)
    if fmt is None:
        raise _unsupported(describe(head))
    # Warnings filters are process state: catch_warnings restores them on exit. Pillow's
    # own bomb threshold (Image.MAX_IMAGE_PIXELS) is left alone; ours is `max_pixels`.
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(path, formats=[fmt])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise _rejected(f"decompression bomb ({pillow_reason(exc)})") from None
        except Exception as exc:  # Pillow raises many types for malformed headers
            raise _rejected(f"undecodable {fmt} header ({pillow_reason(exc)})") from None
        with img:
            width, height = img.size
            if width <= 0 or height <= 0:
                raise _rejected(f"invalid dimensions {width}x{height}")
            if width * height > max_pixels:
                raise _rejected(
                    f"{width}x{height} is {width * height} pixels, more than {max_pixels}"
                )
            try:
                yield img
            except (MediaRejected, UnsupportedMedia, InvalidMediaRequest):
                raise
            except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
                raise _rejected(f"decompression bomb ({pillow_reason(exc)})") from None
            except Exception as exc:
                raise _rejected(
                    f"truncated or undecodable {fmt} data ({pillow_reason(exc)})"
                ) from None


def inspect_image(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageInfo:
    """Check that `path` is a whole, decodable PNG/JPEG/WebP/GIF within `max_pixels`."""
    with opened(path, max_pixels) as img:
        fmt = str(img.format)
        width, height = img.size
        img.load()  # decodes the (first) frame: truncation shows up only here
        if _orientation(img) in _SWAPPING_ORIENTATIONS:
            width, height = height, width
    return ImageInfo(fmt, MEDIA_TYPES[fmt], width, height)


def _orientation(img: Image.Image) -> int:
    value = img.getexif().get(_ORIENTATION_TAG, 1)
    return value if isinstance(value, int) else 1


def upright_size(img: Image.Image) -> tuple[int, int]:
    """The size an opened image will have once its EXIF orientation is applied."""
    width, height = img.size
    if _orientation(img) in _SWAPPING_ORIENTATIONS:
        return height, width
    return width, height


def draft_for(img: Image.Image, upright: tuple[int, int]) -> None:
    """Let the JPEG decoder downscale by 1/2..1/8 while staying at least `upright` big."""
    if img.format != "JPEG":
        return
    width, height = upright
    if _orientation(img) in _SWAPPING_ORIENTATIONS:
        width, height = height, width
    img.draft(img.mode, (max(1, width), max(1, height)))


@lru_cache(maxsize=1)
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _plain_mode(img: Image.Image) -> Image.Image:
    """Bring exotic modes to RGB or RGBA without colour management."""
    if img.mode in ("RGB", "RGBA"):
        return img
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        # 16-bit and float greyscale: scale to 8 bits instead of clipping to white.
        peak = 65535 if img.mode.startswith("I") else 1.0
        return img.convert("F").point(lambda v: v * 255.0 / peak).convert("L").convert("RGB")
    has_alpha = "A" in img.mode or "transparency" in img.info
    return img.convert("RGBA" if has_alpha else "RGB")


def to_srgb(img: Image.Image) -> Image.Image:
    """Convert a loaded image to sRGB RGB/RGBA using its embedded ICC profile, if any.

    The result carries no metadata; it may be `img` itself (with its metadata dropped)
    when no conversion was needed.
    """
    icc = img.info.get("icc_profile")
    out: Image.Image | None = None
    if icc and img.mode in ("RGB", "RGBA", "L", "CMYK"):
        try:
            out = ImageCms.profileToProfile(
                img,
                ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                _srgb_profile(),
                outputMode="RGBA" if img.mode == "RGBA" else "RGB",
            )
        except (ImageCms.PyCMSError, OSError, ValueError):
            out = None  # a broken profile: treat the pixels as sRGB, as browsers do
    out = _plain_mode(img if out is None else out)
    out.info = {}  # no EXIF, XMP, comments, ICC or anything else rides along
    return out


def prepare(img: Image.Image, *, detach: bool = True) -> Image.Image:
    """Load the first frame, apply EXIF orientation, convert to sRGB, drop all metadata.

    With `detach=False` the result may share pixels with `img`, so it must be used
    before `opened()`'s block ends; that saves copying a large image.
    """
    img.load()
    if _orientation(img) != 1:
        # exif_transpose keeps info (and so the ICC profile) on the turned copy.
        img = ImageOps.exif_transpose(img)
        detach = False
    out = to_srgb(img)
    return out.copy() if detach and out is img else out


def has_alpha(img: Image.Image) -> bool:
    """True if some pixel is not fully opaque."""
    if img.mode != "RGBA":
        return False
    extrema = img.getchannel("A").getextrema()
    return isinstance(extrema[0], int) and extrema[0] < 255


def save(img: Image.Image, dst: Path, fmt: OutputFormat) -> ImageInfo:
    """Encode without any metadata; JPEG drops alpha."""
    if fmt == "JPEG":
        rgb = img if img.mode == "RGB" else img.convert("RGB")
        rgb.save(dst, "JPEG", quality=JPEG_QUALITY, optimize=True)
    else:
        img.save(dst, "PNG", compress_level=6)
    return ImageInfo(fmt, MEDIA_TYPES[fmt], img.width, img.height)


def normalise(src_path: Path, dst_path: Path, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageInfo:
    """Re-encode an upload: upright, sRGB, first frame, no metadata.

    PNG for images with transparency and for PNG/GIF sources, JPEG otherwise.
    """
    with opened(src_path, max_pixels) as img:
        source_format = img.format
        clean = prepare(img)
    if has_alpha(clean):
        return save(clean, dst_path, "PNG")
    if clean.mode != "RGB":
        clean = clean.convert("RGB")
    return save(clean, dst_path, "PNG" if source_format in ("PNG", "GIF") else "JPEG")


def parse_colour(value: str, field: str = "background") -> tuple[int, int, int]:
    """An RGB triple from a CSS colour string, or InvalidMediaRequest naming `field`."""
    try:
        rgb = ImageColor.getrgb(value)
    except (ValueError, AttributeError):
        raise InvalidMediaRequest(
            f"{value!r} is not a colour", [FieldError(field, "not a CSS colour")]
        ) from None
    return rgb[0], rgb[1], rgb[2]
