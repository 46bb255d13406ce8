"""Console pages for people: sign in and out, one's own settings and API tokens, the scope
switch, and (for admins) the organisation tree and its users."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from server import clock
from server.accounts import organisations, tokens, users
from server.accounts.models import ApiToken, Organisation, Role, User
from server.auth.policy import ADMIN, PUBLIC, READ, check_login, sign_in, sign_out
from server.auth.scope import in_scope
from server.db import get_session
from server.web.frame import REFUSED, SCOPE_KEY, PageResult, actor, form_int, page, refusal
from server.web.i18n import LOCALES, SESSION_LOCALE, normalise_locale

bp = Blueprint("accounts_pages", __name__, template_folder="templates")


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@bp.route("/login", methods=["GET", "POST"])
@page(PUBLIC)
def login() -> PageResult:
    wanted = normalise_locale(request.args.get("lang"))
    if wanted:
        session[SESSION_LOCALE] = wanted
    refused: list[str] = []
    email = ""
    if request.method == "POST":
        email = request.form.get("email", "").strip()[:320]
        try:
            user = check_login(email, request.form.get("password", ""))
        except REFUSED as exc:  # 401, or 429 after too many attempts (its reason shown)
            refused = [_("Wrong email or password.")] if exc.status == 401 else refusal(exc)
        else:
            chosen = session.get(SESSION_LOCALE)
            sign_in(user)
            if chosen and not user.locale:
                session[SESSION_LOCALE] = chosen
            return redirect(_safe_next(request.form.get("next")))
    status = 401 if refused else 200
    body = render_template(
        "accounts/login.html",
        refused=refused,
        email=email,
        next=_safe_next(request.values.get("next")),
        locales=LOCALES,
    )
    return body, status


@bp.post("/logout")
@page(READ)
def logout() -> BaseResponse:
    sign_out()
    return redirect(url_for("accounts_pages.login"))


@bp.post("/scope")
@page(READ)
def choose_scope() -> BaseResponse:
    org_id = form_int("organisation_id")
    db, who = get_session(), actor()
    org = db.get(Organisation, org_id) if org_id else None
    if org is not None and who.sees(org.path):
        session[SCOPE_KEY] = org.id
    else:
        session.pop(SCOPE_KEY, None)
    return redirect(_safe_next(request.referrer and urlsplit(request.referrer).path))


@bp.route("/me", methods=["GET", "POST"])
@page(READ)
def me() -> PageResult:
    db, who = get_session(), actor()
    refused: list[str] = []
    created: str | None = None
    notice = ""
    now = clock.now()
    if request.method == "POST":
        what = request.form.get("action", "")
        try:
            if what == "preferences":
                users.set_preferences(
                    db,
                    who,
                    now,
                    locale=request.form.get("locale") or None,
                    timezone=request.form.get("timezone", "").strip() or None,
                )
                notice = _("Settings saved.")
            elif what == "create-token":
                _row, created = tokens.issue_token(
                    db, who, now, name=request.form.get("name", "").strip()[:200]
                )
            elif what == "revoke-token":
                tokens.revoke_token(db, who, now, form_int("token_id") or 0)
                notice = _("Token revoked.")
            db.commit()
        except REFUSED as exc:
            db.rollback()
            refused = refusal(exc)
    user = db.get(User, who.user_id)
    rows = db.scalars(
        select(ApiToken).where(ApiToken.user_id == who.user_id).order_by(ApiToken.id.desc())
    ).all()
    return render_template(
        "accounts/me.html",
        me=user,
        tokens=rows,
        created=created,
        refused=refused,
        notice=notice,
        locales=LOCALES,
        now=now,
    ), (422 if refused else 200)


@bp.route("/people", methods=["GET", "POST"])
@page(ADMIN)
def people() -> PageResult:
    db, who = get_session(), actor()
    now = clock.now()
    refused: list[str] = []
    notice = ""
    if request.method == "POST":
        what = request.form.get("action", "")
        try:
            if what == "create-organisation":
                org = organisations.add_child(
                    db,
                    who,
                    now,
                    parent_id=form_int("parent_id") or 0,
                    name=request.form.get("name", "")[:200],
                )
                notice = _("Organisation %(name)s created.", name=org.name)
            elif what == "create-user":
                role = request.form.get("role", "viewer")
                user = users.create_user(
                    db,
                    who,
                    now,
                    email=request.form.get("email", "")[:320],
                    password=request.form.get("password", "")[:1000],
                    organisation_id=form_int("organisation_id") or 0,
                    role=Role(role) if role in {r.value for r in Role} else Role.VIEWER,
                    name=request.form.get("name", "")[:200],
                )
                notice = _("User %(email)s created.", email=user.email)
            elif what in ("deactivate", "activate"):
                users.update_user(
                    db, who, now, form_int("user_id") or 0, {"active": what == "activate"}
                )
                notice = _("Saved.")
            db.commit()
        except REFUSED as exc:
            db.rollback()
            refused = refusal(exc)
    orgs = db.scalars(select(Organisation).where(in_scope(who)).order_by(Organisation.path)).all()
    people_rows = db.scalars(
        users.users_select(who, users.UserFilter()).order_by(User.email).limit(500)
    ).all()
    admin_orgs = [o for o in orgs if who.role_in(o.path) is Role.ADMIN]
    depth = {o.id: o.path.count("/") - 2 for o in orgs}
    return render_template(
        "accounts/people.html",
        orgs=orgs,
        depth=depth,
        admin_orgs=admin_orgs,
        people=people_rows,
        visible=lambda u: users.visible_memberships(who, u),
        roles=[r.value for r in Role],
        refused=refused,
        notice=notice,
        me_id=who.user_id,
    ), (422 if refused else 200)
