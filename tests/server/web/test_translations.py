"""Every console string has its Chinese translation, the compiled catalogue is current, and
no page shows an English string that did not go through the catalogue (a pseudo-locale)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from server.clock import SettableClock
from server.web.i18n import TRANSLATIONS
from tests.factories import World
from tests.server.web.conftest import sign_in

SERVER = Path(__file__).resolve().parents[3] / "server"
PO = TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\(\w+\)s")
METHODS = [
    ("**/pages.py", "python"),
    ("**/pages/*.py", "python"),
    ("web/**.py", "python"),
    ("**/templates/**.html", "jinja2"),
]


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def _read_mo() -> Catalog:
    with MO.open("rb") as f:
        return read_mo(f)


def source_strings() -> set[str]:
    found = extract_from_dir(
        str(SERVER),
        METHODS,
        options_map={"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}},
        keywords={"_": None, "gettext": None},
    )
    return {message if isinstance(message, str) else message[0] for *_, message, _c, _ctx in found}


def test_every_string_has_a_chinese_translation() -> None:
    catalogue = _read(PO)
    strings = source_strings()
    assert len(strings) > 100
    missing = sorted(s for s in strings if not (m := catalogue.get(s)) or not m.string or m.fuzzy)
    assert missing == [], "run scripts/translations and translate these"
    for message in catalogue:
        if message.id and message.string:
            assert set(PLACEHOLDER.findall(message.id)) == set(
                PLACEHOLDER.findall(str(message.string))
            ), message.id


def test_the_compiled_catalogue_is_current() -> None:
    source = {m.id: m.string for m in _read(PO) if m.id and m.string}
    compiled = {m.id: m.string for m in _read_mo() if m.id}
    assert compiled == source, "run scripts/translations"


class TextNodes(HTMLParser):
    """Visible text and labelling attributes outside elements marked translate="no"."""

    LABELS = ("aria-label", "alt", "title", "placeholder", "data-done", "data-refused")
    VOID = {"input", "img", "meta", "link", "br", "hr", "source", "option"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.texts: list[str] = []

    def _raw(self) -> bool:
        return any(no for _, no in self.stack) or any(
            t in ("script", "style", "title") for t, _ in self.stack
        )

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        no = values.get("translate") == "no"
        if not (self._raw() or no):
            self.texts += [v for k, v in attrs if k in self.LABELS and v]
        if tag not in self.VOID:
            self.stack.append((tag, no))
        elif tag == "option" and no:
            self.stack.append((tag, True))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if data.strip() and not self._raw():
            self.texts.append(data)


def untranslated(html: str) -> list[str]:
    parser = TextNodes()
    parser.feed(html)
    leftovers = [re.sub(r"⟦.*?⟧", "", t, flags=re.S) for t in parser.texts]
    return [t.strip() for t in leftovers if re.search(r"[^\W\d_]", t)]


def pseudo_catalogue(folder: Path) -> None:
    """Every string wrapped in ⟦…⟧, as the pseudo-locale 'eo' (no page has Esperanto)."""
    catalogue = _read(PO, locale="eo")
    for message in catalogue:
        if message.id:
            message.string = f"⟦{message.id}⟧"
    target = folder / "eo" / "LC_MESSAGES"
    target.mkdir(parents=True)
    buffer = BytesIO()
    write_mo(buffer, catalogue)
    (target / "messages.mo").write_bytes(buffer.getvalue())


def test_no_page_shows_a_string_that_skipped_the_catalogue(
    app: Flask,
    client: FlaskClient,
    session: Session,
    world: World,
    clock: SettableClock,
    tmp_path: Path,
) -> None:
    from tests.server.web.test_fleet_queries import add_fleet

    pseudo_catalogue(tmp_path)
    app.config["CONSOLE_LOCALES"] = ("en", "zh_CN", "eo")
    app.extensions["babel"].translation_directories = [str(tmp_path)]
    add_fleet(session, world, clock, 3, 0)
    sign_in(client, "admin@province.test", lang="eo")
    pages = [
        "/fleet", "/fleet?state=offline", "/screens/1", "/screens/1/live", "/screens/pair",
        "/enrolment-tokens", "/groups", "/media", "/media/slogan", "/people", "/me", "/nowhere-404",
        "/reports", "/reports?group_by=day&group_by=asset&group_by=screen", "/audit",
    ]  # fmt: skip
    checked = 0
    for url in pages:
        r = client.get(url)
        if url == "/nowhere-404":
            assert r.status_code == 404
            continue
        assert r.status_code == 200, url
        assert untranslated(r.text) == [], url
        checked += 1
    preview = client.post(
        "/media/slogan/preview",
        data={"text": "", "csrf_token": sign_in(client, "admin@province.test", lang="eo")},
    )
    assert untranslated(preview.text) == []
    client.post("/logout", data={"csrf_token": sign_in(client, "admin@province.test", "eo")})
    assert untranslated(client.get("/login?lang=eo").text) == []
    assert checked == len(pages) - 1
