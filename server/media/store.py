"""Content-addressed media storage: a blob's name is the SHA-256 of its bytes.

`MediaStore` is the contract every backend keeps; `LocalStore` keeps blobs on one disk,
sharded as `ab/cd/abcd…`. Uploads are staged first (`put_stream`), checked by the caller,
then `commit`ted or `discard`ed, so a half-uploaded or rejected file is never visible.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from server.media.errors import (
    FieldError,
    InvalidMediaRequest,
    MediaNotFound,
    MediaTooLarge,
    StorageFull,
)

CHUNK_SIZE = 1024 * 1024
# An upload that has not been committed within a day belongs to a dead process.
DEFAULT_STALE_AFTER = timedelta(hours=24)
# Unreferenced blobs younger than this are kept by gc: an upload commits its blob a moment
# before the caller records a reference to it, and gc must not win that race.
DEFAULT_GRACE = timedelta(hours=1)

_SHA_RE = re.compile(r"[0-9a-f]{64}")
_TEMP_PREFIX = "put-"
_TEMP_SUFFIX = ".part"


def check_sha(sha: str) -> str:
    """Return `sha` if it is 64 lowercase hex digits, else raise InvalidMediaRequest."""
    if not isinstance(sha, str) or _SHA_RE.fullmatch(sha) is None:
        raise InvalidMediaRequest(
            "not a content hash",
            [FieldError("sha256", "must be 64 lowercase hexadecimal digits")],
        )
    return sha


@dataclass(frozen=True)
class StagedBlob:
    """An upload written to a local temporary file, hashed, not yet visible in the store."""

    sha256: str
    size: int
    path: Path


@dataclass(frozen=True)
class GcReport:
    """What a garbage collection removed (or, on a dry run, would remove)."""

    dry_run: bool
    unreferenced: tuple[str, ...] = ()
    kept_recent: tuple[str, ...] = ()
    stale_temps: tuple[Path, ...] = ()
    bytes_freed: int = field(default=0)
    # Multipart uploads a dead process left in a bucket (key and upload id), aborted by gc.
    stale_uploads: tuple[str, ...] = ()


@runtime_checkable
class MediaStore(Protocol):
    """Storage of immutable blobs addressed by their SHA-256.

    A backend keeps blobs wherever it likes; staging is always a local file so that the
    caller can inspect and transform an upload before it is committed.
    """

    def put_stream(self, stream: BinaryIO, max_bytes: int) -> StagedBlob: ...

    def commit(self, staged: StagedBlob) -> str: ...

    def discard(self, staged: StagedBlob) -> None: ...

    def put_bytes(self, data: bytes) -> str: ...

    def put_file(self, path: Path) -> str: ...

    def exists(self, sha: str) -> bool: ...

    def size(self, sha: str) -> int: ...

    def open(self, sha: str) -> BinaryIO: ...

    def path(self, sha: str) -> Path | None: ...

    def delete(self, sha: str) -> bool: ...

    def iter_hashes(self) -> Iterator[str]: ...

    def gc(
        self,
        referenced: set[str],
        dry_run: bool = True,
        *,
        now: datetime | None = None,
    ) -> GcReport: ...


@contextmanager
def _room() -> Iterator[None]:
    """A full disk (or quota) while writing becomes StorageFull (507); whatever
    was being written has been removed by then."""
    try:
        yield
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise StorageFull(
                "the server's media storage is full: nothing was stored; "
                "try again once an administrator has freed space"
            ) from exc
        raise


def _fsync_dir(path: Path) -> None:
    """Make a rename or unlink in `path` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def blob_missing(sha: str) -> MediaNotFound:
    """The error every backend raises for a blob it does not hold."""
    return MediaNotFound(f"no media {sha}")


def new_temp(staging: Path) -> tuple[int, Path]:
    """A new, empty temp file in `staging` (created if need be): its descriptor and path."""
    staging.mkdir(parents=True, exist_ok=True)
    while True:
        path = staging / f"{_TEMP_PREFIX}{secrets.token_hex(12)}{_TEMP_SUFFIX}"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:  # pragma: no cover - 96 random bits
            continue
        return fd, path


def stage_stream(stream: BinaryIO, max_bytes: int, staging: Path) -> StagedBlob:
    """Copy `stream` to a temp file in `staging`, hashing as it goes.

    Reads at most `max_bytes + 1` bytes: one byte past the cap raises MediaTooLarge
    and removes the temp file, without reading the rest of the stream.
    """
    if max_bytes < 0:
        raise ValueError("max_bytes must be >= 0")
    fd, path = new_temp(staging)
    digest = hashlib.sha256()
    total = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while True:
                want = min(CHUNK_SIZE, max_bytes + 1 - total)
                chunk = stream.read(want)
                if not chunk:
                    break
                total += len(chunk)
                if total > max_bytes:
                    raise MediaTooLarge(
                        f"upload exceeds the limit of {max_bytes} bytes",
                        [FieldError("file", f"larger than {max_bytes} bytes")],
                    )
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return StagedBlob(sha256=digest.hexdigest(), size=total, path=path)


def stale_temps(staging: Path, cutoff: float) -> list[tuple[Path, int]]:
    """Temp files in `staging` last written at or before `cutoff` (a POSIX time), with sizes."""
    found: list[tuple[Path, int]] = []
    if staging.is_dir():
        for entry in sorted(os.scandir(staging), key=lambda e: e.name):
            stat = entry.stat(follow_symlinks=False)
            if entry.is_file(follow_symlinks=False) and stat.st_mtime <= cutoff:
                found.append((Path(entry.path), stat.st_size))
    return found


