"""A campaign file sent over HTTP, laid out in a scratch folder as it was on the sender's
disk: the YAML, and each poster at the relative path the file names it by. Names are checked
before anything is written; the folder is removed when the request ends."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from server.errors import FieldError, ValidationFailed

MAX_POSTERS = 500
MAX_NAME = 300
_CHUNK = 1024 * 1024


def _safe(name: str, field: str) -> PurePosixPath:
    """A relative path with no way out of the folder: no root, no `..`, no backslashes."""
    path = PurePosixPath(name)
    if (
        not name
        or len(name) > MAX_NAME
        or "\\" in name
        or "\x00" in name
        or path.is_absolute()
        or any(part in ("", ".", "..") for part in name.split("/"))
    ):
        raise ValidationFailed(
            f"{field} {name[:80]!r} is not a relative path inside the campaign's folder",
            [FieldError(field, "a relative path such as posters/day-1.png, without '..'")],
        )
    return path


@contextmanager
def unpacked(
    yaml_name: str, yaml: BinaryIO, posters: Sequence[tuple[str, BinaryIO]]
) -> Iterator[Path]:
    """The path of the YAML file inside a scratch folder holding it and its posters."""
    if len(posters) > MAX_POSTERS:
        raise ValidationFailed(
            f"more than {MAX_POSTERS} posters", [FieldError("poster", f"at most {MAX_POSTERS}")]
        )
    name = PurePosixPath(yaml_name or "campaign.yaml").name or "campaign.yaml"
    _safe(name, "file")
    places = [(_safe(poster, "poster"), stream) for poster, stream in posters]
    folder = Path(tempfile.mkdtemp(prefix="signage-campaign-"))
    try:
        target = folder / name
        _write(target, yaml)
        for relative, stream in places:
            destination = folder.joinpath(*relative.parts)
            if destination == target:
                raise ValidationFailed(
                    "a poster has the campaign file's own name",
                    [FieldError("poster", "another name than the YAML file's")],
                )
            destination.parent.mkdir(parents=True, exist_ok=True)
            _write(destination, stream)
        yield target
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _write(path: Path, stream: BinaryIO) -> None:
    with path.open("wb") as out:
        shutil.copyfileobj(stream, out, _CHUNK)
