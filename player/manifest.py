"""The manifest: parsed and validated into dataclasses, and the last good one kept on disk."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from player import PROTOCOL_VERSION
from player.clock import to_ms
from player.errors import ManifestInvalid
from player.files import atomic_write_json, read_json

log = logging.getLogger(__name__)

Fit = Literal["contain", "cover"]
Transition = Literal["cut", "crossfade"]
SHA256 = re.compile(r"^[0-9a-f]{64}$")
_FITS: tuple[Fit, ...] = ("contain", "cover")
_TRANSITIONS: tuple[Transition, ...] = ("cut", "crossfade")


@dataclass(frozen=True)
class Item:
    asset: str
    duration_ms: int
    fit: Fit = "contain"
    transition: Transition = "cut"


@dataclass(frozen=True)
class Segment:
    """A span of the timeline with one playlist (or none: the idle card), rotated from `anchor`."""

    start: datetime
    end: datetime
    anchor: datetime
    playlist: str | None
    campaign: str | None
    items: tuple[Item, ...]
    # Rotation in integer milliseconds: offsets[i] is where item i starts within a cycle.
    start_ms: int = field(init=False)
    end_ms: int = field(init=False)
    anchor_ms: int = field(init=False)
    offsets: tuple[int, ...] = field(init=False)
    cycle_ms: int = field(init=False)

    def __post_init__(self) -> None:
        offsets, total = [], 0
        for item in self.items:
            offsets.append(total)
            total += item.duration_ms
        object.__setattr__(self, "start_ms", to_ms(self.start))
        object.__setattr__(self, "end_ms", to_ms(self.end))
        object.__setattr__(self, "anchor_ms", to_ms(self.anchor))
        object.__setattr__(self, "offsets", tuple(offsets))
        object.__setattr__(self, "cycle_ms", total)


@dataclass(frozen=True)
class AssetRef:
    sha256: str
    url: str
    media_type: str
    size: int
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class Command:
    id: int
    kind: str
    issued_at: str | None = None


@dataclass(frozen=True)
class Manifest:
    version: str
    timezone: str
    valid_from: datetime
    valid_until: datetime
    poll_interval_s: float
    segments: tuple[Segment, ...]
    assets: dict[str, AssetRef]
    commands: tuple[Command, ...] = ()
    protocol: int = PROTOCOL_VERSION


def parse_instant(value: Any, where: str) -> datetime:
    """An RFC 3339 instant with an explicit offset (the protocol writes UTC with `Z`)."""
    if not isinstance(value, str):
        raise ManifestInvalid(where, "must be an RFC 3339 string")
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise ManifestInvalid(where, f"not an RFC 3339 instant: {value!r}") from None
    if instant.tzinfo is None:
        raise ManifestInvalid(where, "has no UTC offset")
    return instant


def _obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ManifestInvalid(where, "must be an object")
    return value


def _int(value: Any, where: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ManifestInvalid(where, f"must be an integer ≥ {minimum}")
    return value


def _opt_str(value: Any, where: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ManifestInvalid(where, "must be a string or null")
    return value


def _item(raw: Any, where: str, assets: dict[str, AssetRef]) -> Item:
    raw = _obj(raw, where)
    sha = raw.get("asset")
    if not isinstance(sha, str) or sha not in assets:
        raise ManifestInvalid(f"{where}.asset", "not listed in assets")
    fit = raw.get("fit", "contain")
    if fit not in _FITS:
        raise ManifestInvalid(f"{where}.fit", f"must be one of {_FITS}")
    transition = raw.get("transition", "cut")
    if transition not in _TRANSITIONS:
        raise ManifestInvalid(f"{where}.transition", f"must be one of {_TRANSITIONS}")
    duration = _int(raw.get("duration_ms"), f"{where}.duration_ms", 1)
    return Item(asset=sha, duration_ms=duration, fit=fit, transition=transition)


def _asset(sha: str, raw: Any) -> AssetRef:
    where = f"assets.{sha[:12]}"
    if not SHA256.match(sha):
        raise ManifestInvalid(where, "key is not a lowercase hex SHA-256")
    raw = _obj(raw, where)
    url, media_type = raw.get("url"), raw.get("media_type")
    if not isinstance(url, str) or not url:
        raise ManifestInvalid(f"{where}.url", "must be a non-empty string")
    if not isinstance(media_type, str):
        raise ManifestInvalid(f"{where}.media_type", "must be a string")
    width, height = raw.get("width"), raw.get("height")
    return AssetRef(
        sha256=sha,
        url=url,
        media_type=media_type,
        size=_int(raw.get("size"), f"{where}.size", 0),
        width=width if isinstance(width, int) else None,
        height=height if isinstance(height, int) else None,
    )


def parse_manifest(body: Any) -> Manifest:
    """Validate a manifest body (protocol 1) into a `Manifest`; raise `ManifestInvalid`."""
    body = _obj(body, "body")
    if body.get("protocol") != PROTOCOL_VERSION:
        raise ManifestInvalid("protocol", f"this player speaks {PROTOCOL_VERSION}")
    version = body.get("version")
    if not isinstance(version, str) or not version:
        raise ManifestInvalid("version", "must be a non-empty string")
    valid_from = parse_instant(body.get("valid_from"), "valid_from")
    valid_until = parse_instant(body.get("valid_until"), "valid_until")
    if valid_until <= valid_from:
        raise ManifestInvalid("valid_until", "must be after valid_from")
    poll = body.get("poll_interval_s")
    if isinstance(poll, bool) or not isinstance(poll, int | float) or not 1 <= poll <= 86400:
        raise ManifestInvalid("poll_interval_s", "must be a number of seconds in [1, 86400]")
    raw_assets = _obj(body.get("assets", {}), "assets")
    assets = {sha: _asset(sha, raw) for sha, raw in raw_assets.items()}
    raw_segments = body.get("segments")
    if not isinstance(raw_segments, list) or not raw_segments:
        raise ManifestInvalid("segments", "must be a non-empty list")
    segments: list[Segment] = []
    expected_start = valid_from
    for i, raw in enumerate(raw_segments):
        where = f"segments[{i}]"
        raw = _obj(raw, where)
        start = parse_instant(raw.get("start"), f"{where}.start")
        end = parse_instant(raw.get("end"), f"{where}.end")
        if start != expected_start:
            raise ManifestInvalid(f"{where}.start", "segments must be contiguous from valid_from")
        if end <= start:
            raise ManifestInvalid(f"{where}.end", "must be after start")
        items_raw = raw.get("items", [])
        if not isinstance(items_raw, list):
            raise ManifestInvalid(f"{where}.items", "must be a list")
        items = tuple(_item(it, f"{where}.items[{j}]", assets) for j, it in enumerate(items_raw))
        playlist = _opt_str(raw.get("playlist"), f"{where}.playlist")
        if playlist is None and items:
            raise ManifestInvalid(f"{where}.items", "a segment without playlist has no items")
        anchor = parse_instant(raw.get("anchor", raw.get("start")), f"{where}.anchor")
        segments.append(
            Segment(
                start=start,
                end=end,
                anchor=anchor,
                playlist=playlist,
                campaign=_opt_str(raw.get("campaign"), f"{where}.campaign"),
                items=items,
            )
        )
        expected_start = end
    if expected_start != valid_until:
        raise ManifestInvalid("segments", "must end at valid_until")
    commands = []
    for i, raw in enumerate(body.get("commands") or []):
        raw = _obj(raw, f"commands[{i}]")
        kind = raw.get("kind")
        if not isinstance(kind, str):
            raise ManifestInvalid(f"commands[{i}].kind", "must be a string")
        issued = raw.get("issued_at")
        commands.append(
            Command(
                id=_int(raw.get("id"), f"commands[{i}].id", 0),
                kind=kind,
                issued_at=issued if isinstance(issued, str) else None,
            )
        )
    return Manifest(
        version=version,
        timezone=str(body.get("timezone") or "UTC"),
        valid_from=valid_from,
        valid_until=valid_until,
        poll_interval_s=float(poll),
        segments=tuple(segments),
        assets=assets,
        commands=tuple(commands),
    )


@dataclass(frozen=True)
class SavedManifest:
    manifest: Manifest
    etag: str | None
    body: dict[str, Any]


class ManifestStore:
    """The last good (active) manifest and its ETag, in one atomically replaced file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> SavedManifest | None:
        """The saved manifest, or None; an unreadable or invalid file is removed."""
        data = read_json(self.path)
        if data is None:
            return None
        try:
            body = _obj(data, "saved").get("manifest")
            manifest = parse_manifest(body)
        except ManifestInvalid as exc:
            log.warning("discarding saved manifest %s: %s", self.path, exc)
            self.path.unlink(missing_ok=True)
            return None
        assert isinstance(body, dict)
        etag = data.get("etag")
        return SavedManifest(manifest, etag if isinstance(etag, str) else None, body)

    def save(self, body: dict[str, Any], etag: str | None) -> None:
        # Commands are one-shot: a restart must not replay them from the saved copy.
        atomic_write_json(self.path, {"etag": etag, "manifest": {**body, "commands": []}})

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)
