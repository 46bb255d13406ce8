"""Assets from files and from slogan text: one Asset row per (organisation, content hash).

Images go through the media pipeline (checked, normalised, stored by the hash of the
normalised bytes). A slogan is text plus a style; its hash is that of the canonical JSON
of `{"text": ..., "style": ...}`, and it is rendered per screen at delivery.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import Organisation
from server.assets.models import Asset, AssetKind
from server.errors import FieldError, ValidationFailed
from server.media.errors import MediaSetupError
from server.media.fonts import check_glyphs
from server.media.images import DEFAULT_MAX_PIXELS, inspect_image, normalise
from server.media.slogans import clean_text, resolve_font, style_from_mapping

SLOGAN_MEDIA_TYPE = "application/vnd.signage.slogan+json"
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
_CHUNK = 1024 * 1024


def find_asset(session: Session, org_id: int, sha256: str) -> Asset | None:
    return session.scalar(
        select(Asset).where(Asset.organisation_id == org_id, Asset.sha256 == sha256)
    )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def image_digest(
    session: Session,
    org_id: int,
    path: Path,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> str:
    """The hash the ingest (`server.assets.uploads.ingest_file`) would give `path`, computed
    without writing to any store.

    A file whose own bytes are an asset the organisation already has (an exported poster)
    is that asset; anything else is checked and normalised in a scratch folder.
    Raises UnsupportedMedia or MediaRejected for a file that is not a usable image.
    """
    raw = file_sha256(path)
    if find_asset(session, org_id, raw) is not None:
        return raw
    inspect_image(path, max_pixels)
    with tempfile.TemporaryDirectory(prefix="signage-digest-") as scratch:
        out = Path(scratch) / "normalised"
        normalise(path, out, max_pixels=max_pixels)
        return file_sha256(out)


def canonical_slogan(text: str, style: Mapping[str, Any] | None) -> dict[str, Any]:
    """`{"text", "style"}` with clean text and a checked style; ValidationFailed otherwise."""
    cleaned = clean_text(text)
    style_dict = dict(style or {})
    style_from_mapping(style_dict)  # raises ValidationFailed naming each bad field
    return {"text": cleaned, "style": {k: style_dict[k] for k in sorted(style_dict)}}


def slogan_sha256(slogan: Mapping[str, Any]) -> str:
    return hashlib.sha256(_canonical_json(slogan)).hexdigest()


def _canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def slogan_asset(
    session: Session,
    org: Organisation,
    text: str,
    style: Mapping[str, Any] | None,
    now: datetime,
    *,
    created_by_id: int | None = None,
) -> Asset:
    """The organisation's slogan asset for `text` in `style`, recorded if new."""
    slogan = canonical_slogan(text, style)
    sha = slogan_sha256(slogan)
    existing = find_asset(session, org.id, sha)
    if existing is not None:
        return existing
    first_line = slogan["text"].split("\n", 1)[0]
    asset = Asset(
        organisation_id=org.id,
        kind=AssetKind.SLOGAN,
        sha256=sha,
        media_type=SLOGAN_MEDIA_TYPE,
        size=len(_canonical_json(slogan)),
        width=None,
        height=None,
        original_name="",
        title=first_line[:300],
        slogan=slogan,
        created_at=now,
        created_by_id=created_by_id,
    )
    session.add(asset)
    session.flush()
    return asset


def require_slogan_glyphs(text: str, style: Mapping[str, Any] | None) -> None:
    """ValidationFailed when the style's font cannot draw every character of `text`."""
    try:
        font = resolve_font(style_from_mapping(dict(style or {})))
    except MediaSetupError as exc:  # no fontconfig on this machine: say so on the field
        raise ValidationFailed(
            "no font for the slogan", [FieldError("style.font_family", exc.detail)]
        ) from exc
    check_glyphs(clean_text(text), font)
