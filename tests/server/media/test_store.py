"""The content-addressed stores: the contract every backend keeps (`any_store`: the local
store and the S3 store on a real S3-protocol server), then what is the local store's own."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from server.media.errors import InvalidMediaRequest, MediaNotFound, MediaTooLarge
from server.media.store import CHUNK_SIZE, GcReport, LocalStore, MediaStore, check_sha
from tests.server.media.samples import files_under

REPO = Path(__file__).resolve().parents[3]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class EndlessStream:
    """A request body that never ends, served from a generator; reading far past the cap
    (cap + one chunk) fails the test, so the store must stop early."""

    def __init__(self, cap: int) -> None:
        self.limit = cap + CHUNK_SIZE
        self.served = 0
        self._chunks: Iterator[bytes] = iter(lambda: b"z" * 4096, None)
        self._buffer = b""

    def read(self, size: int = -1) -> bytes:
        assert size > 0, "the store must read in bounded chunks"
        while len(self._buffer) < size:
            self._buffer += next(self._chunks)
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        self.served += len(data)
        if self.served > self.limit:
            raise AssertionError(f"read {self.served} bytes, past the cap")
        return data


def staged_files(store: MediaStore) -> set[str]:
    staging: Path = store.staging  # type: ignore[attr-defined]
    return files_under(staging) if staging.is_dir() else set()


def test_every_store_keeps_the_protocol(any_store: MediaStore) -> None:
    assert isinstance(any_store, MediaStore)


def test_put_bytes_is_content_addressed(any_store: MediaStore) -> None:
    data = b"poster bytes"
    digest = any_store.put_bytes(data)
    assert digest == sha(data)
    assert any_store.exists(digest) and any_store.size(digest) == len(data)
    with any_store.open(digest) as fh:
        assert fh.read() == data
    assert list(any_store.iter_hashes()) == [digest]
    assert staged_files(any_store) == set()


def test_local_blobs_are_sharded(store: LocalStore) -> None:
    digest = store.put_bytes(b"poster bytes")
    blob = store.root / digest[:2] / digest[2:4] / digest
    assert store.path(digest) == blob and blob.read_bytes() == b"poster bytes"


def test_same_bytes_twice_are_stored_once(any_store: MediaStore) -> None:
    first = any_store.put_bytes(b"same poster")
    second = any_store.commit(any_store.put_stream(io.BytesIO(b"same poster"), max_bytes=100))
    assert first == second
    assert list(any_store.iter_hashes()) == [first]
    assert staged_files(any_store) == set()


def test_local_dedup_keeps_one_file(store: LocalStore) -> None:
    first = store.put_bytes(b"same poster")
    store.put_bytes(b"same poster")
    assert files_under(store.root) == {f"{first[:2]}/{first[2:4]}/{first}"}


def test_staged_upload_is_invisible_until_commit(any_store: MediaStore) -> None:
    data = os.urandom(3 * CHUNK_SIZE + 17)
    staged = any_store.put_stream(io.BytesIO(data), max_bytes=len(data))
    assert staged.sha256 == sha(data) and staged.size == len(data)
    assert staged.path.parent == any_store.staging  # type: ignore[attr-defined]
    assert not any_store.exists(staged.sha256) and list(any_store.iter_hashes()) == []

    assert any_store.commit(staged) == staged.sha256
    assert any_store.exists(staged.sha256) and not staged.path.exists()
    assert staged_files(any_store) == set()
    with any_store.open(staged.sha256) as fh:
        assert fh.read() == data


def test_range_reads(any_store: MediaStore) -> None:
    data = os.urandom(2 * CHUNK_SIZE + 99)
    digest = any_store.put_bytes(data)
    with any_store.open(digest) as fh:
        fh.seek(CHUNK_SIZE - 10)
        assert fh.read(20) == data[CHUNK_SIZE - 10 : CHUNK_SIZE + 10]
        fh.seek(-5, os.SEEK_END)
        assert fh.read() == data[-5:]
        fh.seek(3)
        assert fh.read(4) == data[3:7]
        assert fh.tell() == 7


def test_discard_leaves_nothing(any_store: MediaStore) -> None:
    staged = any_store.put_stream(io.BytesIO(b"rejected"), max_bytes=100)
    any_store.discard(staged)
    assert staged_files(any_store) == set() and list(any_store.iter_hashes()) == []
    with pytest.raises(ValueError, match="not a staged upload"):
        any_store.commit(staged)


def test_exactly_the_cap_is_accepted(any_store: MediaStore) -> None:
    staged = any_store.put_stream(io.BytesIO(b"x" * 1000), max_bytes=1000)
    assert staged.size == 1000


def test_size_cap_stops_reading_before_the_rest(any_store: MediaStore) -> None:
    cap = 2 * CHUNK_SIZE + 5
    stream = EndlessStream(cap)
    with pytest.raises(MediaTooLarge, match=f"limit of {cap} bytes"):
        any_store.put_stream(stream, max_bytes=cap)  # type: ignore[arg-type]
    assert stream.served == cap + 1
    assert staged_files(any_store) == set() and list(any_store.iter_hashes()) == []


def test_gc_keeps_referenced_and_recent_blobs(any_store: MediaStore) -> None:
    kept = any_store.put_bytes(b"on a playlist")
    dropped = any_store.put_bytes(b"nobody uses this")
    grace: timedelta = any_store.grace  # type: ignore[attr-defined]

    now = any_store.gc({kept}, dry_run=False, now=datetime.now(UTC))
    assert now.unreferenced == () and now.kept_recent == (dropped,)
    assert set(any_store.iter_hashes()) == {kept, dropped}

    later = datetime.now(UTC) + grace + timedelta(minutes=1)
    dry = any_store.gc({kept}, now=later)
    assert dry.dry_run and dry.unreferenced == (dropped,)
    assert dry.bytes_freed == len(b"nobody uses this")
    assert set(any_store.iter_hashes()) == {kept, dropped}

    real = any_store.gc({kept}, dry_run=False, now=later)
    assert real.unreferenced == (dropped,)
    assert list(any_store.iter_hashes()) == [kept] and not any_store.exists(dropped)


@pytest.mark.parametrize(
    "bad",
    ["../../etc/passwd", "A" * 64, "ab" * 31, "g" * 64, "/" + "a" * 63, "a" * 64 + "\n", ""],
)
def test_hash_strings_are_validated(any_store: MediaStore, bad: str) -> None:
    store = any_store
    for call in (store.exists, store.size, store.open, store.path, store.delete):
        with pytest.raises(InvalidMediaRequest):
            call(bad)
    with pytest.raises(InvalidMediaRequest):
        check_sha(bad)


def test_missing_blob(any_store: MediaStore) -> None:
    store = any_store
    missing = "0" * 64
    assert not store.exists(missing) and store.path(missing) is None
    assert store.delete(missing) is False
    with pytest.raises(MediaNotFound):
        store.size(missing)
    with pytest.raises(MediaNotFound):
        store.open(missing)


def test_delete(any_store: MediaStore) -> None:
    store = any_store
    digest = store.put_bytes(b"gone soon")
    assert store.delete(digest) is True
    assert not store.exists(digest) and list(store.iter_hashes()) == []


def test_iter_hashes_ignores_strangers(store: LocalStore) -> None:
    digest = store.put_bytes(b"real")
    (store.root / "notes.txt").write_text("not a blob")
    misplaced = store.root / "00" / "00" / ("f" * 64)
    misplaced.parent.mkdir(parents=True)
    misplaced.write_bytes(b"wrong shard")
    assert list(store.iter_hashes()) == [digest]


def _age(path: Path, when: datetime) -> None:
    os.utime(path, (when.timestamp(), when.timestamp()))


def test_gc_dry_run_reports_and_real_run_deletes(store: LocalStore) -> None:
    now = datetime(2030, 9, 1, 12, tzinfo=UTC)
    kept = store.put_bytes(b"on a playlist")
    dropped = store.put_bytes(b"nobody uses this")
    young = store.put_bytes(b"just uploaded, row not written yet")
    old_temp = store.put_stream(io.BytesIO(b"dead upload"), max_bytes=100).path
    new_temp = store.put_stream(io.BytesIO(b"live upload"), max_bytes=100).path
    for digest in (kept, dropped):
        _age(store.path(digest), now - timedelta(days=3))  # type: ignore[arg-type]
    _age(store.path(young), now - timedelta(minutes=5))  # type: ignore[arg-type]
    _age(old_temp, now - timedelta(hours=25))
    _age(new_temp, now - timedelta(minutes=1))
    before = files_under(store.root)

    report = store.gc({kept}, now=now)

    assert report == GcReport(
        dry_run=True,
        unreferenced=(dropped,),
        kept_recent=(young,),
        stale_temps=(old_temp,),
        bytes_freed=len(b"nobody uses this") + len(b"dead upload"),
    )
    assert files_under(store.root) == before

    real = store.gc({kept}, dry_run=False, now=now)
    assert real.unreferenced == (dropped,) and real.stale_temps == (old_temp,)
    assert set(store.iter_hashes()) == {kept, young}
    assert not old_temp.exists() and new_temp.exists()


def test_recommitting_an_old_blob_protects_it_from_gc(store: LocalStore) -> None:
    digest = store.put_bytes(b"uploaded again")
    _age(store.path(digest), datetime(2020, 1, 1, tzinfo=UTC))  # type: ignore[arg-type]
    store.put_bytes(b"uploaded again")
    report = store.gc(set(), dry_run=False, now=datetime.now(UTC))
    assert report.kept_recent == (digest,) and store.exists(digest)


CHILD = """
import sys
from pathlib import Path
from server.media.store import LocalStore

class Slow:
    def read(self, size):
        data = sys.stdin.buffer.read1(size)
        print("read", len(data), flush=True)
        return data

store = LocalStore(Path(sys.argv[1]))
staged = store.put_stream(Slow(), 10 ** 9)
store.commit(staged)
print("committed", flush=True)
"""


def test_upload_killed_mid_stream_commits_nothing(store: LocalStore) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(store.root)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        child.stdin.write(os.urandom(65536))
        child.stdin.flush()
        assert child.stdout.readline().startswith(b"read ")
        # The child is now blocked reading the rest of the body, inside put_stream.
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)
        child.stdin.close()
        child.stdout.close()

    assert list(store.iter_hashes()) == []
    leftovers = list((store.root / "tmp").iterdir())
    assert len(leftovers) == 1 and leftovers[0].name.endswith(".part")
    assert store.gc(set(), dry_run=False, now=datetime.now(UTC)).stale_temps == ()
    later = datetime.now(UTC) + store.stale_after + timedelta(seconds=1)
    assert store.gc(set(), dry_run=False, now=later).stale_temps == (leftovers[0],)
    assert files_under(store.root) == set()
