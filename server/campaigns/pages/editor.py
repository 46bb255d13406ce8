"""The campaign editor, for small changes: name, dates and time zone; each playlist's ordered
items (dragged, or moved with buttons, added from the media library, timed, removed); the
schedule entries. Every change goes through the services the API uses, so the same edit is
refused the same way, and an edit of reviewed content sends the campaign back to draft."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from server import clock
from server.accounts.models import Organisation, Role
from server.auth.policy import READ, WRITE
from server.campaigns import services
from server.campaigns.pages.forms import (
    Row,
    apply_op,
    entry_form,
    entry_values,
    header_values,
    item_specs,
    posted_entry_form,
    rows_of,
)
from server.campaigns.pages.shared import (
    bp,
    campaign_context,
    library,
    names_below,
    playlists_of,
    schedulable,
)
from server.db import get_session
from server.errors import KnownError, NotFound
from server.playlists.services import replace_items
from server.web.frame import REFUSED, PageResult, actor, page, refusal


def _editor(campaign_id: int, refused: KnownError | None = None, **posted: Any) -> PageResult:
    """The editor page; with a refusal, its reason and what was typed, and its status."""
    who, db = actor(), get_session()
    campaign = services.get_campaign(db, who, campaign_id)
    context = campaign_context(campaign)
    org: Organisation = context["org"]
    header = posted.pop("header", None) or {
        "name": campaign.name,
        "start_date": campaign.start_date.isoformat(),
        "end_date": campaign.end_date.isoformat(),
        "timezone": campaign.timezone,
    }
    rows = {p.id: [Row.of(i) for i in p.items] for p in context["playlists"]}
    rows.update(posted.pop("rows", {}))
    forms = {e.id: entry_form(e) for e in campaign.entries}
    forms.update(posted.pop("forms", {}))
    media = library(db, who, org) if context["may_edit"] else []
    html = render_template(
        "campaigns/edit.html",
        header=header,
        rows=rows,
        forms=forms,
        new_entry=posted.pop("new_entry", None) or entry_form(None),
        opened=posted.pop("opened", None),
        assets={
            **{a.id: a for a in media},
            **{i.asset_id: i.asset for p in context["playlists"] for i in p.items},
        },
        library=media,
        schedulable=schedulable(db, campaign, org),
        names=names_below(db, org),
        days=list(enumerate(context["day_keys"])),
        refused=refusal(refused) if refused else [],
        notice=posted.pop("notice", ""),
        saved=request.args.get("saved", "")[:40],
        **context,
    )
    return html, (refused.status if refused else 200)


def _done(campaign_id: int, anchor: str) -> BaseResponse:
    """Back to the editor at what was saved, which says so there."""
    where = url_for("campaigns_pages.edit", campaign_id=campaign_id, saved=anchor.lstrip("#"))
    return redirect(where + anchor)


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET"])
@page(READ)
def edit(campaign_id: int) -> PageResult:
    return _editor(campaign_id, notice=_("Saved.") if request.args.get("saved") else "")


@bp.post("/campaigns/<int:campaign_id>/edit")
@page(WRITE)
def edit_header(campaign_id: int) -> PageResult:
    who, db = actor(), get_session()
    services.get_campaign(db, who, campaign_id, Role.OPERATOR)
    try:
        services.update_campaign(db, who, clock.now(), campaign_id, header_values(request.form))
        db.commit()
    except REFUSED as exc:
        db.rollback()
        typed = {k: request.form.get(k, "")[:300] for k in ("name", "start_date", "end_date")}
        typed["timezone"] = request.form.get("timezone", "")[:64]
        return _editor(campaign_id, exc, header=typed, opened="header")
    return _done(campaign_id, "#header")


@bp.post("/campaigns/<int:campaign_id>/playlists/<int:playlist_id>")
@page(WRITE)
def playlist(campaign_id: int, playlist_id: int) -> PageResult:
    """Save a playlist's items in the posted order, after the button pressed (if any)."""
    who, db = actor(), get_session()
    campaign = services.get_campaign(db, who, campaign_id, Role.OPERATOR)
    if playlist_id not in {p.id for p in playlists_of(db, campaign)}:
        raise NotFound(f"no playlist {playlist_id} in campaign {campaign_id}")
    rows: list[Row] = []
    try:
        rows = rows_of(request.form)
        rows = apply_op(rows, request.form)
        replace_items(db, who, clock.now(), playlist_id, item_specs(rows), campaign_id=campaign_id)
        db.commit()
    except REFUSED as exc:
        db.rollback()
        return _editor(campaign_id, exc, rows={playlist_id: rows}, opened=f"playlist-{playlist_id}")
    return _done(campaign_id, f"#playlist-{playlist_id}")


@bp.post("/campaigns/<int:campaign_id>/entries")
@page(WRITE)
def add_entry(campaign_id: int) -> PageResult:
    who, db = actor(), get_session()
    services.get_campaign(db, who, campaign_id, Role.OPERATOR)
    try:
        services.add_entry(db, who, clock.now(), campaign_id, entry_values(request.form))
        db.commit()
    except REFUSED as exc:
        db.rollback()
        return _editor(
            campaign_id, exc, new_entry=posted_entry_form(request.form), opened="entry-new"
        )
    return _done(campaign_id, "#entries")


@bp.post("/campaigns/<int:campaign_id>/entries/<int:entry_id>")
@page(WRITE)
def update_entry(campaign_id: int, entry_id: int) -> PageResult:
    who, db = actor(), get_session()
    campaign = services.get_campaign(db, who, campaign_id, Role.OPERATOR)
    services.get_entry(campaign, entry_id)
    try:
        values = entry_values(request.form)
        services.update_entry(db, who, clock.now(), campaign_id, entry_id, values)
        db.commit()
    except REFUSED as exc:
        db.rollback()
        db.expire_all()
        return _editor(
            campaign_id,
            exc,
            forms={entry_id: posted_entry_form(request.form)},
            opened=f"entry-{entry_id}",
        )
    return _done(campaign_id, f"#entry-{entry_id}")


@bp.post("/campaigns/<int:campaign_id>/entries/<int:entry_id>/delete")
@page(WRITE)
def delete_entry(campaign_id: int, entry_id: int) -> PageResult:
    who, db = actor(), get_session()
    try:
        services.delete_entry(db, who, clock.now(), campaign_id, entry_id)
        db.commit()
    except REFUSED as exc:
        db.rollback()
        return _editor(campaign_id, exc)
    return _done(campaign_id, "#entries")
