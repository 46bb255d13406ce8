"""Console page: reports (being built)."""

from __future__ import annotations

from flask import Blueprint
from flask_babel import gettext as _

from server.auth.policy import READ
from server.web.frame import PageResult, page

bp = Blueprint("reports_pages", __name__, template_folder="templates")


@bp.route("/reports")
@page(READ)
def reports() -> PageResult:
    return _("Reports")
