"""Refusals on the desk, calendar and preview pages, in the viewer's language.

The services refuse in English (the same words as the API's problem+json). The pages say
what happened in the viewer's language and keep the service's own words beneath, as data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _

from server.campaigns.workflow import OwnSubmission
from server.errors import Conflict, FieldError, Forbidden, KnownError, ValidationFailed


class PageInputError(ValidationFailed):
    """Bad input a page found itself: its detail is already in the viewer's language."""


def page_input(message: str, name: str, value: str) -> PageInputError:
    return PageInputError(message, [FieldError(name, value[:40])])


@dataclass(frozen=True)
class Refused:
    lines: list[str] = field(default_factory=list)  # in the viewer's language
    detail: list[str] = field(default_factory=list)  # the service's own words

    def __bool__(self) -> bool:
        return bool(self.lines)


def _fields(exc: KnownError) -> set[str]:
    return {e.field for e in exc.errors}


def _said(exc: KnownError) -> str:
    if isinstance(exc, OwnSubmission):
        return _("Nobody approves their own submission: another approver must.")
    if isinstance(exc, Forbidden):
        return _("Your role does not allow this here.")
    if isinstance(exc, Conflict):
        return _("The campaign is not in a state that allows this step.")
    if isinstance(exc, ValidationFailed) and "comment" in _fields(exc):
        return _("Say why the campaign goes back to draft (at most 300 characters).")
    return _("This was refused.")


def explain(exc: KnownError) -> Refused:
    """What to show for `exc`: a sentence the viewer reads, and the service's words."""
    service = [exc.detail or exc.title] + [f"{e.field}: {e.reason}" for e in exc.errors]
    if isinstance(exc, PageInputError):
        return Refused([exc.detail or exc.title], service[1:])
    return Refused([_said(exc)], service)
