"""Content-addressed media store: `<sha256>` files, written via `<sha256>.part` and verified.

A download appends to its `.part` file (so an interrupted one resumes with a Range request),
is hashed as it arrives, fsynced, checked against the SHA-256 it is named by, then renamed
into place and the directory fsynced. A quota in bytes is kept by evicting the least recently
used assets that are not protected (those of the manifests in use); what does not fit is a
shortage to report, never a crash.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from player.errors import CacheFull, IntegrityError, ServerRefused, ServerUnreachable
from player.files import fsync_dir, remove_temp_files
from player.manifest import SHA256, AssetRef
from player.protocol import MediaSource

log = logging.getLogger(__name__)

PART_SUFFIX = ".part"
_HASH_CHUNK = 1024 * 1024
# Marking an asset used rewrites its mtime; once an hour is plenty for LRU and spares SD cards.
_TOUCH_EVERY_S = 3600.0


@dataclass(frozen=True)
class ScanReport:
    assets: int
    bytes: int
    parts: int
    removed_temp: int
    removed_corrupt: int


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_HASH_CHUNK):
            digest.update(block)
    return digest.hexdigest()


class Cache:
    """The asset store under one directory, with a byte quota."""

    def __init__(self, directory: Path, quota_bytes: int) -> None:
        self.directory = directory
        self.quota_bytes = quota_bytes
        self._lock = threading.RLock()
        self._assets: dict[str, tuple[int, float]] = {}  # sha → (size, last used)
        self._parts: dict[str, int] = {}  # sha → bytes downloaded so far

    def open(self, verify: bool = False) -> ScanReport:
        """Index the directory: drop temp leftovers and strangers; with `verify`, re-hash all."""
        self.directory.mkdir(parents=True, exist_ok=True)
        removed_temp = remove_temp_files(self.directory)
        removed_corrupt = 0
        assets: dict[str, tuple[int, float]] = {}
        parts: dict[str, int] = {}
        for entry in self.directory.iterdir():
            if not entry.is_file():
                continue
            name = entry.name
            st = entry.stat()
            if SHA256.match(name):
                if verify and file_sha256(entry) != name:
                    log.warning("cache: %s does not match its hash, removed", name)
                    entry.unlink()
                    removed_corrupt += 1
                    continue
                assets[name] = (st.st_size, st.st_mtime)
            elif name.endswith(PART_SUFFIX) and SHA256.match(name[: -len(PART_SUFFIX)]):
                parts[name[: -len(PART_SUFFIX)]] = st.st_size
            else:
                entry.unlink()
                removed_temp += 1
        for sha in [s for s in parts if s in assets]:
            self._part_path(sha).unlink(missing_ok=True)
            del parts[sha]
        with self._lock:
            self._assets, self._parts = assets, parts
        return ScanReport(
            assets=len(assets),
            bytes=sum(size for size, _ in assets.values()),
            parts=len(parts),
            removed_temp=removed_temp,
            removed_corrupt=removed_corrupt,
        )

    def path(self, sha: str) -> Path:
        return self.directory / sha

    def _part_path(self, sha: str) -> Path:
        return self.directory / (sha + PART_SUFFIX)

    def has(self, sha: str) -> bool:
        with self._lock:
            return sha in self._assets

    def assets(self) -> set[str]:
        with self._lock:
            return set(self._assets)

    def used_bytes(self) -> int:
        """Bytes on disk: complete assets and partial downloads."""
        with self._lock:
            return sum(size for size, _ in self._assets.values()) + sum(self._parts.values())

    def part_bytes(self, sha: str) -> int:
        with self._lock:
            return self._parts.get(sha, 0)

    def touch(self, sha: str, when: float | None = None) -> None:
        """Mark an asset as just used (for least-recently-used eviction)."""
        when = time.time() if when is None else when
        with self._lock:
            entry = self._assets.get(sha)
            if entry is None or when - entry[1] < _TOUCH_EVERY_S:
                return
            self._assets[sha] = (entry[0], when)
        try:
            os.utime(self.path(sha), (when, when))
        except OSError:
            self.discard(sha)

    def discard(self, sha: str) -> None:
        """Delete an asset (e.g. found missing or damaged on disk)."""
        with self._lock:
            self._assets.pop(sha, None)
        self.path(sha).unlink(missing_ok=True)

    def _drop_part(self, sha: str) -> None:
        with self._lock:
            self._parts.pop(sha, None)
        self._part_path(sha).unlink(missing_ok=True)

    def fits(self, need: int, protected: set[str]) -> bool:
        """Whether `need` more bytes would fit once every unprotected file were evicted."""
        with self._lock:
            kept = sum(size for sha, (size, _) in self._assets.items() if sha in protected)
            kept += sum(size for sha, size in self._parts.items() if sha in protected)
        return kept + need <= self.quota_bytes

    def make_room(self, need: int, protected: set[str]) -> int:
        """Evict unprotected assets, least recently used first, until `need` more bytes fit.

        Stale partial downloads go first. Return the bytes still missing (0 when it fits).
        """
        with self._lock:
            for sha in [s for s in self._parts if s not in protected]:
                if self.used_bytes() + need <= self.quota_bytes:
                    break
                self._drop_part(sha)
            candidates = sorted(
                (used, sha) for sha, (_, used) in self._assets.items() if sha not in protected
            )
            for _, sha in candidates:
                if self.used_bytes() + need <= self.quota_bytes:
                    break
                log.info("cache: evicting %s", sha)
                self.discard(sha)
            return max(0, self.used_bytes() + need - self.quota_bytes)

    def fetch(
        self,
        ref: AssetRef,
        source: MediaSource,
        protected: set[str],
        progress: Callable[[int], None] | None = None,
    ) -> Path:
        """Make `ref` present and verified, resuming a partial download; return its path.

        Raises `IntegrityError` (bytes do not hash to `ref.sha256`; the part is deleted),
        `CacheFull` (quota or disk), `ServerUnreachable` (transfer broke; the part is kept).
        """
        sha, final, part = ref.sha256, self.path(ref.sha256), self._part_path(ref.sha256)
        if self.has(sha):
            return final

        have = part.stat().st_size if part.exists() else 0
        if have > ref.size:
            self._drop_part(sha)
            have = 0
        shortage = self.make_room(ref.size - have, protected | {sha})
        if shortage:
            raise CacheFull(shortage, f"asset {sha[:12]} needs {shortage} bytes more than quota")
        digest = hashlib.sha256()
        if have:
            with open(part, "rb") as f:
                while block := f.read(_HASH_CHUNK):
                    digest.update(block)
        received = have
        if have < ref.size:
            received, digest = self._download(ref, source, have, digest, progress)
        if received < ref.size:
            raise ServerUnreachable(f"asset {sha[:12]}: transfer ended at {received}/{ref.size}")
        if digest.hexdigest() != sha:
            self._drop_part(sha)
            raise IntegrityError(f"asset {sha[:12]}: received bytes hash to {digest.hexdigest()}")
        os.replace(part, final)
        fsync_dir(self.directory)
        with self._lock:
            self._parts.pop(sha, None)
            self._assets[sha] = (ref.size, time.time())
        return final

    def _download(
        self,
        ref: AssetRef,
        source: MediaSource,
        have: int,
        digest: hashlib._Hash,
        progress: Callable[[int], None] | None,
    ) -> tuple[int, hashlib._Hash]:
        """Append the rest of `ref` to its part file; return the bytes held and their digest."""
        sha, part = ref.sha256, self._part_path(ref.sha256)
        try:
            with source.open_media(ref.url, have) as body, open(part, "r+b" if have else "wb") as f:
                if body.start != have:  # the server ignored Range: start over
                    have, digest = 0, hashlib.sha256()
                    f.truncate(0)
                f.seek(have)
                received = have
                for chunk in body.chunks:
                    received += len(chunk)
                    if received > ref.size:
                        raise IntegrityError(f"asset {sha[:12]}: more than {ref.size} bytes")
                    digest.update(chunk)
                    f.write(chunk)
                    with self._lock:
                        self._parts[sha] = received
                    if progress is not None:
                        progress(received)
                f.flush()
                os.fsync(f.fileno())
        except ServerRefused as exc:
            if exc.status == 416:  # our part does not fit what the server holds
                self._drop_part(sha)
            raise
        except IntegrityError:
            self._drop_part(sha)
            raise
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            self._drop_part(sha)
            raise CacheFull(ref.size, f"disk full storing asset {sha[:12]}", disk=True) from exc
        return received, digest
