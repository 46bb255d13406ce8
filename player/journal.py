"""Durable queue of proof-of-play events and status errors, in SQLite (WAL).

Rows leave the queue only when the server has acknowledged them (`delete`). The queue is
bounded per kind: beyond `max_rows` the oldest rows are dropped and counted, and the count
(`dropped`) is reported in the player's status. Used from several threads behind one lock.

A full disk must not stop the screen: a play that cannot be written is lost and counted
(in memory) in `dropped`; a status error that cannot be written is held in memory and sent
all the same, so the server hears that the disk is full.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

log = logging.getLogger(__name__)

Kind = Literal["play", "error"]
KINDS: tuple[Kind, ...] = ("play", "error")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS queue_kind_seq ON queue (kind, seq);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


def _cannot_write(exc: sqlite3.Error) -> bool:
    """SQLite could not write: the disk (or the database's quota) is full, or the write
    failed on the device."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return "disk is full" in str(exc)
    return code & 0xFF in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR)


@dataclass(frozen=True)
class Entry:
    seq: int
    body: Any


class Journal:
    """The queue in `path`; `max_rows` per kind (plays, errors)."""

    def __init__(self, path: Path, max_rows: int = 100_000, max_errors: int = 50) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._limits: dict[Kind, int] = {"play": max_rows, "error": max_errors}
        self._lock = threading.Lock()
        try:
            self._db = self._connect(path)
        except sqlite3.DatabaseError as exc:
            # A damaged file (a power cut on a worn SD card) must not keep the screen down:
            # keep it aside for inspection and start an empty queue.
            aside = path.with_name(f"{path.name}.damaged-{int(time.time())}")
            log.error("journal %s unreadable (%s): moved to %s", path, exc, aside.name)
            for suffix in ("", "-wal", "-shm"):
                extra = path.with_name(path.name + suffix)
                if extra.exists():
                    os.replace(extra, aside.with_name(aside.name + suffix))
            self._db = self._connect(path)
        self._lost = 0  # plays that could not be written (full disk)
        self._held: dict[str, int] = {}  # status errors that could not be written ▸ seq < 0
        self._held_seq = 0
        count = "SELECT COUNT(*) FROM queue WHERE kind = ?"
        self._counts: dict[Kind, int] = {
            kind: self._db.execute(count, (kind,)).fetchone()[0] for kind in KINDS
        }

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives a crash of the process; a power cut may lose the
            # last second of plays, which is cheaper than an fsync per event on an SD card.
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=5000")
            # A queue of small rows read from the front: 256 KiB of page cache is plenty
            # (SQLite's default is 2 MB, on a device that counts its megabytes).
            db.execute("PRAGMA cache_size=-256")
            db.executescript(_SCHEMA)
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def append(self, kind: Kind, body: Any) -> bool:
        """Queue one row; drop (and count) the oldest of its kind beyond the bound. False if
        the row could not be written (a full disk): a play is then lost and counted."""
        try:
            self._insert(kind, body)
        except sqlite3.OperationalError as exc:
            if not _cannot_write(exc):
                raise
            if kind == "play":
                with self._lock:
                    self._lost += 1
                    first = self._lost == 1
                if first:
                    log.warning("journal %s cannot be written (%s): plays are lost", self.path, exc)
            return False
        return True

    def _insert(self, kind: Kind, body: Any) -> None:
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        with self._lock, self._db:
            self._db.execute("BEGIN")
            self._db.execute("INSERT INTO queue (kind, body) VALUES (?, ?)", (kind, text))
            self._counts[kind] += 1
            excess = self._counts[kind] - self._limits[kind]
            if excess > 0:
                self._db.execute(
                    "DELETE FROM queue WHERE seq IN "
                    "(SELECT seq FROM queue WHERE kind = ? ORDER BY seq LIMIT ?)",
                    (kind, excess),
                )
                self._add_dropped(excess)
                self._counts[kind] -= excess

    def _add_dropped(self, n: int) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES ('dropped', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = value + excluded.value",
            (n,),
        )

    def append_error(self, message: str) -> bool:
        """Queue a status error unless the same message is already waiting; True if queued.
        One that cannot be written is held in memory (the newest `max_errors`)."""
        with self._lock:
            if message in self._held:
                return False
            exists = self._db.execute(
                "SELECT 1 FROM queue WHERE kind = 'error' AND body = ?",
                (json.dumps(message, ensure_ascii=False),),
            ).fetchone()
        if exists:
            return False
        if not self.append("error", message):
            with self._lock:
                self._held_seq -= 1
                self._held[message] = self._held_seq
                while len(self._held) > self._limits["error"]:
                    del self._held[next(iter(self._held))]
        return True

    def peek(self, kind: Kind, limit: int) -> list[Entry]:
        """The oldest `limit` rows of `kind`, still queued."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, body FROM queue WHERE kind = ? ORDER BY seq LIMIT ?", (kind, limit)
            ).fetchall()
            held = list(self._held.items()) if kind == "error" else []
        entries = [Entry(seq, json.loads(body)) for seq, body in rows]
        return (entries + [Entry(seq, message) for message, seq in held])[:limit]

    def delete(self, seqs: list[int], dropped: bool = False) -> None:
        """Remove acknowledged rows (or, with `dropped`, refused ones, which are counted)."""
        with self._lock:
            for message in [m for m, seq in self._held.items() if seq in seqs]:
                del self._held[message]
        seqs = [seq for seq in seqs if seq > 0]
        if not seqs:
            return
        try:
            self._delete(seqs, dropped)
        except sqlite3.OperationalError as exc:
            if not _cannot_write(exc):
                raise
            # The rows stay queued: sent again later, which the server takes once.
            log.warning("journal %s cannot be written (%s)", self.path, exc)

    def _delete(self, seqs: list[int], dropped: bool) -> None:
        with self._lock, self._db:
            self._db.execute("BEGIN")
            removed: dict[str, int] = {}
            for start in range(0, len(seqs), 500):
                batch = seqs[start : start + 500]
                marks = ",".join("?" * len(batch))
                # Only placeholders are formatted into these statements.
                query = f"SELECT kind, COUNT(*) FROM queue WHERE seq IN ({marks}) GROUP BY kind"  # noqa: S608
                for kind, n in self._db.execute(query, batch):
                    removed[kind] = removed.get(kind, 0) + n
                self._db.execute(f"DELETE FROM queue WHERE seq IN ({marks})", batch)  # noqa: S608
            for kind, n in removed.items():
                self._counts[kind] -= n  # type: ignore[index]
            if dropped and removed:
                self._add_dropped(sum(removed.values()))

    def count(self, kind: Kind) -> int:
        with self._lock:
            return self._counts[kind]

    def dropped(self) -> int:
        """Rows dropped since the journal was created (bound exceeded or refused by the
        server), and plays this process could not write (a full disk)."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'dropped'").fetchone()
            return (int(row[0]) if row else 0) + self._lost
