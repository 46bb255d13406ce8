"""Uploads and slogans become assets: bytes into the store first, then the rows.

An upload is checked, normalised and committed to the store (with its thumbnail) before
its Asset row, thumbnail Variant row and audit event are added to the caller's
transaction. The row therefore never exists without its bytes. A crash or a failed
commit between the two leaves bytes no row refers to; `signage media gc` removes them
once the store's grace period has passed (`server.media.store.DEFAULT_GRACE`).

The media work runs outside any transaction (see `server.assets.renders`): these functions end
the session's transaction (`release`) before it, so call them with nothing pending.
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Final

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server import faults
from server.accounts.models import Organisation, Role
from server.assets.ingest import (
    canonical_slogan,
    file_sha256,
    find_asset,
    require_slogan_glyphs,
    slogan_asset,
    slogan_sha256,
)
from server.assets.models import Asset, AssetKind, Variant
from server.assets.renders import (
    SLOGAN_FIT,
    THUMB_FIT,
    THUMB_PROFILE,
    THUMB_SIDE,
    ensure_render,
    ensure_thumbnail,
    record_variant,
    release,
    render_slogan_poster,
)
from server.auth import audit
from server.auth.actors import Actor
from server.config import Settings
from server.db import MAX_ID
from server.errors import FieldError, NotFound, ValidationFailed
from server.media.errors import InvalidMediaRequest
from server.media.pipeline import StoredImage, ingest_image, store_thumbnail
from server.media.profiles import Profile, parse_profiles, profile_for
from server.media.slogans import render_slogan, style_from_mapping
from server.media.store import MediaStore

MAX_NAME: Final = 300  # Asset.original_name and Asset.title are String(300)
_MAX_SUFFIX: Final = 16
_SEPARATORS = re.compile(r"[/\\]")


@dataclass(frozen=True)
class MediaLimits:
    """What the settings allow: upload bytes, image pixels, and the screen profiles."""

    max_bytes: int
    max_pixels: int
    profiles: tuple[Profile, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> MediaLimits:
        return cls(
            settings.max_upload_bytes,
            settings.max_image_pixels,
            parse_profiles(settings.screen_profiles),
        )


@dataclass(frozen=True)
class Author:
    """Who creates an asset: a user (API) or a command (user_id None), for the audit log."""

    user_id: int | None
    label: str

    @classmethod
    def of(cls, actor: Actor) -> Author:
        # The command line's own actor has no user row (id 0): the asset has no creator.
        return cls(actor.user_id or None, actor.label)


@dataclass(frozen=True)
class Created:
    """An asset and whether this call created it (False: the organisation had it)."""

    asset: Asset
    created: bool


def display_name(raw: str | None) -> str:
    """A client's file name made safe to show: no directories, control or format
    characters, at most MAX_NAME characters (the extension kept). Never a storage name."""
    if not raw:
        return ""
    name = _SEPARATORS.split(unicodedata.normalize("NFC", raw))[-1]
    # Category C: controls (NUL included), format characters such as U+202E (which would
    # let "gnp.exe" pose as "exe.png"), surrogates, private use, unassigned.
    name = "".join(c for c in name if not unicodedata.category(c).startswith("C")).strip()
    if name in (".", ".."):
        return ""
    if len(name) > MAX_NAME:
        suffix = PurePosixPath(name).suffix
        if len(suffix) > _MAX_SUFFIX:
            suffix = ""
        name = name[: MAX_NAME - len(suffix)] + suffix
    return name


def clean_title(raw: str | None, field: str = "title") -> str:
    """A title as given, stripped; ValidationFailed past MAX_NAME characters."""
    title = "".join(
        c for c in unicodedata.normalize("NFC", raw or "") if unicodedata.category(c) != "Cc"
    ).strip()
    if len(title) > MAX_NAME:
        raise ValidationFailed(
            f"the title is longer than {MAX_NAME} characters",
            [FieldError(field, f"at most {MAX_NAME} characters")],
        )
    return title


def _org_id_of(path: str) -> int:
    return int(path.strip("/").rsplit("/", 1)[-1])


def target_organisation(
    session: Session, actor: Actor, organisation_id: int | None
) -> Organisation:
    """The organisation new content goes to: the given one, or the actor's only one.

    NotFound outside the actor's subtrees, Forbidden for a role below operator there.
    """
    if organisation_id is None:
        if len(actor.roles) != 1:
            raise ValidationFailed(
                "you belong to several organisations; say which one the asset is for",
                [FieldError("organisation_id", "required")],
            )
        organisation_id = _org_id_of(next(iter(actor.roles)))
    org = session.get(Organisation, organisation_id) if 0 < organisation_id <= MAX_ID else None
    if org is None or not actor.sees(org.path):
        raise NotFound(f"no organisation {organisation_id}")
    actor.require(org.path, Role.OPERATOR)
    return org


def upload_image(
    session: Session,
    store: MediaStore,
    org: Organisation,
    stream: BinaryIO,
    *,
    name: str,
    title: str,
    now: datetime,
    limits: MediaLimits,
    author: Author,
) -> Created:
    """Check, normalise and store an uploaded image; the organisation's asset for it.

    The same normalised bytes are one blob, and one asset per organisation: a repeat
    returns the existing asset (created False). Raises PayloadTooLarge, UnsupportedMedia
    or MediaRejected with the store unchanged. The caller commits.
    """
    shown = display_name(name)
    wanted_title = clean_title(title) or _stem(shown)
    release(session)
    stored = ingest_image(store, stream, max_bytes=limits.max_bytes, max_pixels=limits.max_pixels)
    thumb = store_thumbnail(store, stored.sha256, THUMB_SIDE, max_pixels=limits.max_pixels)
    created = _record_image(session, store, org, stored, thumb, shown, wanted_title, now, author)
    faults.point("after-store-put")
    return created


def ingest_file(
    session: Session,
    store: MediaStore,
    org: Organisation,
    path: Path,
    *,
    now: datetime,
    limits: MediaLimits,
    author: Author,
) -> Created:
    """An image file on disk (a campaign file's poster, `signage asset add`) through the
    same path as an upload. A file that is byte for byte an asset the organisation has (a
    poster written by `campaign export --out`) is that asset: a round trip never re-encodes."""
    raw = file_sha256(path)
    existing = find_asset(session, org.id, raw)
    if existing is not None and store.exists(raw):
        return Created(existing, False)
    with path.open("rb") as stream:
        return upload_image(
            session,
            store,
            org,
            stream,
            name=path.name,
            title="",
            now=now,
            limits=limits,
            author=author,
        )


def _record_image(
    session: Session,
    store: MediaStore,
    org: Organisation,
    stored: StoredImage,
    thumb: StoredImage,
    name: str,
    title: str,
    now: datetime,
    author: Author,
) -> Created:
    """The rows for stored bytes: the insert comes first (see `server.assets.renders.release`);
    the organisation's existing asset for the hash makes it fail and is returned."""
    asset = _image_row(org, stored, name, title, now, author)
    try:
        with session.begin_nested():
            session.add(asset)
    except IntegrityError:  # the organisation has these bytes (perhaps since a moment ago)
        existing = find_asset(session, org.id, stored.sha256)
        if existing is None:  # pragma: no cover - a unique violation names an existing row
            raise
        record_variant(session, store, stored.sha256, THUMB_PROFILE, THUMB_FIT, thumb, now)
        return Created(existing, False)
    record_variant(session, store, stored.sha256, THUMB_PROFILE, THUMB_FIT, thumb, now)
    audit.changed(session, author, now, "create", asset, after=_asset_summary(asset))
    return Created(asset, True)


def _stem(name: str) -> str:
    return PurePosixPath(name).stem if name else ""


def _image_row(
    org: Organisation, stored: StoredImage, name: str, title: str, now: datetime, author: Author
) -> Asset:
    return Asset(
        organisation_id=org.id,
        kind=AssetKind.IMAGE,
        sha256=stored.sha256,
        media_type=stored.info.media_type,
        size=stored.size,
        width=stored.info.width,
        height=stored.info.height,
        original_name=name,
        title=title or "image",
        slogan=None,
        created_at=now,
        created_by_id=author.user_id,
    )


def create_slogan(
    session: Session,
    store: MediaStore,
    org: Organisation,
    *,
    text: str,
    style: Mapping[str, Any],
    title: str | None,
    now: datetime,
    limits: MediaLimits,
    author: Author,
) -> Created:
    """The organisation's slogan asset for `text` in `style`, checked and rendered once.

    Every character must be in the style's font (ValidationFailed names the missing ones)
    and the text must fit the first screen profile; that poster and its thumbnail are
    recorded as variants. The caller commits.
    """
    try:
        slogan = canonical_slogan(text, style)
        require_slogan_glyphs(slogan["text"], slogan["style"])
    except (ValidationFailed, InvalidMediaRequest) as exc:
        raise ValidationFailed(exc.detail, [_style_field(e) for e in exc.errors]) from None
    wanted_title = clean_title(title)
    sha = slogan_sha256(slogan)
    existing = find_asset(session, org.id, sha)
    if existing is not None:
        return Created(existing, False)
    profile = limits.profiles[0]
    release(session)
    poster = render_slogan_poster(store, slogan, profile, max_pixels=limits.max_pixels)
    thumb = store_thumbnail(store, poster.sha256, THUMB_SIDE, max_pixels=limits.max_pixels)
    created = _record_slogan(
        session, store, org, slogan, wanted_title, (profile, poster), thumb, now, author
    )
    faults.point("after-store-put")
    return created


def _record_slogan(
    session: Session,
    store: MediaStore,
    org: Organisation,
    slogan: dict[str, Any],
    title: str,
    poster: tuple[Profile, StoredImage],
    thumb: StoredImage,
    now: datetime,
    author: Author,
) -> Created:
    """The rows for a rendered slogan; the renders are recorded first, so the transaction
    writes before it reads (see `server.assets.renders.release`)."""
    sha = slogan_sha256(slogan)
    record_variant(session, store, sha, str(poster[0]), SLOGAN_FIT, poster[1], now)
    record_variant(session, store, sha, THUMB_PROFILE, THUMB_FIT, thumb, now)
    existing = find_asset(session, org.id, sha)  # made since the first look, by someone else
    if existing is not None:
        return Created(existing, False)
    try:
        with session.begin_nested():
            asset = slogan_asset(
                session, org, slogan["text"], slogan["style"], now, created_by_id=author.user_id
            )
            if title:
                asset.title = title
    except IntegrityError:  # created at the same moment by another request (PostgreSQL)
        winner = find_asset(session, org.id, sha)
        if winner is None:  # pragma: no cover - a unique violation names an existing row
            raise
        return Created(winner, False)
    audit.changed(session, author, now, "create", asset, after=_asset_summary(asset))
    return Created(asset, True)


def _style_field(error: FieldError) -> FieldError:
    if error.field == "text" or error.field.startswith("style."):
        return error
    return FieldError(f"style.{error.field}", error.reason)


def preview(
    session: Session,
    store: MediaStore,
    asset: Asset,
    wanted: Profile | None,
    fit: str,
    now: datetime,
    limits: MediaLimits,
) -> tuple[Profile, Variant]:
    """What a screen of `wanted`'s size (default: the first profile) gets, with the
    profile it was rendered for; rendered and recorded on first use. The caller commits."""
    target = wanted or limits.profiles[0]
    profile = profile_for(target.width, target.height, limits.profiles)
    row = ensure_render(session, store, asset, profile, fit, now, max_pixels=limits.max_pixels)
    return profile, row


def thumbnail(
    session: Session, store: MediaStore, asset: Asset, now: datetime, limits: MediaLimits
) -> Variant:
    """The asset's thumbnail, made and recorded on first use. The caller commits."""
    return ensure_thumbnail(
        session, store, asset, limits.profiles[0], now, max_pixels=limits.max_pixels
    )


def _asset_summary(asset: Asset) -> dict[str, str]:
    return {"kind": str(asset.kind), "sha256": asset.sha256, "title": asset.title}


PREVIEW_MAX_WIDTH: Final = 960


def slogan_preview_png(text: str, style: Mapping[str, Any], profile: Profile) -> bytes:
    """A slogan drawn as a screen of `profile` shows it (scaled down to at most
    PREVIEW_MAX_WIDTH wide), as PNG bytes; nothing is stored. ValidationFailed names what
    is wrong: characters the font lacks, a bad style, text that cannot fit."""
    try:
        slogan = canonical_slogan(text, style)
        require_slogan_glyphs(slogan["text"], slogan["style"])
    except ValidationFailed as exc:
        raise ValidationFailed(exc.detail, [_style_field(e) for e in exc.errors]) from None
    scale = min(1.0, PREVIEW_MAX_WIDTH / profile.width)
    width, height = max(1, round(profile.width * scale)), max(1, round(profile.height * scale))
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "preview.png"
        render_slogan(slogan["text"], style_from_mapping(slogan["style"]), width, height, target)
        return target.read_bytes()
