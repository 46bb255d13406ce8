"""Content-addressed media in an S3-compatible bucket (MinIO, Ceph RGW, Aliyun OSS, AWS).

Selected by `SIGNAGE_MEDIA_URL=s3://bucket/prefix?endpoint=…&region=…&addressing=path`.
Keys mirror the local store's layout, `<prefix>ab/cd/abcd…`, so a local store's folder
can be copied into a bucket as it is. Uploads are staged in a local folder exactly as
`LocalStore` stages them, then sent part by part (never the whole file in memory), each
part with its Content-MD5 for the server to check, while the SHA-256 of what is sent is
checked against the content address before the object becomes visible. Credentials come
from boto3's usual chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, ~/.aws, a role).

Only the standard S3 calls every one of those servers implements are used: no flexible
checksums (OSS and older RGW refuse them), no DeleteObjects (it needs one).
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, Final, TypeVar, cast
from urllib.parse import parse_qs, urlsplit

from server.media.errors import ChecksumMismatch, StoreMisconfigured, StoreUnavailable
from server.media.store import (
    DEFAULT_GRACE,
    DEFAULT_STALE_AFTER,
    GcReport,
    StagedBlob,
    blob_missing,
    check_sha,
    stage_stream,
    stale_temps,
)

log = logging.getLogger(__name__)

SCHEME: Final = "s3"
# S3's smallest part (except the last) is 5 MiB; 8 MiB parts keep memory bounded and the
# number of requests small for posters and short videos alike.
PART_SIZE: Final = 8 * 1024 * 1024
MIN_PART_SIZE: Final = 5 * 1024 * 1024
READ_BUFFER: Final = 256 * 1024
IMMUTABLE: Final = "public, max-age=31536000, immutable"
ADDRESSING: Final = ("auto", "path", "virtual")
_OPTIONS: Final = {"endpoint", "region", "addressing", "public_endpoint"}
_KEY_RE: Final = re.compile(r"([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})")
_BUCKET_RE: Final = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_MISSING: Final = frozenset({"404", "NoSuchKey", "NotFound"})
_BAD_DIGEST: Final = frozenset({"BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch"})

T = TypeVar("T")


@dataclass(frozen=True)
class S3Location:
    """Where the media live: bucket, key prefix and how to reach the server."""

    bucket: str
    prefix: str = ""
    endpoint: str | None = None
    region: str | None = None
    addressing: str = "auto"
    # Presigned URLs name this endpoint instead (players may reach the bucket by another
    # address than the server nodes do).
    public_endpoint: str | None = None


def is_s3_url(url: str) -> bool:
    return url.split(":", 1)[0].lower() == SCHEME


def parse_s3_url(url: str) -> S3Location:
    """`s3://bucket[/prefix][?endpoint=URL&region=R&addressing=path|virtual|auto
    &public_endpoint=URL]` as a location; ValueError saying what is wrong."""
    parts = urlsplit(url)
    if parts.scheme.lower() != SCHEME:
        raise ValueError(f"must start with {SCHEME}://")
    if parts.username or parts.password:
        raise ValueError(
            "credentials do not belong in the URL: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    bucket = parts.netloc.rpartition("@")[2]  # as written: hostname would lowercase it
    if not _BUCKET_RE.fullmatch(bucket) or ".." in bucket:
        raise ValueError(f"{bucket!r} is not a bucket name (3-63 of a-z, 0-9, '.', '-')")
    prefix = parts.path.strip("/")
    if prefix and any(seg in ("", ".", "..") for seg in prefix.split("/")):
        raise ValueError(f"{prefix!r} is not a key prefix")
    query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=False)
    unknown = sorted(set(query) - _OPTIONS)
    if unknown:
        raise ValueError(f"unknown option {unknown[0]!r} (known: {', '.join(sorted(_OPTIONS))})")
    options: dict[str, str] = {}
    for key, values in query.items():
        if len(values) != 1 or not values[0]:
            raise ValueError(f"option {key!r} needs exactly one value")
        options[key] = values[0]
    for key in ("endpoint", "public_endpoint"):
        if key in options:
            endpoint = urlsplit(options[key])
            if endpoint.scheme not in ("http", "https") or not endpoint.hostname:
                raise ValueError(f"{key} must be an http:// or https:// URL")
    addressing = options.get("addressing", "auto")
    if addressing not in ADDRESSING:
        raise ValueError(f"addressing must be one of {', '.join(ADDRESSING)}")
    return S3Location(
        bucket=bucket,
        prefix=prefix + "/" if prefix else "",
        endpoint=options.get("endpoint"),
        region=options.get("region"),
        addressing=addressing,
        public_endpoint=options.get("public_endpoint"),
    )


def make_client(location: S3Location, endpoint: str | None = None) -> Any:
    """A boto3 S3 client for `location` (thread-safe; make one per process)."""
    try:
        import boto3  # optional: the s3 extra
        from botocore.config import Config  # optional: the s3 extra
    except ImportError as exc:  # pragma: no cover - the s3 extra is part of dev
        raise StoreUnavailable(
            "media in S3 need boto3: pip install 'signage-scheduler[s3]'"
        ) from exc
    config = Config(
        region_name=location.region,
        signature_version="s3v4",
        s3={"addressing_style": location.addressing},
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=30,
        max_pool_connections=32,
        # Checksums only where the operation needs one: the flexible (CRC) checksums newer
        # botocore sends by default are refused by OSS and by older RGW and MinIO.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    session = boto3.session.Session()
    return session.client("s3", endpoint_url=endpoint or location.endpoint, config=config)


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    error = response.get("Error") or {}
    return str(error.get("Code") or response.get("ResponseMetadata", {}).get("HTTPStatusCode"))


class S3Store:
    """Blobs in one bucket under one prefix; staging in a local folder."""

    def __init__(
        self,
        location: S3Location,
        staging: Path,
        *,
        client: Any = None,
        part_size: int = PART_SIZE,
        stale_after: timedelta = DEFAULT_STALE_AFTER,
        grace: timedelta = DEFAULT_GRACE,
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes")
        self.location = location
        self.bucket = location.bucket
        self.prefix = location.prefix
        self.staging = Path(staging)
        self.part_size = part_size
        self.stale_after = stale_after
        self.grace = grace
        self.client = client if client is not None else make_client(location)
        self._presigner: Any = None

    def __repr__(self) -> str:
        return f"S3Store('s3://{self.bucket}/{self.prefix}')"

    # -- plumbing -------------------------------------------------------------------------

    def key(self, sha: str) -> str:
        check_sha(sha)
        return f"{self.prefix}{sha[:2]}/{sha[2:4]}/{sha}"

    def _call(self, what: str, call: Callable[[], T]) -> T:
        """Run one S3 call; connection trouble and server errors become StoreUnavailable
        (whose detail, shown to clients, names no address: the log has the specifics)."""
        from botocore.exceptions import BotoCoreError, ClientError  # optional: the s3 extra

        try:
            return call()
        except ClientError as exc:
            code = _code(exc)
            if code in _BAD_DIGEST:
                raise ChecksumMismatch(f"the store refused the bytes of {what}: {code}") from exc
            if code in _MISSING:
                raise
            log.warning("media store: %s failed: %s", what, exc)
            raise StoreUnavailable(f"the media store failed ({code}); retry") from exc
        except BotoCoreError as exc:
            log.warning("media store: %s failed: %s", what, exc)
            raise StoreUnavailable("the media store is unreachable; retry") from exc

    def _head(self, sha: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError  # optional: the s3 extra

        key = self.key(sha)
        try:
            head = self._call(
                f"HEAD {key}", lambda: self.client.head_object(Bucket=self.bucket, Key=key)
            )
        except ClientError:  # only "missing" comes through _call as a ClientError
            return None
        return cast(dict[str, Any], head)

    def check(self) -> None:
        """Reach the bucket: StoreMisconfigured if it is missing or forbidden,
        StoreUnavailable if the server cannot be reached."""
        from botocore.exceptions import BotoCoreError, ClientError  # optional: the s3 extra

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            code = _code(exc)
            reason = {"404": "does not exist", "403": "is not ours to use (403)"}.get(code, code)
            raise StoreMisconfigured(f"the bucket {self.bucket!r} {reason}") from exc
        except BotoCoreError as exc:
            log.warning("media store: bucket %s unreachable: %s", self.bucket, exc)
            raise StoreUnavailable(f"the media store is unreachable: {exc}") from exc

    # -- writing --------------------------------------------------------------------------

    def put_stream(self, stream: BinaryIO, max_bytes: int) -> StagedBlob:
        """Stage `stream` in the local staging folder, hashing as it goes."""
        return stage_stream(stream, max_bytes, self.staging)

    def commit(self, staged: StagedBlob) -> str:
        """Send a staged upload to the bucket (unless it is there already); return its hash.

        The object appears only once every byte has arrived and matched: a single PUT is
        atomic, and a multipart upload is visible only when completed.
        """
        if not staged.path.is_file() or staged.path.parent != self.staging:
            raise ValueError(f"{staged.path} is not a staged upload of {self!r}")
        if not self._freshen(staged.sha256, staged.size):
            self._upload(staged.path, staged.sha256)
        staged.path.unlink(missing_ok=True)
        return staged.sha256

    def _freshen(self, sha: str, size: int) -> bool:
        """True if the blob is stored already; its LastModified is then moved to now, so
        that a gc running now counts it as recent rather than unreferenced."""
        from botocore.exceptions import ClientError  # optional: the s3 extra

        head = self._head(sha)
        if head is None or int(head.get("ContentLength", -1)) != size:
            return False  # absent, or a wrong-sized leftover that the upload replaces
        key = self.key(sha)
        try:
            # A copy onto itself with new metadata is the S3 way to touch an object.
            self._call(
                f"touch {key}",
                lambda: self.client.copy_object(
                    Bucket=self.bucket,
                    Key=key,
                    CopySource={"Bucket": self.bucket, "Key": key},
                    MetadataDirective="REPLACE",
                    Metadata=self._metadata(sha),
                    CacheControl=IMMUTABLE,
                ),
            )
        except ClientError:
            return False  # gc removed it between the HEAD and the copy: upload it again
        return True

    def _metadata(self, sha: str) -> dict[str, str]:
        return {"sha256": sha, "committed": datetime.now(UTC).isoformat(timespec="seconds")}

    def _upload(self, path: Path, sha: str) -> None:
        key = self.key(sha)
        with path.open("rb") as source:
            if os.fstat(source.fileno()).st_size > self.part_size:
                self._multipart(key, sha, source)
                return
            data = source.read(self.part_size)
        if hashlib.sha256(data).hexdigest() != sha:
            raise ChecksumMismatch(f"the staged bytes of {sha} no longer match it")
        self._call(
            f"PUT {key}",
            lambda: self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentLength=len(data),
                ContentMD5=_md5(data),
                ContentType="application/octet-stream",
                CacheControl=IMMUTABLE,
                Metadata=self._metadata(sha),
            ),
        )

    def _multipart(self, key: str, sha: str, source: BinaryIO) -> None:
        """Send `source` in parts of `part_size`, one in memory at a time; complete the
        upload only if the SHA-256 of every byte sent is `sha`, else abort it."""
        created = self._call(
            f"start upload of {key}",
            lambda: self.client.create_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                ContentType="application/octet-stream",
                CacheControl=IMMUTABLE,
                Metadata=self._metadata(sha),
            ),
        )
        upload_id = created["UploadId"]
        digest = hashlib.sha256()
        parts: list[dict[str, Any]] = []
        try:
            for number, chunk in enumerate(iter(lambda: source.read(self.part_size), b""), 1):
                digest.update(chunk)
                sent = self._call(
                    f"part {number} of {key}",
                    lambda: self.client.upload_part(
                        Bucket=self.bucket,
                        Key=key,
                        UploadId=upload_id,
                        PartNumber=number,  # noqa: B023 - called at once, inside the loop
                        Body=chunk,  # noqa: B023
                        ContentLength=len(chunk),  # noqa: B023
                        ContentMD5=_md5(chunk),  # noqa: B023
                    ),
                )
                parts.append({"PartNumber": number, "ETag": sent["ETag"]})
            if digest.hexdigest() != sha:
                raise ChecksumMismatch(f"the staged bytes of {sha} no longer match it")
            self._call(
                f"complete upload of {key}",
                lambda: self.client.complete_multipart_upload(
                    Bucket=self.bucket,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                ),
            )
        except BaseException:
            self._abort(key, upload_id)
            raise

    def _abort(self, key: str, upload_id: str) -> None:
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except Exception:  # gc aborts what is left behind
            log.warning("could not abort the upload %s of %s", upload_id, key, exc_info=True)

    def discard(self, staged: StagedBlob) -> None:
        """Remove a staged upload that will not be committed."""
        if staged.path.parent == self.staging:
            staged.path.unlink(missing_ok=True)

    def put_bytes(self, data: bytes) -> str:
        """Store `data`; return its hash."""
        return self.commit(self.put_stream(io.BytesIO(data), max_bytes=len(data)))

    def put_file(self, path: Path) -> str:
        """Store a copy of the local file at `path`; return its hash."""
        with Path(path).open("rb") as stream:
            staged = self.put_stream(stream, max_bytes=Path(path).stat().st_size)
        return self.commit(staged)

    # -- reading --------------------------------------------------------------------------

    def exists(self, sha: str) -> bool:
        return self._head(sha) is not None

    def size(self, sha: str) -> int:
        head = self._head(sha)
        if head is None:
            raise blob_missing(sha)
        return int(head["ContentLength"])

    def open(self, sha: str) -> BinaryIO:
        """A seekable reader of the blob: sequential reads share one GET, and a seek starts
        a ranged GET from there (so Range requests fetch only what they serve)."""
        size = self.size(sha)
        raw = _ObjectReader(self, self.key(sha), size)
        return cast(BinaryIO, io.BufferedReader(raw, buffer_size=READ_BUFFER))

    def read_range(self, sha: str, start: int, stop: int) -> bytes:
        """Bytes [start, stop) of the blob, in one ranged GET."""
        if not 0 <= start < stop:
            raise ValueError("need 0 <= start < stop")
        key = self.key(sha)
        return self._get(key, start, stop - 1).read()

    def _get(self, key: str, first: int, last: int | None = None) -> Any:
        from botocore.exceptions import ClientError  # optional: the s3 extra

        span = f"bytes={first}-{'' if last is None else last}"
        try:
            answer = self._call(
                f"GET {key} {span}",
                lambda: self.client.get_object(Bucket=self.bucket, Key=key, Range=span),
            )
        except ClientError:
            raise blob_missing(key.rsplit("/", 1)[-1]) from None
        return answer["Body"]

    def path(self, sha: str) -> Path | None:
        """None: the bytes are not on a local disk."""
        check_sha(sha)
        return None

    def presigned_url(self, sha: str, *, expires_s: int, media_type: str) -> str:
        """A time-limited URL a client can GET the blob from directly, served with
        `media_type` and immutable cache headers."""
        key = self.key(sha)
        if self._presigner is None:
            public = self.location.public_endpoint
            self._presigner = make_client(self.location, public) if public else self.client
        url = self._presigner.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentType": media_type,
                "ResponseCacheControl": IMMUTABLE,
            },
            ExpiresIn=expires_s,
        )
        return str(url)

    # -- removing -------------------------------------------------------------------------

    def delete(self, sha: str) -> bool:
        """Remove a blob; True if it was there."""
        key = self.key(sha)
        if self._head(sha) is None:
            return False
        self._call(f"DELETE {key}", lambda: self.client.delete_object(Bucket=self.bucket, Key=key))
        return True

    def _objects(self) -> Iterator[dict[str, Any]]:
        paginator = self.client.get_paginator("list_objects_v2")
        pages = iter(paginator.paginate(Bucket=self.bucket, Prefix=self.prefix))
        while True:
            page = self._call("list objects", lambda: next(pages, None))
            if page is None:
                return
            yield from page.get("Contents", ())

    def _blobs(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for item in self._objects():
            match = _KEY_RE.fullmatch(item["Key"][len(self.prefix) :])
            if match and match[3][:2] == match[1] and match[3][2:4] == match[2]:
                yield match[3], item

    def iter_hashes(self) -> Iterator[str]:
        """Every committed blob's hash, in no particular order."""
        for sha, _ in self._blobs():
            yield sha

    def _uploads(self) -> Iterator[dict[str, Any]]:
        paginator = self.client.get_paginator("list_multipart_uploads")
        pages = iter(paginator.paginate(Bucket=self.bucket, Prefix=self.prefix))
        while True:
            page = self._call("list uploads", lambda: next(pages, None))
            if page is None:
                return
            yield from page.get("Uploads", ())

    def gc(
        self,
        referenced: set[str],
        dry_run: bool = True,
        *,
        now: datetime | None = None,
    ) -> GcReport:
        """Remove blobs not in `referenced`, local temps of dead uploads, and multipart
        uploads a dead process left in the bucket.

        Unreferenced blobs whose LastModified is within `grace` (a commit of bytes already
        stored moves it: see `commit`), and temps and uploads younger than `stale_after`,
        are kept. A dry run only reports.
        """
        instant = now or datetime.now(UTC)
        blob_cutoff = instant - self.grace
        temp_cutoff = instant - self.stale_after
        doomed: list[tuple[str, int]] = []
        recent: list[str] = []
        for sha, item in sorted(self._blobs()):
            if sha in referenced:
                continue
            if item["LastModified"] > blob_cutoff:
                recent.append(sha)
            else:
                doomed.append((sha, int(item.get("Size", 0))))
        temps = stale_temps(self.staging, temp_cutoff.timestamp())
        uploads = sorted(
            (u["Key"], u["UploadId"]) for u in self._uploads() if u["Initiated"] <= temp_cutoff
        )
        if not dry_run:
            for sha, _ in doomed:
                self.delete(sha)
            for temp, _ in temps:
                temp.unlink(missing_ok=True)
            for key, upload_id in uploads:
                self._abort(key, upload_id)
        return GcReport(
            dry_run=dry_run,
            unreferenced=tuple(sha for sha, _ in doomed),
            kept_recent=tuple(recent),
            stale_temps=tuple(temp for temp, _ in temps),
            bytes_freed=sum(size for _, size in doomed) + sum(size for _, size in temps),
            stale_uploads=tuple(f"{key} {upload_id}" for key, upload_id in uploads),
        )


def _md5(data: bytes) -> str:
    # MD5 here is S3's transfer check (Content-MD5), not a content identity.
    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode("ascii")


class _ObjectReader(io.RawIOBase):
    """One object read lazily over HTTP: a GET from the current position on first read."""

    def __init__(self, store: S3Store, key: str, length: int) -> None:
        super().__init__()
        self.store = store
        self.key = key
        self.length = length
        self.position = 0
        self._body: Any = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.length}[whence]
        target = base + offset
        if target < 0:
            raise ValueError("negative seek position")
        if target != self.position:
            self._drop()
            self.position = target
        return self.position

    def readinto(self, buffer: Any) -> int:
        from botocore.exceptions import BotoCoreError  # optional: the s3 extra

        if self.position >= self.length:
            return 0
        if self._body is None:
            self._body = self.store._get(self.key, self.position)
        view = memoryview(buffer).cast("B")
        try:
            data = self._body.read(len(view))
        except BotoCoreError as exc:
            self._drop()
            log.warning("media store: reading %s failed: %s", self.key, exc)
            raise StoreUnavailable("the media store is unreachable; retry") from exc
        view[: len(data)] = data
        self.position += len(data)
        return len(data)

    def _drop(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def close(self) -> None:
        self._drop()
        super().close()
