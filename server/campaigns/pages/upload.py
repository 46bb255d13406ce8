"""Upload a campaign file: check it (its problems beside its own lines), see the plan (what
would change against what is live, the conflicts, the notes), then apply it as a draft.

The steps run the very functions the `signage campaign` command and the campaign-file API run
(`server.campaigns.files.said`), on the file kept between steps by `held`."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any, Final

from flask import redirect, render_template, request, url_for

from server import clock, storage
from server.accounts.models import Organisation
from server.auth.policy import WRITE
from server.campaigns.files.said import Said, say_apply, say_check, say_plan
from server.campaigns.pages import held as keep
from server.campaigns.pages.shared import bp, operated, settings
from server.db import get_session
from server.errors import KnownError
from server.web.frame import REFUSED, PageResult, actor, form_int, page, refusal

SHOWN_LINES: Final = 5000


def _organisation(orgs: list[Organisation]) -> str | None:
    """The organisation chosen for a file that names none (by name, as the command takes it)."""
    chosen = form_int("organisation_id")
    return next((o.name for o in orgs if o.id == chosen), None)


def _lines(text: str, said: Said) -> list[dict[str, Any]]:
    """The file's lines, each with the problems and notes said about it."""
    problems: dict[int, list[str]] = defaultdict(list)
    for p in said.problems:
        if isinstance(p.get("line"), int):
            problems[p["line"]].append(f"{p.get('field')}: {p.get('reason')}")
    notes = {n["line"] for n in said.notes if isinstance(n.get("line"), int)}
    return [
        {"n": n, "text": line, "problems": problems.get(n, []), "note": n in notes}
        for n, line in enumerate(text.splitlines()[:SHOWN_LINES], start=1)
    ]


def _page(status: int = 200, **context: Any) -> PageResult:
    orgs = operated(get_session(), actor())
    context.setdefault("refused", [])
    return render_template("campaigns/upload.html", orgs=orgs, **context), status


@bp.get("/campaigns/upload")
@page(WRITE)
def upload() -> PageResult:
    return _page()


@bp.post("/campaigns/upload")
@page(WRITE)
def upload_check() -> PageResult:
    """Steps 1 and 2: keep the file, check it; when it is sound, plan it."""
    who, db = actor(), get_session()
    item = None
    try:
        item = keep.hold(
            settings().instance_path,
            who.user_id or 0,
            request.files.get("file"),  # type: ignore[arg-type]
            [p for p in request.files.getlist("poster") if p.filename],
            _organisation(operated(db, who)),
        )
        checked, planned = _check_and_plan(item)
    except REFUSED as exc:
        if item is not None:
            keep.discard(item)
        return _page(exc.status, refused=refusal(exc))
    context: dict[str, Any] = {
        "name": item.yaml_name,
        "lines": _lines(item.text(), checked),
        "checked": checked,
    }
    if planned is None or planned.exit != 0:
        keep.discard(item)
        return _page(422, step="check", **context)
    return _page(step="plan", token=item.token, plan=json.loads(planned.out[0]), **context)


def _check_and_plan(item: keep.Held) -> tuple[Said, Said | None]:
    """What `campaign check` says of the file, and `campaign plan --json` when it is sound."""
    who, db, now = actor(), get_session(), clock.now()
    with item.laid_out() as path:
        checked = say_check(db, path, item.yaml_name, item.organisation, None, now, who)
        if checked.exit != 0:
            return checked, None
        planned = say_plan(
            db, path, item.yaml_name, item.organisation, None, now, as_json=True, actor=who
        )
    return checked, planned


@bp.post("/campaigns/upload/apply")
@page(WRITE)
def upload_apply() -> PageResult:
    """Step 3: apply the kept file as a draft and go to the campaign's page."""
    who, db = actor(), get_session()
    instance = settings().instance_path
    try:
        item = keep.held(instance, request.form.get("token", ""), who.user_id or 0)
        with item.laid_out() as path:
            said = say_apply(
                db, storage.get_store(), settings(), path, item.yaml_name,
                item.organisation, None, clock.now(), who, remote=True,
            )  # fmt: skip
        if said.exit != 0 or said.campaign_id is None:
            db.rollback()
            context: dict[str, Any] = {"name": item.yaml_name, "lines": _lines(item.text(), said)}
            return _page(422, step="check", checked=said, **context)
        db.commit()
    except KnownError as exc:
        db.rollback()
        return _page(exc.status, refused=refusal(exc))
    keep.discard(item)
    return redirect(
        url_for("campaigns_pages.campaign", campaign_id=said.campaign_id, done="applied")
    )
