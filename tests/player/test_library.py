"""Which manifest is active: a new one waits for the assets of its first hours."""

from __future__ import annotations

import errno
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from player.cache import Cache
from player.library import Library
from player.manifest import ManifestStore
from tests.player.fakes import (
    BLUE,
    DAY0,
    GREEN,
    RED,
    T0,
    WHITE,
    ByteSource,
    manifest_body,
    png,
    segment,
    sha,
)

A, B, C, D = png(RED), png(GREEN), png(BLUE), png(WHITE)
DAY = timedelta(days=1)


@pytest.fixture
def parts(tmp_path: Path) -> tuple[Library, Cache, ByteSource]:
    cache = Cache(tmp_path / "cache", 10_000_000)
    cache.open()
    source = ByteSource()
    for data in (A, B, C, D):
        source.add(data)
    return Library(ManifestStore(tmp_path / "manifest.json"), cache), cache, source


def fetch(cache: Cache, source: ByteSource, library: Library, *media: bytes) -> None:
    for data in media:
        ref = next(r for r in library.wanted(T0) if r.sha256 == sha(data))
        cache.fetch(ref, source, library.protected(T0))


def v1() -> dict[str, Any]:
    return manifest_body([segment(DAY0, DAY0 + DAY, "week", [(A, 10_000)])], [A], version="v1")


def v2() -> dict[str, Any]:
    """B now; C from 03:00 (within the 2 h lookahead from 02:00); D from 07:00 (beyond it)."""
    return manifest_body(
        [
            segment(DAY0, T0 + timedelta(hours=1), "week", [(B, 10_000)]),
            segment(T0 + timedelta(hours=1), T0 + timedelta(hours=5), "takeover", [(C, 5_000)]),
            segment(T0 + timedelta(hours=5), DAY0 + DAY, "later", [(D, 5_000)]),
        ],
        [B, C, D],
        version="v2",
    )


def test_the_first_manifest_is_active_at_once(parts: tuple[Library, Cache, ByteSource]) -> None:
    library, _, _ = parts
    library.offer(v1(), '"v1"', T0)
    assert library.active is not None and library.active.version == "v1"
    assert library.known_etag() == '"v1"'


def test_a_new_manifest_waits_for_the_assets_of_its_first_hours(
    parts: tuple[Library, Cache, ByteSource],
) -> None:
    library, cache, source = parts
    library.offer(v1(), '"v1"', T0)
    fetch(cache, source, library, A)
    library.offer(v2(), '"v2"', T0)
    assert library.active is not None and library.active.version == "v1"
    assert library.known_etag() == '"v2"'  # no need to download the body again
    assert [r.sha256 for r in library.wanted(T0)] == [sha(B), sha(C), sha(D)]  # soonest first
    assert library.protected(T0) == {sha(A), sha(B), sha(C), sha(D)}
    # Past B's segment, only what is still to come is kept from eviction.
    assert library.protected(T0 + timedelta(hours=2)) == {sha(A), sha(C), sha(D)}
    fetch(cache, source, library, B)
    assert not library.try_activate(T0)  # C is on screen within 2 h
    fetch(cache, source, library, C)
    assert library.try_activate(T0)  # D (5 h away) may come later
    assert library.active.version == "v2" and library.pending is None
    assert ManifestStore(library._store.path).load().manifest.version == "v2"  # type: ignore[union-attr]


def test_unobtainable_assets_do_not_block_forever(
    parts: tuple[Library, Cache, ByteSource],
) -> None:
    library, cache, source = parts
    library.offer(v1(), '"v1"', T0)
    fetch(cache, source, library, A)
    library.offer(v2(), '"v2"', T0)
    fetch(cache, source, library, B)
    library.mark_unavailable(sha(C))  # refused by the server, or failed verification twice
    assert library.try_activate(T0)


def test_an_expired_active_manifest_gives_way(parts: tuple[Library, Cache, ByteSource]) -> None:
    library, cache, source = parts
    library.offer(v1(), '"v1"', T0)
    fetch(cache, source, library, A)
    library.offer(v2(), '"v2"', T0)
    assert not library.try_activate(T0)
    assert library.try_activate(DAY0 + DAY)  # past v1's horizon: better than a stale day


def test_the_same_version_again_changes_nothing(parts: tuple[Library, Cache, ByteSource]) -> None:
    library, _, _ = parts
    library.offer(v1(), '"v1"', T0)
    library.offer(v1(), '"v1"', T0)
    assert library.pending is None and library.active is not None


def test_forget_drops_everything_on_disk_too(parts: tuple[Library, Cache, ByteSource]) -> None:
    library, _, _ = parts
    library.offer(v1(), '"v1"', T0)
    library.forget()
    assert library.active is None and library.known_etag() is None
    assert not library._store.path.exists()
    assert library.load() is None


def test_an_activation_is_announced(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache", 10_000_000)
    cache.open()
    woken: list[bool] = []
    library = Library(
        ManifestStore(tmp_path / "manifest.json"), cache, on_activate=lambda: woken.append(True)
    )
    library.offer(v1(), '"v1"', T0)
    assert woken == [True]  # the playback loop looks at once, not at its next planned step
    library.offer(v2(), '"v2"', T0)
    assert woken == [True]  # pending: nothing to show yet


def test_a_manifest_that_cannot_be_saved_still_plays(
    parts: tuple[Library, Cache, ByteSource], monkeypatch: pytest.MonkeyPatch
) -> None:
    library, _, _ = parts

    def disk_full(*_args: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(library._store, "save", disk_full)
    library.offer(v1(), '"v1"', T0)
    assert library.active is not None and library.active.version == "v1"
    assert not library._store.path.exists()  # not kept for a restart, and nothing half-written
