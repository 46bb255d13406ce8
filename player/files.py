"""Atomic files: temp file in the same directory ▸ flush ▸ fsync ▸ rename ▸ fsync the directory."""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

TEMP_PREFIX = ".tmp-"


def fsync_dir(directory: Path) -> None:
    """Make a rename in `directory` durable."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_with(path: Path, write: Callable[[BinaryIO], object]) -> None:
    """Replace `path` with what `write` writes to the file it is given, so that a crash
    leaves either the old or the new file (and the bytes never sit whole in memory)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that a crash leaves either the old or the new file."""
    atomic_write_with(path, lambda f: f.write(data))


def atomic_write_json(path: Path, value: Any) -> None:
    """`atomic_write_bytes` of compact UTF-8 JSON."""
    atomic_write_bytes(path, json.dumps(value, separators=(",", ":")).encode("utf-8"))


def read_json(path: Path) -> Any | None:
    """The JSON in `path`, or None if it is missing or unreadable."""
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None


def remove_temp_files(directory: Path) -> int:
    """Delete leftovers of interrupted atomic writes in `directory`; return how many."""
    removed = 0
    if not directory.is_dir():
        return 0
    for entry in directory.iterdir():
        if entry.name.startswith(TEMP_PREFIX) and entry.is_file():
            entry.unlink(missing_ok=True)
            removed += 1
    return removed


LOCK_NAME = ".lock"


def lock_directory(directory: Path) -> int:
    """Hold `directory` for this process (an open descriptor, released when the process ends,
    however it ends); `BlockingIOError` if another process holds it."""
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise
    return fd
