"""Pillow work shared by every backend: decode and fit an asset, blend, encode a screenshot."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from player.errors import AssetUndecodable
from player.manifest import Fit

BACKGROUND = (0, 0, 0)  # the protocol's letterbox colour for `contain`
MAX_PIXELS = 64_000_000
SCREENSHOT_MAX_BYTES = 2 * 1024 * 1024
_RESAMPLE = Image.Resampling.LANCZOS
_ORIENTATION = 0x0112  # the EXIF tag


def _flatten(image: Image.Image) -> Image.Image:
    """RGB, with any transparency composited over the background (`image` itself if it is
    RGB already: a full-HD frame is 6 MB, and a player keeps as few as it can)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        base = Image.new("RGB", rgba.size, BACKGROUND)
        base.paste(rgba, mask=rgba.getchannel("A"))
        return base
    return image if image.mode == "RGB" else image.convert("RGB")


def fit_image(image: Image.Image, size: tuple[int, int], fit: Fit) -> Image.Image:
    """`image` at exactly `size`: `contain` letterboxes on black, `cover` fills and crops."""
    image = _flatten(image)
    if fit == "cover":
        return ImageOps.fit(image, size, _RESAMPLE, centering=(0.5, 0.5))
    inner = ImageOps.contain(image, size, _RESAMPLE)
    if inner.size == size:
        return inner
    canvas = Image.new("RGB", size, BACKGROUND)
    canvas.paste(inner, ((size[0] - inner.width) // 2, (size[1] - inner.height) // 2))
    return canvas


def decode_asset(path: Path, size: tuple[int, int], fit: Fit) -> Image.Image:
    """Decode an image asset and fit it; `AssetUndecodable` for anything else or broken."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image: Image.Image = Image.open(path)
            try:
                if image.width * image.height > MAX_PIXELS:
                    too_big = f"{image.width}x{image.height} pixels is too large"
                    raise AssetUndecodable(too_big)
                if image.format == "JPEG":
                    # Let libjpeg decode at a reduced scale when the screen is much smaller.
                    image.draft("RGB", (size[0] * 2, size[1] * 2))
                image.load()  # which closes the file: the pixels are all in memory now
            except BaseException:
                image.close()
                raise
            if image.getexif().get(_ORIENTATION, 1) != 1:
                image = ImageOps.exif_transpose(image)  # a copy, only when it turns
            # Without `with`: closing would spoil the image when it is already the frame.
            return fit_image(image, size, fit)
    except AssetUndecodable:
        raise
    except (
        OSError,
        UnidentifiedImageError,
        ValueError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
    ) as exc:
        # The caller names the asset; the reason alone keeps the status line short.
        raise AssetUndecodable(str(exc) or type(exc).__name__) from exc


def blend(before: Image.Image, after: Image.Image, progress: float) -> Image.Image:
    """The crossfade frame at `progress` in [0, 1]."""
    return Image.blend(before, after, max(0.0, min(1.0, progress)))


def encode_screenshot(image: Image.Image, max_side: int = 1280) -> bytes:
    """A downscaled JPEG of `image`, under the protocol's 2 MiB cap."""
    shot = _flatten(image)
    scale = min(1.0, max_side / max(shot.size))
    # A new image: `image` may be the very frame on screen.
    shot = shot.resize(
        (max(1, round(shot.width * scale)), max(1, round(shot.height * scale))),
        Image.Resampling.BILINEAR,
    )
    for quality in (80, 60, 40, 20):
        buffer = io.BytesIO()
        shot.save(buffer, "JPEG", quality=quality)
        if buffer.tell() <= SCREENSHOT_MAX_BYTES:
            return buffer.getvalue()
        shot.thumbnail((shot.width // 2, shot.height // 2))
    return buffer.getvalue()
