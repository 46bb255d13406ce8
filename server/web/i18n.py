"""Languages and time zones for the console: the user's setting, else the browser's.

Catalogues live in `translations/<locale>/LC_MESSAGES/messages.po` with their compiled
`.mo` beside them (committed; `scripts/translations` rebuilds both, and a test fails when a
`.mo` is stale or a string has no translation).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Final
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, request, session
from flask_babel import Babel, format_datetime, format_decimal, format_timedelta, get_timezone

from server import clock
from server.accounts.models import User
from server.auth import sessions as login_sessions
from server.auth.policy import SESSION_ID
from server.db import get_session
from server.scheduling.localtime import check_zone

TRANSLATIONS: Final = Path(__file__).parent / "translations"
LOCALES: Final = ("en", "zh_CN")
HTML_LANG: Final = {"en": "en", "zh_CN": "zh-CN"}
LOCALE_NAMES: Final = {"en": "English", "zh_CN": "简体中文"}
TZ_COOKIE: Final = "tz"
SESSION_LOCALE: Final = "locale"


def locales() -> tuple[str, ...]:
    supported: tuple[str, ...] = current_app.config.get("CONSOLE_LOCALES", LOCALES)
    return supported


def signed_in_user() -> User | None:
    """The session's user (loaded once per request), for preferences and the frame."""
    if "console_user" not in g:
        db = get_session()
        row = login_sessions.active_session(db, session.get(SESSION_ID), clock.now())
        user = db.get(User, row.user_id) if row is not None else None
        g.console_user = user if user is not None and user.active else None
    found: User | None = g.console_user
    return found


def normalise_locale(value: str | None) -> str | None:
    """ "zh-CN", "zh_cn", "zh" ▸ "zh_CN"; "en-GB" ▸ "en"; None when not supported."""
    if not value:
        return None
    wanted = value.replace("-", "_").strip()
    for locale in locales():
        if wanted.lower() == locale.lower():
            return locale
    base = wanted.split("_")[0].lower()
    return next((loc for loc in locales() if loc.split("_")[0].lower() == base), None)


def select_locale() -> str:
    user = signed_in_user()
    for choice in (user.locale if user else None, session.get(SESSION_LOCALE)):
        locale = normalise_locale(choice)
        if locale:
            return locale
    for value, _quality in request.accept_languages:
        locale = normalise_locale(value)
        if locale:
            return locale
    return "en"


def valid_zone(name: str | None) -> str | None:
    return name if name and len(name) <= 64 and check_zone(name) is None else None


def select_timezone() -> str:
    user = signed_in_user()
    return (
        valid_zone(user.timezone if user else None)
        or valid_zone(unquote(request.cookies.get(TZ_COOKIE, "")))
        or "UTC"
    )


def zone_name() -> str:
    return str(get_timezone())


def when(value: datetime | None) -> str:
    """An instant in the viewer's zone: "2026-01-05 17:00:03" (the zone is shown beside it)."""
    if value is None:
        return ""
    return format_datetime(value, "yyyy-MM-dd HH:mm:ss")


def ago(value: datetime | None, now: datetime) -> str:
    """ "3 minutes ago", "3分钟前"."""
    if value is None:
        return ""
    return format_timedelta(value - now, add_direction=True, threshold=1.0)


def local_day(value: datetime) -> str:
    return value.astimezone(ZoneInfo(zone_name())).strftime("%Y-%m-%d")


def duration(seconds: float) -> str:
    return format_timedelta(timedelta(seconds=seconds), threshold=1.0)


def size(value: int | None) -> str:
    """Bytes for people: "1.2 GB", "340 KB" (units are the same in both languages)."""
    if value is None:
        return ""
    for unit, step in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if value >= step:
            return f"{format_decimal(value / step, '#,##0.0')} {unit}"
    return f"{format_decimal(value)} B"


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    Babel(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.globals.update(
        when=when,
        ago=ago,
        zone_name=zone_name,
        html_lang=lambda: HTML_LANG.get(str(select_locale()), "en"),
        locale_names=LOCALE_NAMES,
        duration=duration,
        size=size,
    )
