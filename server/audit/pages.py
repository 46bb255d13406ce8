"""Console page: the audit log — who changed what, when, and what changed.

The same events as `signage audit` (`audit_select`): only those of the organisations the
reader administers, so the page is for admins, like the command.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import Organisation, Role
from server.auth.actors import ROLE_RANK, Actor
from server.auth.audit import AuditFilter, audit_kinds, audit_page
from server.auth.models import AuditEvent
from server.auth.policy import ADMIN
from server.auth.scope import in_scope
from server.db import MAX_ID, get_session
from server.errors import FieldError, NotFound, ValidationFailed
from server.scheduling.localtime import day_start
from server.web.frame import REFUSED, PageResult, actor, page, query_day, refusal
from server.web.i18n import zone_name

bp = Blueprint("auth_pages", __name__, template_folder="templates")
PAGE_SIZE: Final = 50
MAX_OFFSET: Final = 10_000_000
# An object's console page, by its kind in the log ({id}: the object's id).
OBJECT_PAGES: Final = {
    "screen": "/screens/{id}",
    "campaign": "/campaigns/{id}",
    "asset": "/media",
    "user": "/people",
    "group": "/groups",
}


@dataclass(frozen=True)
class AuditArgs:
    who: str = ""
    action: str = ""
    object_type: str = ""
    organisation_id: int | None = None
    since: date | None = None
    until: date | None = None
    offset: int = 0

    def url(self, **changes: Any) -> str:
        """This page with `changes` (the pager, the links that filter)."""
        values = {**self.__dict__, **changes}
        query = {
            k: v.isoformat() if isinstance(v, date) else v
            for k, v in values.items()
            if v not in (None, "", 0)
        }
        return url_for("auth_pages.audit") + "?" + urlencode(query)


def field_labels() -> dict[str, str]:
    return {
        "who": _("Who (e-mail)"),
        "action": _("Action"),
        "object_type": _("Object kind"),
        "organisation_id": _("Organisation"),
        "since": _("From"),
        "until": _("Until (included)"),
        "offset": _("Page"),
    }


def _number(name: str, errors: list[FieldError], most: int) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) > most:
        errors.append(FieldError(name, _("not a valid choice")))
        return None
    return int(raw)


def _text(name: str, limit: int, errors: list[FieldError]) -> str:
    raw = request.args.get(name, "").strip()
    if len(raw) > limit:
        errors.append(FieldError(name, _("at most %(n)s characters", n=limit)))
        return ""
    return raw


def audit_args() -> AuditArgs:
    """The filters of this request; ValidationFailed names each field that is wrong."""
    errors: list[FieldError] = []
    org_id = _number("organisation_id", errors, MAX_ID)
    args = AuditArgs(
        who=_text("who", 320, errors).lower(),
        action=_text("action", 40, errors),
        object_type=_text("object_type", 40, errors),
        organisation_id=org_id or None,
        since=query_day("since", errors),
        until=query_day("until", errors),
        offset=_number("offset", errors, MAX_OFFSET) or 0,
    )
    if args.since and args.until and args.since > args.until:
        errors.append(FieldError("until", _("must not be before “From”")))
    if errors:
        raise ValidationFailed(_("Some filters are not right:"), errors)
    return args


def _organisation(db: Session, who: Actor, org_id: int) -> Organisation:
    """An organisation the reader sees; any other does not exist for it."""
    org = db.get(Organisation, org_id) if 0 < org_id <= MAX_ID else None
    if org is None or not who.sees(org.path):
        raise NotFound(f"no organisation {org_id}")
    return org


def audit_filter(db: Session, who: Actor, args: AuditArgs) -> AuditFilter:
    """The service's filter: days are read in the reader's zone, `until` included."""
    tz = ZoneInfo(zone_name())
    org = _organisation(db, who, args.organisation_id) if args.organisation_id else None
    return AuditFilter(
        organisation_path=org.path if org else None,
        object_type=args.object_type or None,
        action=args.action or None,
        actor=args.who or None,
        since=day_start(args.since, tz) if args.since else None,
        until=day_start(args.until + timedelta(days=1), tz) if args.until else None,
    )


def object_url(event: AuditEvent) -> str | None:
    """The console page of the event's object, where it has one."""
    pattern = OBJECT_PAGES.get(event.object_type)
    if pattern is None:
        return None
    if "{id}" in pattern and not (event.object_id.isdigit() and 0 < int(event.object_id)):
        return None
    return pattern.format(id=event.object_id)


