"""Manifest validation and the saved last good manifest."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from player.errors import ManifestInvalid
from player.manifest import ManifestStore, parse_manifest
from tests.player.fakes import DAY0, RED, WHITE, manifest_body, png, segment, sha

A, B = png(RED), png(WHITE)


def body() -> dict[str, Any]:
    return manifest_body(
        [
            segment(DAY0, DAY0 + timedelta(days=1), "week", [(A, 10_000), (B, 5_000)]),
            segment(DAY0 + timedelta(days=1), DAY0 + timedelta(days=2), None),
        ],
        [A, B],
        commands=[{"id": 41, "kind": "screenshot", "issued_at": "2022-09-05T01:00:00.000Z"}],
    )


def test_a_valid_manifest_parses() -> None:
    manifest = parse_manifest(body())
    assert manifest.version == "v1"
    assert manifest.valid_until - manifest.valid_from == timedelta(days=2)
    first, idle = manifest.segments
    assert first.playlist == "week" and first.cycle_ms == 15_000
    assert first.offsets == (0, 10_000)
    assert idle.playlist is None and idle.items == ()
    assert manifest.assets[sha(A)].size == len(A)
    assert manifest.commands[0].id == 41 and manifest.commands[0].kind == "screenshot"


def broken(path: str, value: Any) -> dict[str, Any]:
    b = copy.deepcopy(body())
    target: Any = b
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    if value is KeyError:
        del target[last]
    else:
        target[int(last) if last.isdigit() else last] = value
    return b


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        ("protocol", 2, "protocol"),
        ("version", "", "version"),
        ("valid_from", "yesterday", "valid_from"),
        ("valid_from", "2022-09-04T16:00:00", "valid_from"),  # no offset
        ("poll_interval_s", 0, "poll_interval_s"),
        ("segments", [], "segments"),
        ("segments.1.start", "2022-09-05T17:00:00.000Z", "segments[1].start"),  # a gap
        ("segments.1.end", "2022-09-06T17:00:00.000Z", "segments"),  # past valid_until
        ("segments.0.items.0.asset", "f" * 64, "segments[0].items[0].asset"),
        ("segments.0.items.0.duration_ms", 0, "segments[0].items[0].duration_ms"),
        ("segments.0.items.0.duration_ms", True, "segments[0].items[0].duration_ms"),
        ("segments.0.items.0.fit", "stretch", "segments[0].items[0].fit"),
        ("segments.0.items.0.transition", "wipe", "segments[0].items[0].transition"),
        ("segments.0.playlist", None, "segments[0].items"),
        ("commands.0.id", "x", "commands[0].id"),
    ],
)
def test_invalid_manifests_name_the_field(path: str, value: Any, field: str) -> None:
    with pytest.raises(ManifestInvalid) as caught:
        parse_manifest(broken(path, value))
    assert caught.value.field == field


def test_asset_keys_must_be_hashes() -> None:
    b = body()
    b["assets"]["not-a-hash"] = b["assets"][sha(A)]
    with pytest.raises(ManifestInvalid, match="SHA-256"):
        parse_manifest(b)


def test_the_anchor_defaults_to_the_segment_start_and_may_precede_it() -> None:
    b = broken("segments.0.anchor", KeyError)
    assert parse_manifest(b).segments[0].anchor == DAY0
    b = broken("segments.0.anchor", "2022-09-04T15:59:55.000Z")
    assert parse_manifest(b).segments[0].anchor == DAY0 - timedelta(seconds=5)


def test_store_keeps_manifest_and_etag_but_not_commands(tmp_path: Path) -> None:
    store = ManifestStore(tmp_path / "manifest.json")
    assert store.load() is None
    store.save(body(), '"v1"')
    saved = store.load()
    assert saved is not None
    assert saved.etag == '"v1"' and saved.manifest.version == "v1"
    assert saved.manifest.commands == ()  # one-shot: never replayed after a restart
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]  # no temp file left


def test_store_discards_a_damaged_file(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    store = ManifestStore(path)
    path.write_text(json.dumps({"etag": "x", "manifest": {"protocol": 1}}))
    assert store.load() is None
    assert not path.exists()
    path.write_text("{truncated")
    assert store.load() is None
