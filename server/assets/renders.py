"""Renders operators look at: an asset for a screen profile (a preview) and thumbnails.

Renders are Variant rows keyed as `server.delivery` keys them, so a preview and a screen
share one rendering. Rendering takes up to seconds, so it runs outside any database
transaction: on SQLite a transaction that read before another connection committed can no
longer write (SQLITE_BUSY_SNAPSHOT), and a transaction holding the write lock while it
renders would stall every other writer. The pattern everywhere here: read, end the
transaction (`release`), render into the store, then record the row in a short
transaction that writes before it reads and that the caller commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.assets.models import Asset, AssetKind, Variant
from server.errors import FieldError, NotFound, ValidationFailed
from server.media.pipeline import StoredImage, store_slogan, store_thumbnail, store_variant
from server.media.profiles import Profile
from server.media.slogans import style_from_mapping
from server.media.store import MediaStore
from server.media.variants import Fit

BACKGROUND: Final = "#000000"
# A slogan poster is drawn at the profile's exact size: how it fits does not vary.
SLOGAN_FIT: Final = "contain"
THUMB_PROFILE: Final = "thumb"
THUMB_FIT: Final = "contain"
THUMB_SIDE: Final = 320


def release(session: Session) -> None:
    """End the session's transaction before slow media work (nothing is pending here;
    committing rather than rolling back keeps loaded objects usable).

    What follows the media work must write before it reads: a SQLite transaction that
    read before another connection committed can no longer write ("database is
    locked"), while one whose first statement writes waits for the lock and then sees
    everything committed before it.
    """
    session.commit()


def find_variant(session: Session, source: str, profile: str, fit: str) -> Variant | None:
    return session.scalar(
        select(Variant).where(
            Variant.source_sha256 == source,
            Variant.profile == profile,
            Variant.fit == fit,
            Variant.background == BACKGROUND,
        )
    )


def record_variant(
    session: Session,
    store: MediaStore,
    source: str,
    profile: str,
    fit: str,
    stored: StoredImage,
    now: datetime,
) -> Variant:
    """Record a rendering that is in the store, inserting first (see `release`).

    If the row exists, it wins while its blob is there; if its blob was collected, it is
    pointed at the new one.
    """
    row = Variant(
        source_sha256=source, profile=profile, fit=fit, background=BACKGROUND, created_at=now
    )
    _fill(row, stored)
    try:
        with session.begin_nested():
            session.add(row)
        return row
    except IntegrityError:  # recorded before (or at the same moment by another request)
        pass
    existing = find_variant(session, source, profile, fit)
    if existing is None:  # pragma: no cover - a unique violation names an existing row
        raise LookupError(f"variant of {source} for {profile} vanished")
    if existing.sha256 != stored.sha256 and not store.exists(existing.sha256):
        _fill(existing, stored)
        session.flush()
    return existing


def _fill(row: Variant, stored: StoredImage) -> None:
    row.sha256, row.size, row.media_type = stored.sha256, stored.size, stored.info.media_type
    row.width, row.height = stored.info.width, stored.info.height


def _stored(store: MediaStore, row: Variant | None) -> bool:
    return row is not None and store.exists(row.sha256)


def check_fit(fit: str) -> Fit:
    if fit in ("contain", "cover"):
        return cast(Fit, fit)
    raise ValidationFailed(
        f"unknown fit {fit!r}", [FieldError("fit", "must be 'contain' or 'cover'")]
    )


def ensure_render(
    session: Session,
    store: MediaStore,
    asset: Asset,
    profile: Profile,
    fit: str,
    now: datetime,
    *,
    max_pixels: int,
) -> Variant:
    """The asset rendered for `profile` (a slogan's poster, an image's variant), recorded
    on first use. The caller commits."""
    if asset.kind == AssetKind.VIDEO:
        raise NotFound(f"asset {asset.id} is a video; it has no rendering")
    key_fit = SLOGAN_FIT if asset.kind == AssetKind.SLOGAN else check_fit(fit)
    row = find_variant(session, asset.sha256, str(profile), key_fit)
    if row is not None and _stored(store, row):
        return row
    sha, slogan = asset.sha256, dict(asset.slogan or {})  # read before the commit
    release(session)
    if asset.kind == AssetKind.SLOGAN:
        stored = render_slogan_poster(store, slogan, profile, max_pixels=max_pixels)
    else:
        stored = store_variant(store, sha, profile, key_fit, BACKGROUND, max_pixels=max_pixels)
    return record_variant(session, store, sha, str(profile), key_fit, stored, now)


def render_slogan_poster(
    store: MediaStore, slogan: Mapping[str, Any], profile: Profile, *, max_pixels: int
) -> StoredImage:
    """A slogan (`{"text", "style"}`) drawn for `profile`, stored; no database."""
    style = style_from_mapping(dict(slogan.get("style") or {}))
    text = str(slogan.get("text", ""))
    stored, _ = store_slogan(store, text, style, profile, max_pixels=max_pixels)
    return stored


def ensure_thumbnail(
    session: Session,
    store: MediaStore,
    asset: Asset,
    first_profile: Profile,
    now: datetime,
    *,
    max_pixels: int,
) -> Variant:
    """The asset's thumbnail (at most THUMB_SIDE px a side), made and recorded on first
    use; a slogan's is made from its poster for `first_profile`. The caller commits."""
    row = find_variant(session, asset.sha256, THUMB_PROFILE, THUMB_FIT)
    if row is not None and _stored(store, row):
        return row
    if asset.kind == AssetKind.IMAGE:
        source = asset.sha256
    elif asset.kind == AssetKind.SLOGAN:
        poster = ensure_render(
            session, store, asset, first_profile, SLOGAN_FIT, now, max_pixels=max_pixels
        )
        source = poster.sha256
    else:
        raise NotFound(f"asset {asset.id} is a video; it has no thumbnail")
    sha = asset.sha256
    release(session)
    stored = store_thumbnail(store, source, THUMB_SIDE, max_pixels=max_pixels)
    return record_variant(session, store, sha, THUMB_PROFILE, THUMB_FIT, stored, now)