def action_labels() -> dict[str, str]:
    """Names of the actions services record; an action not listed shows as recorded."""
    return {
        "create": _("created"),
        "update": _("changed"),
        "delete": _("deleted"),
        "revoke": _("revoked"),
        "submit": _("submitted"),
        "approve": _("approved"),
        "reject": _("rejected"),
        "publish": _("published"),
        "archive": _("archived"),
        "withdraw": _("withdrawn"),
        "back_to_draft": _("sent back to draft"),
        "add_screen": _("screen added"),
        "remove_screen": _("screen removed"),
        "add_role": _("role given"),
        "remove_role": _("role taken away"),
        "change_role": _("role changed"),
        "claim": _("paired"),
        "bind": _("device key bound"),
        "replace_device": _("device replaced"),
        "login_failed": _("failed sign-in"),
        "update_items": _("items changed"),
    }


def kind_labels() -> dict[str, str]:
    """Names of the kinds of objects in the log; a kind not listed shows as recorded."""
    return {
        "screen": _("screen"),
        "campaign": _("campaign"),
        "asset": _("asset"),
        "user": _("user"),
        "group": _("group"),
        "organisation": _("organisation"),
        "playlist": _("playlist"),
        "enrolment_token": _("enrolment token"),
        "device_token": _("device token"),
        "api_token": _("API token"),
        "command": _("command"),
        "publication": _("publication"),
    }


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class Change:
    field: str
    before: str | None  # None: not recorded (a creation has no before)
    after: str | None


def changes(summary: dict[str, Any] | None) -> list[Change]:
    """The summary as one row per field: before and after side by side."""
    summary = summary if isinstance(summary, dict) else {}
    before = summary.get("before") if isinstance(summary.get("before"), dict) else None
    after = summary.get("after") if isinstance(summary.get("after"), dict) else None
    extra = {k: v for k, v in summary.items() if k not in ("before", "after")}
    if after is None and extra:
        after = extra
    fields = sorted(set(before or {}) | set(after or {}))
    return [
        Change(
            f,
            _shown(before.get(f)) if before is not None else None,
            _shown(after.get(f)) if after is not None else None,
        )
        for f in fields
    ]


def _administered(db: Session, who: Actor) -> list[Organisation]:
    rows = db.scalars(select(Organisation).where(in_scope(who)).order_by(Organisation.path))
    out = []
    for org in rows:
        role = who.role_in(org.path)
        if role is not None and ROLE_RANK[role] >= ROLE_RANK[Role.ADMIN]:
            out.append(org)
    return out


def _form(args: AuditArgs | None) -> dict[str, str]:
    if args is not None:
        return {k: "" if v in (None, 0) else str(v) for k, v in args.__dict__.items()}
    return {k: request.args.get(k, "").strip()[:320] for k in field_labels()}


@bp.route("/audit")
@page(ADMIN)
def audit() -> PageResult:
    db, who = get_session(), actor()
    context: dict[str, Any] = {"rows": [], "total": 0, "refused": [], "args": AuditArgs()}
    status = 200
    try:
        args = audit_args()
        rows, total = audit_page(
            db, who, audit_filter(db, who, args), limit=PAGE_SIZE, offset=args.offset
        )
        context.update(args=args, rows=rows, total=total, form=_form(args))
    except REFUSED as exc:
        db.rollback()
        labels = field_labels()
        lines = [f"{labels.get(e.field, e.field)}: {e.reason}" for e in exc.errors]
        context.update(refused=refusal(exc)[:1] + lines, form=_form(None))
        status = exc.status if 400 <= exc.status < 500 else 422
    kinds = audit_kinds(db, who)
    args = context["args"]
    return render_template(
        "audit/audit.html",
        kinds=kinds,
        orgs=_administered(db, who),
        limit=PAGE_SIZE,
        offset=args.offset,
        page_url=lambda offset: args.url(offset=offset),
        object_url=object_url,
        changes=changes,
        action_names=action_labels(),
        kind_names=kind_labels(),
        **context,
    ), status
