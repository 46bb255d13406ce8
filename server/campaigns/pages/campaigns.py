"""Console pages for campaigns: the list, a new campaign, a campaign's page (its playlists
and schedule in words, why it is a draft again, Submit) and its campaign file to download.
The editor is `editor`, the file upload `upload`; all are routes of one blueprint."""

from __future__ import annotations

from typing import Final

from flask import Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from server import clock
from server.accounts.models import Organisation, Role
from server.auth.policy import READ, WRITE
from server.campaigns import services, workflow
from server.campaigns.files.export import export_campaign
from server.campaigns.models import Campaign, CampaignStatus
from server.campaigns.pages import editor, upload
from server.campaigns.pages.forms import header_values
from server.campaigns.pages.shared import bp, campaign_context, operated, status_words
from server.db import get_session
from server.web.frame import REFUSED, PageResult, actor, form_int, page, refusal

__all__ = ["bp", "editor", "upload"]
PAGE_SIZE: Final = 100


@bp.route("/campaigns")
@page(READ)
def campaigns() -> PageResult:
    who, db = actor(), get_session()
    status = request.args.get("status", "")
    status = status if status in CampaignStatus.__members__.values() else ""
    q = request.args.get("q", "").strip()[:200]
    filters = services.CampaignFilter(status=status or None, name=q or None)
    stmt = services.campaigns_select(who, filters)
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.scalars(
        stmt.order_by(Campaign.start_date.desc(), Campaign.id.desc()).limit(PAGE_SIZE)
    ).all()
    orgs = dict(db.execute(select(Organisation.id, Organisation.name)).all()) if rows else {}
    return render_template(
        "campaigns/list.html",
        rows=rows,
        total=total,
        orgs=orgs,
        status=status,
        q=q,
        statuses=status_words(),
        writer=bool(operated(db, who)),
    )


@bp.route("/campaigns/new", methods=["GET", "POST"])
@page(WRITE)
def new() -> PageResult:
    who, db = actor(), get_session()
    refused: list[str] = []
    form = {"name": "", "start_date": "", "end_date": "", "timezone": "Asia/Shanghai"}
    if request.method == "POST":
        form = {k: request.form.get(k, "")[:300] for k in form}
        try:
            values = header_values(request.form)
            values["organisation_id"] = form_int("organisation_id") or 0
            values["targets"] = {"everyone": True}
            made = services.create_campaign(db, who, clock.now(), values)
            db.commit()
            return redirect(url_for("campaigns_pages.edit", campaign_id=made.id))
        except REFUSED as exc:
            db.rollback()
            refused = refusal(exc)
    return render_template(
        "campaigns/new.html", orgs=operated(db, who), form=form, refused=refused
    ), (422 if refused else 200)


@bp.route("/campaigns/<int:campaign_id>")
@page(READ)
def campaign(campaign_id: int) -> PageResult:
    found = services.get_campaign(get_session(), actor(), campaign_id)
    notice = {"submitted": _("Submitted for approval."), "applied": _("Applied as a draft.")}
    return render_template(
        "campaigns/campaign.html",
        notice=notice.get(request.args.get("done", ""), ""),
        refused=[],
        **campaign_context(found),
    )


@bp.post("/campaigns/<int:campaign_id>/submit")
@page(WRITE)
def submit(campaign_id: int) -> PageResult:
    who, db = actor(), get_session()
    found = services.get_campaign(db, who, campaign_id, Role.OPERATOR)
    try:
        workflow.submit(db, found, who, clock.now())
        db.commit()
    except REFUSED as exc:
        db.rollback()
        found = services.get_campaign(db, who, campaign_id)
        context = campaign_context(found)
        return render_template(
            "campaigns/campaign.html", notice="", refused=refusal(exc), **context
        ), exc.status
    return redirect(url_for("campaigns_pages.campaign", campaign_id=campaign_id, done="submitted"))


@bp.get("/campaigns/<int:campaign_id>/export.yaml")
@page(READ)
def export(campaign_id: int) -> PageResult:
    db = get_session()
    found = services.get_campaign(db, actor(), campaign_id)
    text = export_campaign(db, found)
    response = Response(text, mimetype="application/yaml")
    response.headers["Content-Disposition"] = f'attachment; filename="campaign-{found.id}.yaml"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
