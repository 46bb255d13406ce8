"""What the S3 store does beyond the contract, against a real S3-protocol server (moto's,
in its own process, over HTTP): the media URL, multipart uploads in bounded memory,
checksum refusal, touching on re-commit, dead uploads, presigned URLs, a missing server."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from server.media.errors import ChecksumMismatch, StoreMisconfigured, StoreUnavailable
from server.media.s3 import IMMUTABLE, MIN_PART_SIZE, S3Location, S3Store, parse_s3_url
from server.media.store import MediaStore
from tests.s3 import S3Server

REPO = Path(__file__).resolve().parents[3]
PART = MIN_PART_SIZE


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def s3(s3_server: S3Server, tmp_path: Path) -> S3Store:
    return s3_server.store(s3_server.new_bucket(), tmp_path / "staging", part_size=PART)


def pending_uploads(store: S3Store) -> list[str]:
    answer = store.client.list_multipart_uploads(Bucket=store.bucket)
    return [u["Key"] for u in answer.get("Uploads", [])]


def keys(store: S3Store) -> list[str]:
    answer = store.client.list_objects_v2(Bucket=store.bucket)
    return [o["Key"] for o in answer.get("Contents", [])]


def test_media_url_options() -> None:
    url = "s3://posters/signage/media?endpoint=http://minio:9000&region=cn-east-1&addressing=path"
    assert parse_s3_url(url) == S3Location(
        bucket="posters",
        prefix="signage/media/",
        endpoint="http://minio:9000",
        region="cn-east-1",
        addressing="path",
    )
    assert parse_s3_url("s3://posters").prefix == ""
    public = parse_s3_url("s3://posters?public_endpoint=https://media.example.org")
    assert public.public_endpoint == "https://media.example.org"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://posters/x", "must start with s3://"),
        ("s3://Posters", "not a bucket name"),
        ("s3://p", "not a bucket name"),
        ("s3://key:secret@posters", "credentials do not belong"),
        ("s3://posters/a/../b", "not a key prefix"),
        ("s3://posters?endpont=http://x", "unknown option 'endpont'"),
        ("s3://posters?endpoint=minio:9000", "endpoint must be an http"),
        ("s3://posters?addressing=sideways", "addressing must be one of"),
        ("s3://posters?region=", "needs exactly one value"),
    ],
)
def test_bad_media_urls_say_why(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_s3_url(url)


def test_keys_mirror_the_local_layout_under_the_prefix(s3: S3Store) -> None:
    digest = s3.put_bytes(b"poster")
    assert keys(s3) == [f"media/{digest[:2]}/{digest[2:4]}/{digest}"]
    head = s3.client.head_object(Bucket=s3.bucket, Key=keys(s3)[0])
    assert head["Metadata"]["sha256"] == digest and head["CacheControl"] == IMMUTABLE


def test_large_upload_goes_in_parts_with_bounded_memory(s3: S3Store) -> None:
    data = os.urandom(4 * PART + 12345)  # five parts
    staged = s3.put_stream(io.BytesIO(data), max_bytes=len(data))
    tracemalloc.start()
    try:
        s3.commit(staged)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2.5 * PART, f"peak {peak} bytes for a {len(data)}-byte upload"
    assert s3.size(staged.sha256) == len(data) and pending_uploads(s3) == []
    with s3.open(staged.sha256) as fh:  # read back across the part boundaries
        assert hashlib.sha256(fh.read()).hexdigest() == staged.sha256
        fh.seek(PART - 3)
        assert fh.read(6) == data[PART - 3 : PART + 3]
    assert (
        s3.read_range(staged.sha256, 2 * PART - 1, 2 * PART + 1)
        == data[2 * PART - 1 : 2 * PART + 1]
    )


@pytest.mark.parametrize("size", [1000, 2 * PART + 1], ids=["single-put", "multipart"])
def test_bytes_that_no_longer_match_their_hash_are_refused(s3: S3Store, size: int) -> None:
    data = os.urandom(size)
    staged = s3.put_stream(io.BytesIO(data), max_bytes=size)
    with staged.path.open("r+b") as fh:  # the staged file is damaged before the commit
        fh.seek(size - 1)
        fh.write(bytes([data[-1] ^ 0xFF]))
    with pytest.raises(ChecksumMismatch, match="no longer match"):
        s3.commit(staged)
    assert keys(s3) == [] and pending_uploads(s3) == []
    assert not s3.exists(staged.sha256)
    s3.discard(staged)


def test_recommitting_touches_the_object_for_gc(s3: S3Store) -> None:
    digest = s3.put_bytes(b"uploaded again")
    key = s3.key(digest)
    first = s3.client.head_object(Bucket=s3.bucket, Key=key)["Metadata"]["committed"]
    s3.put_bytes(b"uploaded again")
    head = s3.client.head_object(Bucket=s3.bucket, Key=key)
    # Rewritten (so its LastModified moved on), with the same bytes.
    assert head["Metadata"]["committed"] >= first and head["Metadata"]["sha256"] == digest
    assert head["ContentLength"] == len(b"uploaded again")
    assert s3.gc(set(), dry_run=False, now=datetime.now(UTC)).kept_recent == (digest,)


def test_a_wrong_sized_leftover_is_replaced(s3: S3Store) -> None:
    data = b"the real poster"
    s3.client.put_object(Bucket=s3.bucket, Key=s3.key(sha(data)), Body=b"truncated")
    assert s3.put_bytes(data) == sha(data)
    with s3.open(sha(data)) as fh:
        assert fh.read() == data


def test_iter_hashes_ignores_strangers(s3: S3Store) -> None:
    digest = s3.put_bytes(b"real")
    for stranger in ("media/notes.txt", f"media/00/00/{'f' * 64}", f"other/{digest}"):
        s3.client.put_object(Bucket=s3.bucket, Key=stranger, Body=b"x")
    assert list(s3.iter_hashes()) == [digest]


def test_gc_aborts_uploads_a_dead_process_left(s3: S3Store) -> None:
    key = s3.key("a" * 64)
    upload = s3.client.create_multipart_upload(Bucket=s3.bucket, Key=key)["UploadId"]
    # (That a young upload is kept cannot be shown here: moto lists every upload as
    # initiated in 2010. S3, MinIO and RGW give the real instant.)
    later = datetime.now(UTC) + s3.stale_after + timedelta(minutes=1)
    assert s3.gc(set(), now=later).stale_uploads == (f"{key} {upload}",)
    assert pending_uploads(s3) == [key]  # a dry run
    s3.gc(set(), dry_run=False, now=later)
    assert pending_uploads(s3) == []


def test_presigned_url_serves_the_bytes_with_immutable_headers(s3: S3Store) -> None:
    digest = s3.put_bytes(b"\x89PNG poster")
    url = s3.presigned_url(digest, expires_s=600, media_type="image/png")
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 200 and answer.content == b"\x89PNG poster"
    assert answer.headers["Content-Type"] == "image/png"
    assert answer.headers["Cache-Control"] == IMMUTABLE


def test_unreachable_store_is_unavailable(s3_server: S3Server, tmp_path: Path) -> None:
    closed = S3Server(tmp_path / "unused.log")  # a free port nobody listens on
    store = s3_server.store(closed.url("posters"), tmp_path / "staging")
    with pytest.raises(StoreUnavailable):
        store.exists("0" * 64)
    with pytest.raises(StoreUnavailable):
        store.put_bytes(b"poster")
    with pytest.raises(StoreUnavailable):
        store.check()


def test_missing_bucket_is_misconfigured(s3_server: S3Server, tmp_path: Path) -> None:
    store = s3_server.store(s3_server.url("no-such-bucket"), tmp_path / "staging")
    with pytest.raises(StoreMisconfigured, match="'no-such-bucket' does not exist"):
        store.check()


CHILD = """
import os, sys
from pathlib import Path
from server.media.s3 import S3Store, parse_s3_url

