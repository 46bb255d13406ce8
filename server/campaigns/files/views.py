"""Campaign files over HTTP: check, plan and apply a YAML file sent as multipart, with the
posters it names as parts (`poster`, their filename the path the file uses). The answer is
what the `signage campaign` command would print, line for line (`said.Said`)."""

from __future__ import annotations

from datetime import date
from typing import BinaryIO, cast

from flask import Blueprint, current_app, request
from pydantic import BaseModel, Field
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from server import clock, storage
from server.api.registry import api
from server.auth.policy import READ, WRITE, current_actor
from server.campaigns.files.said import Said, say_apply, say_check, say_plan
from server.campaigns.files.uploaded import unpacked
from server.config import Settings
from server.db import get_session
from server.errors import FieldError, PayloadTooLarge, ValidationFailed
from server.media.errors import UnsupportedMedia

bp = Blueprint("campaign_files", __name__, url_prefix="/campaign-files")
TEXT_FIELDS = ("shown", "org", "start_on", "json", "publish")


class SaidOut(BaseModel):
    out: list[str] = Field(description="Lines the command prints on standard output")
    err: list[str] = Field(description="Lines the command prints on standard error")
    exit: int = Field(description="The command's exit status: 0, or 2 when the file has problems")
    problems: list[dict[str, object]] = Field(
        description="The file's problems: line, field and reason"
    )
    notes: list[dict[str, object]] = Field(
        default_factory=list,
        description="Notes, not problems (kind, line, field, message): never change the exit",
    )


class _Form:
    def __init__(self) -> None:
        if request.mimetype != "multipart/form-data":
            raise UnsupportedMedia(
                "send the campaign file as multipart/form-data, in the field 'file'",
                [FieldError("Content-Type", "must be multipart/form-data")],
            )
        try:
            files, form = request.files, request.form
        except RequestEntityTooLarge:
            raise PayloadTooLarge("the campaign file and its posters are too large") from None
        unknown = sorted({k or "" for k in (*form, *files)} - {*TEXT_FIELDS, "file", "poster"})
        errors = [FieldError(k or "(unnamed part)", "unknown field") for k in unknown]
        yaml = files.getlist("file")
        if len(yaml) != 1:
            errors.append(FieldError("file", "required, exactly one file part"))
        if errors:
            raise ValidationFailed("invalid campaign upload", errors)
        self.yaml: FileStorage = yaml[0]
        self.posters = [
            (p.filename or "", cast(BinaryIO, p.stream)) for p in files.getlist("poster")
        ]
        self.shown = form.get("shown") or self.yaml.filename or "campaign.yaml"
        self.org = form.get("org") or None
        self.start_on = _date(form.get("start_on"))
        self.json = form.get("json") == "true"
        self.publish = form.get("publish") == "true"


def _date(raw: str | None) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationFailed(
            f"start_on {raw[:40]!r} is not a date", [FieldError("start_on", "YYYY-MM-DD")]
        ) from None


def _answer(said: Said) -> dict[str, object]:
    return said.as_json()


@api.route(
    bp,
    "/check",
    "POST",
    policy=READ,
    summary="Check a campaign file (multipart `file`, posters as `poster` parts)",
    response=SaidOut,
    raw_body="multipart/form-data",
)
def check() -> dict[str, object]:
    form = _Form()
    with unpacked(form.yaml.filename or "", cast(BinaryIO, form.yaml.stream), form.posters) as p:
        said = say_check(
            get_session(), p, form.shown, form.org, form.start_on, clock.now(), current_actor()
        )
    return _answer(said)


@api.route(
    bp,
    "/plan",
    "POST",
    policy=READ,
    summary="What applying a campaign file would change, and the conflicts it would bring",
    response=SaidOut,
    raw_body="multipart/form-data",
)
def plan() -> dict[str, object]:
    form = _Form()
    with unpacked(form.yaml.filename or "", cast(BinaryIO, form.yaml.stream), form.posters) as p:
        said = say_plan(
            get_session(),
            p,
            form.shown,
            form.org,
            form.start_on,
            clock.now(),
            as_json=form.json,
            actor=current_actor(),
        )
    return _answer(said)


@api.route(
    bp,
    "/apply",
    "POST",
    policy=WRITE,
    summary="Apply a campaign file as a draft (or publish it: approvers)",
    response=SaidOut,
    raw_body="multipart/form-data",
)
def apply() -> dict[str, object]:
    form = _Form()
    db, settings = get_session(), _settings()
    with unpacked(form.yaml.filename or "", cast(BinaryIO, form.yaml.stream), form.posters) as p:
        said = say_apply(
            db,
            storage.get_store(),
            settings,
            p,
            form.shown,
            form.org,
            form.start_on,
            clock.now(),
            current_actor(),
            publish=form.publish,
            remote=True,
        )
    if said.exit == 0:
        db.commit()
    return _answer(said)


def _settings() -> Settings:
    settings: Settings = current_app.config["SIGNAGE"]
    return settings
