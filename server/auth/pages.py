"""Console page: audit log (being built)."""

from __future__ import annotations

from flask import Blueprint
from flask_babel import gettext as _

from server.auth.policy import READ
from server.web.frame import PageResult, page

bp = Blueprint("auth_pages", __name__, template_folder="templates")


@bp.route("/audit")
@page(READ)
def audit() -> PageResult:
    return _("Audit log")
