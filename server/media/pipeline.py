"""The media flows the API calls: upload ▸ check ▸ normalise ▸ store, and renders into the store.

Each function takes the store as an argument and returns what was stored; nothing here
knows about HTTP or the database.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from server.media.images import DEFAULT_MAX_PIXELS, ImageInfo, inspect_image, normalise
from server.media.profiles import Profile
from server.media.slogans import SloganRender, SloganStyle, render_slogan
from server.media.store import MediaStore, check_sha
from server.media.variants import Fit, make_thumbnail, make_variant


@dataclass(frozen=True)
class StoredImage:
    """An image now in the store: its hash, byte size and what it is."""

    sha256: str
    size: int
    info: ImageInfo


def ingest_image(
    store: MediaStore,
    stream: BinaryIO,
    *,
    max_bytes: int,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> StoredImage:
    """Stage an upload, check it, store its normalised re-encoding; return that.

    Only the re-encoded image is kept (its hash is the asset's identity): the original
    bytes, with their metadata and anything smuggled in them, never reach the store.
    Raises PayloadTooLarge, UnsupportedMedia or MediaRejected, leaving the store as it was.
    """
    staged = store.put_stream(stream, max_bytes)
    try:
        inspect_image(staged.path, max_pixels)
        with tempfile.TemporaryDirectory(prefix="signage-media-") as scratch:
            normalised = Path(scratch) / "normalised"
            info = normalise(staged.path, normalised, max_pixels=max_pixels)
            size = normalised.stat().st_size
            sha = store.put_file(normalised)
    finally:
        store.discard(staged)
    return StoredImage(sha, size, info)


@contextmanager
def local_copy(store: MediaStore, sha: str) -> Iterator[Path]:
    """A local path to a blob's bytes: the blob itself if the store has one, else a copy."""
    check_sha(sha)
    direct = store.path(sha)
    if direct is not None:
        yield direct
        return
    with tempfile.TemporaryDirectory(prefix="signage-media-") as scratch:
        copy = Path(scratch) / sha
        with store.open(sha) as src, copy.open("wb") as dst:
            shutil.copyfileobj(src, dst)
        yield copy


def _store_output(store: MediaStore, path: Path, info: ImageInfo) -> StoredImage:
    size = path.stat().st_size
    return StoredImage(store.put_file(path), size, info)


def store_variant(
    store: MediaStore,
    sha: str,
    profile: Profile,
    fit: Fit = "contain",
    background: str = "#000000",
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> StoredImage:
    """Render the stored image `sha` for `profile` and store the result."""
    with (
        local_copy(store, sha) as source,
        tempfile.TemporaryDirectory(prefix="signage-media-") as scratch,
    ):
        out = Path(scratch) / "variant"
        info = make_variant(
            source,
            out,
            profile.width,
            profile.height,
            fit,
            background,
            max_pixels=max_pixels,
        )
        return _store_output(store, out, info)


def store_thumbnail(
    store: MediaStore,
    sha: str,
    max_side: int = 320,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> StoredImage:
    """A small preview of the stored image `sha`, stored."""
    with (
        local_copy(store, sha) as source,
        tempfile.TemporaryDirectory(prefix="signage-media-") as scratch,
    ):
        out = Path(scratch) / "thumbnail"
        info = make_thumbnail(source, out, max_side, max_pixels=max_pixels)
        return _store_output(store, out, info)


def store_slogan(
    store: MediaStore,
    text: str,
    style: SloganStyle,
    profile: Profile,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> tuple[StoredImage, SloganRender]:
    """Render a slogan poster for `profile` and store it."""
    with tempfile.TemporaryDirectory(prefix="signage-media-") as scratch:
        out = Path(scratch) / "slogan"
        render = render_slogan(
            text, style, profile.width, profile.height, out, max_pixels=max_pixels
        )
        return _store_output(store, out, render.info), render
