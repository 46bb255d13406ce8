"""What a screen downloads for an asset: the variant fitted to its resolution.

An image is delivered as its variant for the screen's profile and fit, a slogan as its
poster rendered for that profile, a video as it is. Each variant is made once through
the media pipeline, recorded in the `variants` table, and reused by every screen of the
same profile after that (and by every server process: the row is the cache).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy.orm import Session

from server.assets.models import Asset, AssetKind
from server.assets.renders import ensure_render
from server.media.images import DEFAULT_MAX_PIXELS
from server.media.profiles import DEFAULT_PROFILES, Profile, parse_profiles, profile_for
from server.media.store import MediaStore

EXTENSIONS: Final = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "video/mp4": "mp4",
    "video/webm": "webm",
}
_DEFAULT_PROFILES: Final = parse_profiles(DEFAULT_PROFILES)


@dataclass(frozen=True)
class DeliveredAsset:
    """The bytes a screen fetches for one asset: `/media/{sha256}.{ext}`."""

    sha256: str
    media_type: str
    size: int
    width: int | None
    height: int | None
    ext: str

    @property
    def url(self) -> str:
        return f"/media/{self.sha256}.{self.ext}"


def extension_for(media_type: str) -> str:
    return EXTENSIONS.get(media_type, "bin")


def deliver(
    session: Session,
    store: MediaStore,
    asset: Asset,
    width: int,
    height: int,
    fit: str,
    *,
    profiles: Sequence[Profile] = _DEFAULT_PROFILES,
    now: datetime,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> DeliveredAsset:
    """The delivered form of `asset` for a `width` x `height` screen showing it with `fit`.

    Renders (and records) the variant on first use through `server.assets.renders`, which keeps
    the slow rendering outside any transaction; the caller commits. Raises the media
    errors (InvalidMediaRequest, MediaRejected, MediaNotFound) when the source cannot be rendered.
    """
    if asset.kind == AssetKind.VIDEO:
        return DeliveredAsset(
            asset.sha256,
            asset.media_type,
            asset.size,
            asset.width,
            asset.height,
            extension_for(asset.media_type),
        )
    profile = profile_for(width, height, profiles)
    row = ensure_render(session, store, asset, profile, fit, now, max_pixels=max_pixels)
    return DeliveredAsset(
        row.sha256, row.media_type, row.size, row.width, row.height, extension_for(row.media_type)
    )
