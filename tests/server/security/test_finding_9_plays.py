"""Issue 12, finding 9: proof of play names only the screen's own organisation's assets, and
event ids are unique per screen."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import Role
from server.reports.models import PlayEvent
from tests.server.api import objects
from tests.server.delivery.content import device, pair

PLAYS = "/api/v1/player/plays"


def _event(event_id: str, sha: str, start: Any) -> dict[str, str]:
    return {
        "id": event_id,
        "asset": sha,
        "playlist": "p",
        "campaign": "c",
        "start": start.isoformat(),
        "end": (start + timedelta(seconds=10)).isoformat(),
    }


def test_finding_9_titles_come_only_from_the_screens_own_organisation(
    client: FlaskClient, session: Session, world: Any, clock: Any
) -> None:
    now = clock.now()
    secret = objects.asset(session, world.other, "Other's unreleased poster", now)
    inherited = objects.asset(session, world.province, "Province poster", now)
    token, screen_id = pair(client, world["operator"].headers, world.school.id)
    start = now - timedelta(minutes=5)
    batch = {
        "events": [
            _event("e-secret", secret.sha256, start),
            _event("e-inherited", inherited.sha256, start),
        ]
    }
    r = client.post(PLAYS, json=batch, headers=device(token))
    assert r.status_code == 200, r.json
    session.rollback()
    titles = dict(
        session.execute(
            select(PlayEvent.event_id, PlayEvent.asset_title).where(
                PlayEvent.screen_id == screen_id
            )
        ).all()
    )
    assert titles == {"e-secret": "", "e-inherited": "Province poster"}


def test_finding_9_event_ids_are_unique_per_screen_not_across_screens(
    client: FlaskClient, session: Session, world: Any, clock: Any
) -> None:
    now = clock.now()
    outsider_op = world.add_person(session, "op@other.test", world.other, Role.OPERATOR, now)
    session.commit()
    poster = objects.asset(session, world.school, "Poster", now)
    ours, our_screen = pair(client, world["operator"].headers, world.school.id, hardware_id="a")
    theirs, _ = pair(client, outsider_op.headers, world.other.id, hardware_id="b")
    start = now - timedelta(minutes=5)
    # Another organisation's player reports our screen's next event id first...
    r = client.post(
        PLAYS, json={"events": [_event("e-1", "f" * 64, start)]}, headers=device(theirs)
    )
    assert r.json == {"accepted": 1, "duplicates": 0}
    # ...and our own event with that id is still stored.
    r = client.post(
        PLAYS, json={"events": [_event("e-1", poster.sha256, start)]}, headers=device(ours)
    )
    assert r.json == {"accepted": 1, "duplicates": 0}
    session.rollback()
    mine = session.scalars(select(PlayEvent).where(PlayEvent.screen_id == our_screen)).one()
    assert mine.asset_title == "Poster"
