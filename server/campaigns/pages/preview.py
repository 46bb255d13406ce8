"""Console page: what plays where (being built)."""

from __future__ import annotations

from flask import Blueprint
from flask_babel import gettext as _

from server.auth.policy import READ
from server.web.frame import PageResult, page

bp = Blueprint("preview_pages", __name__, template_folder="../templates")


@bp.route("/preview")
@page(READ)
def preview() -> PageResult:
    return _("What plays where")
