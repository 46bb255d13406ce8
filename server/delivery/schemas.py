"""The manifest's shape, for the OpenAPI document.

The body itself is assembled from cached JSON (`compile.py`), never through these models;
they describe it, and the schemathesis suite checks real responses against them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ManifestItem(BaseModel):
    asset: str = Field(description="SHA-256 of the asset's bytes; a key of `assets`")
    duration_ms: int
    fit: Literal["contain", "cover"]
    transition: Literal["cut", "crossfade"]


class ManifestSegment(BaseModel):
    start: str = Field(description="RFC 3339 instant, UTC, milliseconds")
    end: str
    anchor: str = Field(description="Rotation is counted from here (may precede `start`)")
    playlist: str | None = Field(description="None: nothing scheduled, show the idle card")
    campaign: str | None
    items: list[ManifestItem]


class ManifestAsset(BaseModel):
    url: str = Field(description="Path under the server's base URL, or an absolute URL")
    media_type: str
    size: int
    width: int | None
    height: int | None


class ManifestCommand(BaseModel):
    id: int
    kind: Literal["refresh", "screenshot", "restart"]
    issued_at: str


class Manifest(BaseModel):
    """What a screen plays from its local midnight to the end of the horizon."""

    protocol: int
    version: str = Field(description="The ETag's value, without quotes")
    timezone: str
    valid_from: str
    valid_until: str
    poll_interval_s: int
    segments: list[ManifestSegment]
    assets: dict[str, ManifestAsset]
    commands: list[ManifestCommand]
