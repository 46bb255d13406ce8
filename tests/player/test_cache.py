"""The content-addressed cache on a real directory: verify, resume, refuse, evict, clean up."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from player.cache import Cache
from player.errors import CacheFull, IntegrityError, NotFound, ServerUnreachable
from player.manifest import AssetRef
from tests.player.fakes import ByteSource, sha


def blob(n: int, seed: int = 0) -> bytes:
    return bytes((i * 31 + seed) % 251 for i in range(n))


def ref(data: bytes, source: ByteSource) -> AssetRef:
    return AssetRef(sha256=sha(data), url=source.add(data), media_type="image/png", size=len(data))


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    c = Cache(tmp_path / "cache", quota_bytes=100_000)
    c.open()
    return c


def test_a_download_is_verified_and_renamed_into_place(cache: Cache) -> None:
    source, data = ByteSource(), blob(25_000)
    path = cache.fetch(ref(data, source), source, protected=set())
    assert path == cache.directory / sha(data)
    assert path.read_bytes() == data
    assert cache.has(sha(data)) and cache.used_bytes() == len(data)
    assert sorted(p.name for p in cache.directory.iterdir()) == [sha(data)]
    assert cache.fetch(ref(data, source), source, set()) == path
    assert len(source.requests) == 1  # already cached: no second request


def test_an_interrupted_download_resumes_with_a_range(cache: Cache) -> None:
    source, data = ByteSource(break_after=12_345), blob(30_000)
    r = ref(data, source)
    with pytest.raises(ServerUnreachable):
        cache.fetch(r, source, set())
    part = cache.directory / (sha(data) + ".part")
    assert part.stat().st_size == 12_345 and not cache.has(sha(data))
    # A restarted player finds the part on disk.
    again = Cache(cache.directory, cache.quota_bytes)
    assert again.open().parts == 1
    assert again.fetch(r, source, set()).read_bytes() == data
    assert source.requests[-1] == (r.url, 12_345)
    assert not part.exists()


def test_a_server_that_ignores_range_is_read_from_the_start(cache: Cache) -> None:
    source, data = ByteSource(break_after=5_000), blob(20_000)
    r = ref(data, source)
    with pytest.raises(ServerUnreachable):
        cache.fetch(r, source, set())
    source.ignore_range = True
    assert cache.fetch(r, source, set()).read_bytes() == data


def test_a_complete_part_is_verified_without_downloading(cache: Cache) -> None:
    source, data = ByteSource(), blob(4_000)
    (cache.directory / (sha(data) + ".part")).write_bytes(data)
    cache.open()
    assert cache.fetch(ref(data, source), source, set()).read_bytes() == data
    assert source.requests == []


def test_corrupted_bytes_are_refused_and_the_part_deleted(cache: Cache) -> None:
    source, data = ByteSource(corrupt=True), blob(9_000)
    r = ref(data, source)
    with pytest.raises(IntegrityError):
        cache.fetch(r, source, set())
    assert list(cache.directory.iterdir()) == []
    assert not cache.has(sha(data))
    source.corrupt = False
    assert cache.fetch(r, source, set()).read_bytes() == data


def test_a_corrupted_resumed_part_is_refused_at_the_end(cache: Cache) -> None:
    source, data = ByteSource(), blob(9_000)
    r = ref(data, source)
    (cache.directory / (sha(data) + ".part")).write_bytes(b"\0" * 3_000)  # garbage on disk
    cache.open()
    with pytest.raises(IntegrityError):
        cache.fetch(r, source, set())
    assert source.requests == [(r.url, 3_000)]
    assert list(cache.directory.iterdir()) == []


def test_more_bytes_than_announced_are_refused(cache: Cache) -> None:
    source, data = ByteSource(), blob(9_000)
    r = ref(data, source)
    short = AssetRef(r.sha256, r.url, r.media_type, size=8_000)
    with pytest.raises(IntegrityError, match="more than"):
        cache.fetch(short, source, set())
    assert list(cache.directory.iterdir()) == []


def test_a_missing_asset_is_not_found(cache: Cache) -> None:
    source = ByteSource()
    r = AssetRef("a" * 64, "/media/nothing", "image/png", 10)
    with pytest.raises(NotFound):
        cache.fetch(r, source, set())


def test_eviction_is_least_recently_used_and_spares_the_protected(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache", quota_bytes=30_000)
    cache.open()
    source = ByteSource()
    old, middle, recent = blob(10_000, 1), blob(10_000, 2), blob(10_000, 3)
    for i, data in enumerate((old, middle, recent)):
        cache.fetch(ref(data, source), source, set())
        cache.touch(sha(data), when=1_000_000.0 + i * 10_000)
    newcomer = blob(15_000, 4)
    # `old` is the least recently used, but it is in the active manifest.
    cache.fetch(ref(newcomer, source), source, protected={sha(old)})
    assert cache.assets() == {sha(old), sha(newcomer)}
    assert cache.used_bytes() == 25_000 <= cache.quota_bytes
    assert not (cache.directory / sha(middle)).exists()
    assert not (cache.directory / sha(recent)).exists()


def test_a_shortage_is_reported_not_fatal(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache", quota_bytes=20_000)
    cache.open()
    source = ByteSource()
    kept = blob(15_000, 1)
    cache.fetch(ref(kept, source), source, set())
    big = blob(12_000, 2)
    with pytest.raises(CacheFull) as caught:
        cache.fetch(ref(big, source), source, protected={sha(kept)})
    assert caught.value.shortage_bytes == 7_000
    assert cache.assets() == {sha(kept)}
    assert len(source.requests) == 1  # nothing downloaded that could not be kept


def test_a_full_disk_is_a_shortage_and_leaves_nothing_behind(cache: Cache) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("needs /dev/full")
    source, data = ByteSource(), blob(5_000)
    # Writes to /dev/full fail with ENOSPC, as on a full file system.
    (cache.directory / (sha(data) + ".part")).symlink_to("/dev/full")
    with pytest.raises(CacheFull) as caught:
        cache.fetch(ref(data, source), source, set())
    assert caught.value.shortage_bytes == len(data)
    assert list(cache.directory.iterdir()) == []


def test_start_up_cleans_leftovers_and_can_rehash(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    directory.mkdir()
    good, bad, partial = blob(1_000, 1), blob(1_000, 2), blob(1_000, 3)
    (directory / sha(good)).write_bytes(good)
    (directory / sha(bad)).write_bytes(bad[:-1] + b"!")  # bit rot
    (directory / (sha(partial) + ".part")).write_bytes(partial[:400])
    (directory / (sha(good) + ".part")).write_bytes(good[:10])  # finished since
    (directory / ".tmp-x1y2").write_bytes(b"half a write")
    (directory / "stray.txt").write_text("?")
    cache = Cache(directory, quota_bytes=10_000)
    report = cache.open()
    assert (report.assets, report.parts, report.removed_temp) == (2, 1, 2)
    assert not (directory / (sha(good) + ".part")).exists()
    report = cache.open(verify=True)
    assert report.removed_corrupt == 1
    assert cache.assets() == {sha(good)}
    assert cache.part_bytes(sha(partial)) == 400
    assert cache.used_bytes() == 1_400


def test_touch_is_rate_limited_and_writes_the_mtime(cache: Cache) -> None:
    source, data = ByteSource(), blob(1_000)
    path = cache.fetch(ref(data, source), source, set())
    before = path.stat().st_mtime
    cache.touch(sha(data), when=before + 7200)
    first = path.stat().st_mtime
    assert first == pytest.approx(before + 7200)
    cache.touch(sha(data), when=first + 60)  # within the hour: not rewritten
    assert path.stat().st_mtime == first