class LocalStore:
    """Blobs on the local filesystem under `root`, sharded by hash prefix."""

    def __init__(
        self,
        root: Path,
        *,
        stale_after: timedelta = DEFAULT_STALE_AFTER,
        grace: timedelta = DEFAULT_GRACE,
    ) -> None:
        self.root = Path(root)
        # Staging lives inside the root so a commit is a rename within one filesystem.
        self.staging = self.root / "tmp"
        self.stale_after = stale_after
        self.grace = grace

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def _blob_path(self, sha: str) -> Path:
        check_sha(sha)
        return self.root / sha[:2] / sha[2:4] / sha

    def _new_temp(self) -> tuple[int, Path]:
        return new_temp(self.staging)

    def put_stream(self, stream: BinaryIO, max_bytes: int) -> StagedBlob:
        """Copy `stream` to a staged temp file, hashing as it goes (see `stage_stream`)."""
        with _room():
            return stage_stream(stream, max_bytes, self.staging)

    def commit(self, staged: StagedBlob) -> str:
        """Move a staged upload into place (or drop it if the blob exists); return its hash."""
        with _room():
            return self._commit(staged)

    def _commit(self, staged: StagedBlob) -> str:
        target = self._blob_path(staged.sha256)
        if not staged.path.is_file() or staged.path.parent != self.staging:
            raise ValueError(f"{staged.path} is not a staged upload of {self!r}")
        try:
            # Already stored: keep the existing blob, freshening its mtime so that a gc
            # running now counts it as recent rather than unreferenced.
            os.utime(target)
        except FileNotFoundError:
            pass
        else:
            staged.path.unlink(missing_ok=True)
            return staged.sha256
        self._make_shard(target.parent)
        os.replace(staged.path, target)
        _fsync_dir(target.parent)
        return staged.sha256

    def _make_shard(self, shard: Path) -> None:
        for directory in (shard.parent, shard):
            if not directory.is_dir():
                directory.mkdir(exist_ok=True)
                _fsync_dir(directory.parent)

    def discard(self, staged: StagedBlob) -> None:
        """Remove a staged upload that will not be committed."""
        if staged.path.parent == self.staging:
            staged.path.unlink(missing_ok=True)

    def put_bytes(self, data: bytes) -> str:
        """Store `data`; return its hash."""
        with _room():
            fd, path = self._new_temp()
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
            except BaseException:
                path.unlink(missing_ok=True)
                raise
        sha = hashlib.sha256(data).hexdigest()
        return self.commit(StagedBlob(sha256=sha, size=len(data), path=path))

    def put_file(self, path: Path) -> str:
        """Store a copy of the local file at `path`; return its hash."""
        with Path(path).open("rb") as stream:
            staged = self.put_stream(stream, max_bytes=os.fstat(stream.fileno()).st_size)
        try:
            return self.commit(staged)
        except BaseException:
            self.discard(staged)
            raise

    def exists(self, sha: str) -> bool:
        return self._blob_path(sha).is_file()

    def size(self, sha: str) -> int:
        try:
            return self._blob_path(sha).stat().st_size
        except FileNotFoundError:
            raise blob_missing(sha) from None

    def open(self, sha: str) -> BinaryIO:
        try:
            return self._blob_path(sha).open("rb")
        except FileNotFoundError:
            raise blob_missing(sha) from None

    def path(self, sha: str) -> Path | None:
        """The blob's local path (for `send_file`), or None if it is not stored."""
        target = self._blob_path(sha)
        return target if target.is_file() else None

    def delete(self, sha: str) -> bool:
        """Remove a blob; True if it was there."""
        target = self._blob_path(sha)
        try:
            target.unlink()
        except FileNotFoundError:
            return False
        _fsync_dir(target.parent)
        return True

    def iter_hashes(self) -> Iterator[str]:
        """Every committed blob's hash, in no particular order."""
        if not self.root.is_dir():
            return
        for first in os.scandir(self.root):
            if not (first.is_dir() and _is_shard(first.name)):
                continue
            for second in os.scandir(first.path):
                if not (second.is_dir() and _is_shard(second.name)):
                    continue
                for entry in os.scandir(second.path):
                    name = entry.name
                    if (
                        _SHA_RE.fullmatch(name)
                        and name[:2] == first.name
                        and name[2:4] == second.name
                        and entry.is_file()
                    ):
                        yield name

    def gc(
        self,
        referenced: set[str],
        dry_run: bool = True,
        *,
        now: datetime | None = None,
    ) -> GcReport:
        """Remove blobs not in `referenced` and temp files of dead uploads.

        Unreferenced blobs younger than `grace` and temp files younger than `stale_after`
        are kept: they may belong to an upload in progress. A dry run only reports.
        """
        instant = (now or datetime.now(UTC)).timestamp()
        blob_cutoff = instant - self.grace.total_seconds()
        temp_cutoff = instant - self.stale_after.total_seconds()
        doomed: list[str] = []
        recent: list[str] = []
        freed = 0
        for sha in sorted(self.iter_hashes()):
            if sha in referenced:
                continue
            try:
                stat = self._blob_path(sha).stat()
            except FileNotFoundError:
                continue
            if stat.st_mtime > blob_cutoff:
                recent.append(sha)
                continue
            doomed.append(sha)
            freed += stat.st_size
        temps: list[Path] = []
        for temp, size in stale_temps(self.staging, temp_cutoff):
            temps.append(temp)
            freed += size
        if not dry_run:
            for sha in doomed:
                self.delete(sha)
            for temp in temps:
                temp.unlink(missing_ok=True)
        return GcReport(
            dry_run=dry_run,
            unreferenced=tuple(doomed),
            kept_recent=tuple(recent),
            stale_temps=tuple(temps),
            bytes_freed=freed,
        )


def _is_shard(name: str) -> bool:
    return len(name) == 2 and all(c in "0123456789abcdef" for c in name)
