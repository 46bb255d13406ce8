"""What `campaign check`, `plan` and `apply` say, as values: the same lines whether the
command runs against the local database or asks a server (`--server`), which runs these very
functions on the uploaded file (`server.campaigns.files.uploaded`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from server.auth.actors import Actor
from server.campaigns.files.check import Checked, check_campaign
from server.campaigns.files.notes import Note
from server.campaigns.files.plan import (
    Plan,
    existing_campaign,
    file_notes,
    make_plan,
    render_plan,
)
from server.campaigns.files.service import apply_checked
from server.config import Settings
from server.media.store import MediaStore

EXIT_OK = 0
EXIT_PROBLEMS = 2


@dataclass
class Said:
    """Lines for standard output and standard error, and the exit status."""

    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)
    exit: int = EXIT_OK
    problems: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    # The campaign `apply` wrote (for a caller that goes on to show it); not in the JSON.
    campaign_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "out": self.out,
            "err": self.err,
            "exit": self.exit,
            "problems": self.problems,
            "notes": self.notes,
        }

    def note(self, notes: list[Note], shown: str) -> None:
        """Tell `notes` on standard error; they never change the exit status."""
        self.err.extend(n.render(shown) for n in notes)
        self.notes.extend(n.as_json() for n in notes)


def _problems(checked: Checked, shown: str) -> Said | None:
    if not checked.problems:
        return None
    n = len(checked.problems)
    return Said(
        out=checked.render(shown),
        err=[f"{n} problem{'s' if n != 1 else ''}"],
        exit=EXIT_PROBLEMS,
        problems=[{"line": p.line, "field": p.field, "reason": p.reason} for p in checked.problems],
    )


def say_check(
    session: Session | None,
    path: Path,
    shown: str,
    org: str | None,
    start_on: date | None,
    now: datetime,
    actor: Actor | None = None,
) -> Said:
    """`campaign check`; with an actor (a remote caller), only its organisations exist."""
    checked = check_campaign(session, path, org_name=org, start_on=start_on, actor=actor)
    refused = _problems(checked, shown)
    if refused is not None:
        return refused
    spec = checked.spec
    assert spec is not None
    said = Said(
        out=[
            f"{shown}: ok: campaign {spec.name!r}, {len(spec.playlists)} playlists,"
            f" {len(spec.entries)} schedule entries"
        ]
    )
    if session is None:
        said.err.append(
            "note: no database yet, so organisation, group and screen names were not checked"
        )
    said.note(file_notes(session, spec, checked.bound, now), shown)
    return said


def plan_json(plan: Plan) -> dict[str, Any]:
    return {
        "campaign": plan.campaign,
        "organisation": plan.organisation,
        "new": plan.new,
        "status": plan.status,
        "changes": [{"op": c.op, "what": c.what, "detail": c.detail} for c in plan.changes],
        "notes": [n.as_json() for n in plan.notes],
        "conflicts": [
            {
                "start": c.start.isoformat(),
                "end": c.end.isoformat(),
                "screens": list(c.screens),
                "rules": list(c.rules),
                "detail": c.detail,
            }
            for c in plan.conflicts
        ],
    }


def say_plan(
    session: Session,
    path: Path,
    shown: str,
    org: str | None,
    start_on: date | None,
    now: datetime,
    *,
    as_json: bool = False,
    actor: Actor | None = None,
) -> Said:
    checked = check_campaign(session, path, org_name=org, start_on=start_on, actor=actor)
    refused = _problems(checked, shown)
    if refused is not None:
        return refused
    assert checked.bound is not None
    plan = make_plan(session, checked.bound, now, checked.spec)
    if as_json:
        said = Said(out=[json.dumps(plan_json(plan), ensure_ascii=False, indent=2)])
    else:
        said = Said(out=render_plan(plan))
    said.note(plan.notes, shown)
    return said


def say_apply(
    session: Session,
    store: MediaStore,
    settings: Settings,
    path: Path,
    shown: str,
    org: str | None,
    start_on: date | None,
    now: datetime,
    actor: Actor,
    *,
    publish: bool = False,
    remote: bool = False,
) -> Said:
    """`campaign apply` as `actor`; a remote actor sees only its own organisations."""
    checked = check_campaign(
        session, path, org_name=org, start_on=start_on, actor=actor if remote else None
    )
    refused = _problems(checked, shown)
    if refused is not None:
        return refused
    bound = checked.bound
    assert bound is not None
    said = Said(out=apply_checked(session, store, settings, bound, now, actor, publish=publish))
    applied = existing_campaign(session, bound.organisation.id, bound.state.name)
    said.campaign_id = applied.id if applied is not None else None
    return said
