"""Console page: the approval desk.

Waiting campaigns with what changed since their last published version, what they would
show and the conflicts they would bring; approved ones to publish (the effective instant
said before confirming) or archive; and the campaigns lately sent back to draft, with why.
Every step calls the workflow service the REST API calls, so a page cannot allow what the
API refuses (nobody approves their own submission, whatever the form says).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from server import clock
from server.accounts.models import Role
from server.auth.actors import ROLE_RANK, Actor, actor_for_user
from server.auth.policy import READ
from server.campaigns import desk as desk_service
from server.campaigns import services as crud
from server.campaigns import workflow
from server.campaigns.pages.refusals import Refused, explain, page_input
from server.db import get_session
from server.web.frame import REFUSED, PageResult, actor, form_int, page, query_int, scope, settings
from server.web.i18n import signed_in_user

bp = Blueprint("desk_pages", __name__, template_folder="../templates")
ACTIONS: Final = ("approve", "send_back", "publish", "archive")
DONE: Final = {
    "approve": "approved",
    "send_back": "sent_back",
    "publish": "published",
    "archive": "archived",
}


def in_zone(value: datetime | None, zone: str) -> str:
    """ "2026-01-05 14:05:30" in `zone` (the page names the zone beside it)."""
    return value.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _is_approver(who: Actor) -> bool:
    best = who.max_role()
    return best is not None and ROLE_RANK[best] >= ROLE_RANK[Role.APPROVER]


@bp.app_context_processor
def waiting_in_nav() -> dict[str, Any]:
    """The number of campaigns waiting for this user's approval, beside "Approval desk"."""
    user = signed_in_user()
    if user is None:
        return {"desk_waiting": 0}
    who = actor_for_user(user)
    if not _is_approver(who):
        return {"desk_waiting": 0}
    return {"desk_waiting": desk_service.waiting_count(get_session(), who)}


def _context(db: Session, who: Actor, **extra: Any) -> dict[str, Any]:
    now = clock.now()
    board = desk_service.approval_desk(db, who)
    chosen = scope(db, who)
    confirm = query_int("confirm") if request.method == "GET" else extra.pop("confirm", None)
    reviews = {
        item.campaign.id: desk_service.review(db, item.campaign, now) for item in board.waiting
    }
    return {
        "desk": board,
        "reviews": reviews,
        "returned": desk_service.returned(db, who, chosen.path if chosen else None),
        "mine": desk_service.submitted_by(db, who),
        "effective": workflow.effective_instant(settings(), now),
        "confirm": confirm,
        "now": now,
        "in_zone": in_zone,
        "may_approve": _is_approver(who),
        "refused": Refused(),
        "notice": "",
        "comment_for": None,
        "comment": "",
        **extra,
    }


def _notice(done: str) -> str:
    return {
        "approved": _("Approved. It can now be published."),
        "sent_back": _("Sent back to draft with your comment."),
        "published": _("Published."),
        "archived": _("Archived: it leaves screens at the next effective instant."),
    }.get(done, "")


@bp.get("/desk")
@page(READ)
def desk() -> PageResult:
    db, who = get_session(), actor()
    notice = _notice(request.args.get("done", ""))
    published_id = query_int("campaign")
    if request.args.get("done") == "published" and published_id is not None:
        campaign = crud.get_campaign(db, who, published_id)
        if campaign.effective_at is not None:
            local = campaign.effective_at.astimezone(ZoneInfo(campaign.timezone))
            notice = _(
                "Published: takes effect at %(time)s on %(day)s (%(zone)s).",
                time=local.strftime("%H:%M:%S"),
                day=local.strftime("%Y-%m-%d"),
                zone=campaign.timezone,
            )
    return render_template("desk/desk.html", **_context(db, who, notice=notice))


def _act(db: Session, who: Actor, action: str, campaign_id: int) -> None:
    campaign = crud.get_campaign(db, who, campaign_id)
    now = clock.now()
    if action == "approve":
        workflow.approve(db, campaign, who, now)
    elif action == "send_back":
        workflow.send_back(db, campaign, who, now, request.form.get("comment", ""))
    elif action == "publish":
        workflow.publish(db, campaign, who, now, settings())
    else:
        workflow.archive(db, campaign, who, now, settings())


@bp.post("/desk")
@page(READ)
def act() -> PageResult:
    """One workflow step on one campaign; a refusal shows the desk again with the reason."""
    db, who = get_session(), actor()
    action = request.form.get("action", "")
    campaign_id = form_int("campaign_id")
    try:
        if action not in ACTIONS or campaign_id is None:
            raise page_input(_("Choose a campaign and a step."), "action", action)
        _act(db, who, action, campaign_id)
        db.commit()
    except REFUSED as exc:
        db.rollback()
        context = _context(
            db,
            who,
            refused=explain(exc),
            comment_for=campaign_id if action == "send_back" else None,
            comment=request.form.get("comment", "")[:2000],
            confirm=campaign_id if action == "publish" else None,
        )
        return render_template("desk/desk.html", **context), exc.status
    return redirect(
        url_for("desk_pages.desk", done=DONE[action], campaign=campaign_id, _anchor="result")
    )
