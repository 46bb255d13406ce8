"""Signing in to the console from Flask's test client."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.factories import PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def sign_in(client: FlaskClient, email: str, lang: str = "en") -> str:
    """Sign in through the form; returns the page's CSRF token."""
    client.get(f"/login?lang={lang}")
    r = client.post("/login", data={"email": email, "password": PASSWORD, "next": "/fleet"})
    assert r.status_code == 302, r.text
    page = client.get("/fleet")
    assert page.status_code == 200, page.text
    found = CSRF.search(page.text)
    assert found, "the page carries a CSRF field"
    return found.group(1)
