"""An uploaded campaign file kept between the upload page's steps (check ▸ plan ▸ apply).

The parts are kept as sent, under a random token in the instance folder, for the person who
sent them only, and for an hour at most; each step lays them out afresh through
`server.campaigns.files.uploaded.unpacked`, which checks every name, so a step that fails
leaves nothing half-written. Applying removes them.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Final

from werkzeug.datastructures import FileStorage

from server.campaigns.files.uploaded import MAX_POSTERS, unpacked
from server.errors import FieldError, NotFound, ValidationFailed

FOLDER: Final = "campaign-uploads"
KEEP_S: Final = 3600
TOKEN: Final = re.compile(r"^[A-Za-z0-9_-]{32}$")
POSTER_REF: Final = re.compile(r"^\s*-?\s*poster:\s*['\"]?([^'\"#\s]+)", re.M)


@dataclass(frozen=True)
class Held:
    token: str
    folder: Path
    yaml_name: str
    posters: tuple[str, ...]  # the relative path each poster is laid out at
    organisation: str | None

    def text(self) -> str:
        return (self.folder / "file").read_bytes().decode("utf-8", errors="replace")

    @contextmanager
    def laid_out(self) -> Iterator[Path]:
        """The YAML file's path in a scratch folder holding it and its posters."""
        with ExitStack() as stack:
            yaml = stack.enter_context((self.folder / "file").open("rb"))
            posters: list[tuple[str, BinaryIO]] = [
                (name, stack.enter_context((self.folder / f"poster-{i}").open("rb")))
                for i, name in enumerate(self.posters)
            ]
            yield stack.enter_context(unpacked(self.yaml_name, yaml, posters))


def _root(instance: Path) -> Path:
    return instance / FOLDER


def poster_places(yaml_text: str, names: Sequence[str]) -> list[str]:
    """Where each poster goes: a browser sends only a file's own name, so a poster goes to
    the path the campaign file gives a poster of that name (else beside the file)."""
    wanted: dict[str, str] = {}
    for ref in POSTER_REF.findall(yaml_text):
        if not ref.startswith("sha256:"):
            wanted.setdefault(PurePosixPath(ref).name, ref)
    return [wanted.get(PurePosixPath(n).name, PurePosixPath(n).name or n) for n in names]


def hold(
    instance: Path,
    user_id: int,
    yaml: FileStorage,
    posters: Sequence[FileStorage],
    organisation: str | None,
) -> Held:
    """Keep the parts of an upload; refused when there is no file."""
    if not yaml or not yaml.filename:
        raise ValidationFailed("choose a campaign file", [FieldError("file", "required")])
    if len(posters) > MAX_POSTERS:
        raise ValidationFailed(
            f"more than {MAX_POSTERS} posters", [FieldError("poster", f"at most {MAX_POSTERS}")]
        )
    sweep(instance)
    token = secrets.token_urlsafe(24)
    folder = _root(instance) / token
    folder.mkdir(parents=True)
    try:
        yaml.save(folder / "file")
        for i, poster in enumerate(posters):
            poster.save(folder / f"poster-{i}")
        text = (folder / "file").read_bytes().decode("utf-8", errors="replace")
        meta = {
            "user": user_id,
            "yaml": PurePosixPath(yaml.filename).name,
            "posters": poster_places(text, [p.filename or "" for p in posters]),
            "organisation": organisation,
        }
        (folder / "meta.json").write_text(json.dumps(meta), "utf-8")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return held(instance, token, user_id)


def held(instance: Path, token: str, user_id: int) -> Held:
    """The upload kept under `token` for this user; NotFound once gone or someone else's."""
    folder = _root(instance) / token if TOKEN.match(token or "") else None
    meta_path = folder / "meta.json" if folder is not None else None
    if folder is None or meta_path is None or not meta_path.is_file():
        raise NotFound("that upload is gone: upload the file again")
    meta = json.loads(meta_path.read_text("utf-8"))
    if meta.get("user") != user_id or time.time() - meta_path.stat().st_mtime > KEEP_S:
        raise NotFound("that upload is gone: upload the file again")
    return Held(token, folder, meta["yaml"], tuple(meta["posters"]), meta.get("organisation"))


def discard(item: Held) -> None:
    shutil.rmtree(item.folder, ignore_errors=True)


def sweep(instance: Path) -> None:
    """Remove uploads older than an hour: nobody finished them."""
    root = _root(instance)
    if not root.is_dir():
        return
    for folder in root.iterdir():
        try:
            if time.time() - folder.stat().st_mtime > KEEP_S:
                shutil.rmtree(folder, ignore_errors=True)
        except FileNotFoundError:
            continue  # another worker swept it first
