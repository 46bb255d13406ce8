"""Console pages for media: the library (grid, drag-and-drop upload, delete) and the slogan
editor with a preview the server draws."""

from __future__ import annotations

from typing import Any, Final

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from server import clock
from server.accounts.models import Organisation, Role, User
from server.assets import services, uploads
from server.assets.models import Asset
from server.auth.actors import ROLE_RANK, Actor
from server.auth.policy import READ, WRITE
from server.auth.scope import in_scope
from server.db import get_session
from server.media.profiles import Profile, parse_profile
from server.storage import get_store
from server.web.frame import REFUSED, PageResult, actor, form_int, is_htmx, page, refusal, settings

bp = Blueprint("assets_pages", __name__, template_folder="templates")
PAGE_SIZE: Final = 60
SLOGAN_MAX: Final = 500


def _limits() -> uploads.MediaLimits:
    return uploads.MediaLimits.from_settings(settings())


def _operated(who: Actor) -> list[Organisation]:
    rows = get_session().scalars(
        select(Organisation).where(in_scope(who)).order_by(Organisation.path)
    )
    out = []
    for org in rows:
        role = who.role_in(org.path)
        if role is not None and ROLE_RANK[role] >= ROLE_RANK[Role.OPERATOR]:
            out.append(org)
    return out


def _library(who: Actor) -> dict[str, Any]:
    db = get_session()
    q = request.args.get("q", "").strip()[:200]
    stmt = services.assets_select(who, services.AssetFilter(name=q or None))
    assets = db.scalars(stmt.order_by(Asset.id.desc()).limit(PAGE_SIZE)).all()
    authors = {a.created_by_id for a in assets if a.created_by_id}
    emails = (
        dict(db.execute(select(User.id, User.email).where(User.id.in_(sorted(authors)))).all())
        if authors
        else {}
    )
    orgs = dict(db.execute(select(Organisation.id, Organisation.name)).all()) if assets else {}
    return {
        "assets": assets,
        "used": services.where_used(db, [a.id for a in assets]),
        "emails": emails,
        "org_names": orgs,
        "q": q,
        "may_change": lambda a: (
            (r := who.role_in(_org_path(a, db))) is not None
            and ROLE_RANK[r] >= ROLE_RANK[Role.OPERATOR]
        ),
    }


def _org_path(asset: Asset, db: Any) -> str:
    org = db.get(Organisation, asset.organisation_id)
    return org.path if org is not None else ""


@bp.route("/media", methods=["GET", "POST"])
@page(READ)
def library() -> PageResult:
    who = actor()
    refused: list[str] = []
    notice = ""
    if request.method == "POST":
        db = get_session()
        try:
            services.delete_asset(db, who, clock.now(), form_int("asset_id") or 0)
            db.commit()
            notice = _("Deleted.")
        except REFUSED as exc:
            db.rollback()
            refused = refusal(exc)
    context = _library(who)
    if is_htmx() and request.method == "GET":
        return render_template("assets/_grid.html", **context)
    return render_template(
        "assets/library.html",
        orgs=_operated(who),
        refused=refused,
        notice=notice,
        **context,
    ), (409 if refused else 200)


def _profiles() -> list[Profile]:
    return list(_limits().profiles)


def _profile(raw: str | None) -> Profile:
    profiles = _profiles()
    if raw:
        try:
            wanted = parse_profile(raw)
        except REFUSED:
            return profiles[0]
        if wanted in profiles:
            return wanted
    return profiles[0]


@bp.route("/media/slogan", methods=["GET", "POST"])
@page(WRITE)
def slogan() -> PageResult:
    who = actor()
    refused: list[str] = []
    form = {"text": "", "title": "", "profile": str(_profiles()[0])}
    if request.method == "POST":
        db = get_session()
        form = {k: request.form.get(k, "")[:SLOGAN_MAX] for k in ("text", "title", "profile")}
        try:
            org = uploads.target_organisation(db, who, form_int("organisation_id"))
            uploads.create_slogan(
                db,
                get_store(),
                org,
                text=form["text"],
                style={},
                title=form["title"] or None,
                now=clock.now(),
                limits=_limits(),
                author=uploads.Author.of(who),
            )
            db.commit()
            return redirect(url_for("assets_pages.library"))
        except REFUSED as exc:
            db.rollback()
            refused = refusal(exc)
    return render_template(
        "assets/slogan.html",
        orgs=_operated(who),
        profiles=[str(p) for p in _profiles()],
        form=form,
        refused=refused,
    ), (422 if refused else 200)


@bp.post("/media/slogan/preview")
@page(WRITE)
def slogan_preview() -> PageResult:
    """The preview fragment: the picture's URL, or the reason it cannot be drawn."""
    text = request.form.get("text", "")[:SLOGAN_MAX]
    profile = _profile(request.form.get("profile"))
    refused: list[str] = []
    if text.strip():
        try:
            uploads.slogan_preview_png(text, {}, profile)
        except REFUSED as exc:
            refused = refusal(exc)
    return render_template(
        "assets/_slogan_preview.html",
        text=text,
        profile=str(profile),
        refused=refused,
    )


@bp.get("/media/slogan/preview.png")
@page(WRITE)
def slogan_preview_png() -> BaseResponse:
    text = request.args.get("text", "")[:SLOGAN_MAX]
    try:
        data = uploads.slogan_preview_png(text, {}, _profile(request.args.get("profile")))
    except REFUSED as exc:
        return Response(exc.detail, status=422, mimetype="text/plain")
    response = Response(data, mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response
