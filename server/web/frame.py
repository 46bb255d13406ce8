"""What every console page shares: the `page` decorator (policy, sign-in redirect, HTML
errors), the chosen scope, form parsing and the messages of refused changes."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import Any, Final, TypeVar, cast

from flask import abort, current_app, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from server.accounts.models import Organisation
from server.auth.actors import Actor
from server.auth.policy import Audience, Policy, current_actor, declare, enforce
from server.config import Settings
from server.db import MAX_ID
from server.errors import FieldError, Forbidden, KnownError, NotFound, Unauthorized

F = TypeVar("F", bound=Callable[..., Any])
SCOPE_KEY: Final = "scope_org_id"
PageResult = str | BaseResponse | tuple[str, int]
# What a service raises to refuse a change: shown on the page, never a 500.
REFUSED: Final = KnownError
# The years a date filter accepts (a typo such as 20266 is refused, not searched).
FIRST_YEAR: Final = 2000
LAST_YEAR: Final = 2100


def settings() -> Settings:
    """The running app's settings."""
    found: Settings = current_app.config["SIGNAGE"]
    return found


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def page(policy: Policy) -> Callable[[F], F]:
    """A console page with `policy`: signed-out visitors of a GET go to the sign-in page,
    a refusal renders as a page (403, 404) instead of problem+json."""

    def wrap(view: F) -> F:
        @functools.wraps(view)
        def inner(*args: Any, **kwargs: Any) -> Any:
            if policy.audience is Audience.OPERATOR:
                try:
                    enforce(policy)
                except Unauthorized:
                    if request.method == "GET" and not is_htmx():
                        return redirect(url_for("accounts_pages.login", next=request.full_path))
                    raise
                except Forbidden as exc:
                    if request.method == "GET":
                        return render_template("web/error.html", error=exc), exc.status
                    raise
            if request.method != "GET":
                return view(*args, **kwargs)
            try:
                return view(*args, **kwargs)
            except (NotFound, Forbidden) as exc:
                return render_template("web/error.html", error=exc), exc.status

        declare(policy)(inner)
        return cast(F, inner)

    return wrap


def actor() -> Actor:
    return current_actor()


def scope(db: Session, who: Actor) -> Organisation | None:
    """The organisation whose subtree the pages show (None: everything the actor sees)."""
    if "console_scope" in g:
        chosen: Organisation | None = g.console_scope
        return chosen
    org_id = session.get(SCOPE_KEY)
    org = db.get(Organisation, org_id) if isinstance(org_id, int) and 0 < org_id <= MAX_ID else None
    g.console_scope = org if org is not None and who.sees(org.path) else None
    return cast(Organisation | None, g.console_scope)


def form_int(name: str, form: Mapping[str, str] | None = None) -> int | None:
    raw = (form if form is not None else request.form).get(name, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 0 < int(raw) <= MAX_ID:
        abort(400)
    return int(raw)


def form_ints(name: str) -> list[int]:
    values = []
    for raw in request.form.getlist(name):
        if raw.strip():
            if not raw.strip().isdigit() or not 0 < int(raw) <= MAX_ID:
                abort(400)
            values.append(int(raw))
    return values


def query_int(name: str) -> int | None:
    raw = request.args.get(name, "").strip()
    return int(raw) if raw.isdigit() and 0 < int(raw) <= MAX_ID else None


def query_day(name: str, errors: list[FieldError]) -> date | None:
    """The ISO date in query parameter `name` (None when empty); a bad one is added to
    `errors`, named and explained, for the page to show."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        day = None
    if day is None or len(raw) != 10 or not FIRST_YEAR <= day.year <= LAST_YEAR:
        errors.append(FieldError(name, _("a date such as 2026-01-31")))
        return None
    return day


def refusal(exc: KnownError) -> list[str]:
    """A refused change as lines for the page: the detail, then each field's reason."""
    lines = [exc.detail or exc.title]
    lines += [f"{e.field}: {e.reason}" for e in exc.errors]
    return lines


def tags_from(text: str) -> list[str]:
    return [t for t in text.replace(",", " ").split() if t]


def no_write() -> None:
    raise Forbidden(_("You may not change this."))


def options(orgs: Sequence[Organisation]) -> list[tuple[int, str]]:
    return [(o.id, o.name) for o in orgs]