class Announcing(S3Store):
    def _call(self, what, call):
        result = super()._call(what, call)
        if what.startswith("part 2 "):
            print("sent part 2", flush=True)
            sys.stdin.readline()  # the test kills us here, mid-upload
        return result

store = Announcing(parse_s3_url(sys.argv[1]), Path(sys.argv[2]), part_size=int(sys.argv[3]))
store.put_bytes(os.urandom(4 * int(sys.argv[3])))
print("committed", flush=True)
"""


def test_process_killed_mid_upload_leaves_no_object(s3_server: S3Server, tmp_path: Path) -> None:
    url = s3_server.new_bucket()
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(tmp_path / "staging"), str(PART)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        assert child.stdout.readline() == b"sent part 2\n"
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)
        child.stdin.close()
        child.stdout.close()

    store: MediaStore = s3_server.store(url, tmp_path / "staging")
    assert isinstance(store, S3Store)
    assert keys(store) == []  # nothing visible: the upload was never completed
    assert len(pending_uploads(store)) == 1
    later = datetime.now(UTC) + store.stale_after + timedelta(minutes=1)
    report = store.gc(set(), dry_run=False, now=later)
    assert len(report.stale_uploads) == 1 and len(report.stale_temps) == 1
    assert pending_uploads(store) == [] and list((tmp_path / "staging").iterdir()) == []
