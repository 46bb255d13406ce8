"""Check a campaign file completely: the file itself, then its names and media against the
database. Reads only; the same check runs before every plan and apply."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from server.auth.actors import Actor
from server.campaigns.files.bind import Bound, bind, choose_organisation
from server.campaigns.files.load import Problem, load_campaign
from server.campaigns.files.schema import CampaignSpec
from server.campaigns.files.shift import start_on as shift_to
from server.errors import FieldError, ValidationFailed


@dataclass
class Checked:
    spec: CampaignSpec | None
    bound: Bound | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def render(self, filename: str) -> list[str]:
        return [p.render(filename) for p in self.problems]


def check_campaign(
    session: Session | None,
    path: Path,
    *,
    org_name: str | None = None,
    start_on: date | None = None,
    actor: Actor | None = None,
) -> Checked:
    """Every problem of the file at `path`; with a session, bound to the database too.

    `start_on` moves the campaign (see `server.campaigns.files.shift`) before it is bound.
    """
    spec, problems = load_campaign(path)
    if spec is None or problems:
        return Checked(spec, None, problems)
    if start_on is not None:
        spec = shift_to(spec, start_on)
    if session is None:
        return Checked(spec)
    org, org_problems = choose_organisation(session, spec, org_name, actor)
    if org is None:
        return Checked(spec, None, org_problems)
    bound, bind_problems = bind(session, spec, org)
    return Checked(spec, bound, bind_problems)


def require_bound(checked: Checked, filename: str) -> Bound:
    """The bound campaign, or ValidationFailed listing every problem as `FILE:LINE`."""
    if checked.bound is None or checked.problems:
        raise ValidationFailed(
            f"{filename} has {len(checked.problems)} problems",
            [FieldError(f"{filename}:{p.line}: {p.field}", p.reason) for p in checked.problems],
        )
    return checked.bound
