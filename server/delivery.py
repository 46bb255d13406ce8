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
from typing import Final, cast

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.clock import SystemClock
from server.errors import FieldError, ValidationFailed
from server.media.pipeline import StoredImage, store_slogan, store_variant
from server.media.profiles import DEFAULT_PROFILES, Profile, parse_profiles, profile_for
from server.media.slogans import style_from_mapping
from server.media.store import MediaStore
from server.media.variants import Fit
from server.models import Asset, AssetKind, Variant

BACKGROUND: Final = "#000000"
# A slogan poster is drawn at the profile's exact size: how it fits does not vary.
SLOGAN_FIT: Final = "contain"
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
    now: datetime | None = None,
) -> DeliveredAsset:
    """The delivered form of `asset` for a `width` x `height` screen showing it with `fit`.

    Renders (and records) the variant on first use; raises the media errors
    (ValidationFailed, MediaRejected, NotFound) when the source cannot be rendered.
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
    if fit not in ("contain", "cover"):
        raise ValidationFailed(
            f"unknown fit {fit!r}", [FieldError("fit", "must be 'contain' or 'cover'")]
        )
    profile = profile_for(width, height, profiles)
    key_fit = SLOGAN_FIT if asset.kind == AssetKind.SLOGAN else fit
    row = _variant(session, asset.sha256, profile, key_fit)
    if row is None or not store.exists(row.sha256):
        stored = _render(store, asset, profile, cast(Fit, key_fit))
        row = _record(session, asset.sha256, profile, key_fit, stored, now)
    return DeliveredAsset(
        row.sha256, row.media_type, row.size, row.width, row.height, extension_for(row.media_type)
    )


def _variant(session: Session, source: str, profile: Profile, fit: str) -> Variant | None:
    return session.scalar(
        select(Variant).where(
            Variant.source_sha256 == source,
            Variant.profile == str(profile),
            Variant.fit == fit,
            Variant.background == BACKGROUND,
        )
    )


def _render(store: MediaStore, asset: Asset, profile: Profile, fit: Fit) -> StoredImage:
    if asset.kind == AssetKind.SLOGAN:
        slogan = asset.slogan or {}
        style = style_from_mapping(dict(slogan.get("style") or {}))
        stored, _ = store_slogan(store, str(slogan.get("text", "")), style, profile)
        return stored
    return store_variant(store, asset.sha256, profile, fit, BACKGROUND)


def _record(
    session: Session,
    source: str,
    profile: Profile,
    fit: str,
    stored: StoredImage,
    now: datetime | None,
) -> Variant:
    """Record a rendering; if another process recorded the same one first, use its row."""
    existing = _variant(session, source, profile, fit)
    if existing is not None:  # the blob had gone missing and was rendered again
        existing.sha256, existing.size = stored.sha256, stored.size
        existing.media_type = stored.info.media_type
        existing.width, existing.height = stored.info.width, stored.info.height
        return existing
    row = Variant(
        source_sha256=source,
        profile=str(profile),
        fit=fit,
        background=BACKGROUND,
        sha256=stored.sha256,
        media_type=stored.info.media_type,
        size=stored.size,
        width=stored.info.width,
        height=stored.info.height,
        created_at=now or SystemClock().now(),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        winner = _variant(session, source, profile, fit)
        if winner is None:  # pragma: no cover - the conflicting row cannot vanish
            raise
        return winner
    return row
