"""The approval desk: who sees which campaigns waiting, their own marked, the diff since
the last published version."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from server.auth.actors import actor_for_user
from server.campaigns.desk import approval_desk
from tests.server.api import objects
from tests.server.campaigns.test_workflow import API, make_campaign, step


def desk_of(session: Session, who: Any) -> Any:
    session.rollback()  # read what the app committed
    return approval_desk(session, actor_for_user(session.merge(who.user)))


def test_the_desk_lists_waiting_campaigns_with_their_changes_since_published(
    client: FlaskClient, session: Session, world: Any
) -> None:
    campaign_id = make_campaign(client, session, world)
    assert desk_of(session, world["approver"]).counts == {"waiting": 0, "approved": 0}
    assert step(client, campaign_id, "submit", world["operator"]).status_code == 200
    desk = desk_of(session, world["approver"])
    assert desk.counts == {"waiting": 1, "approved": 0}
    (item,) = desk.waiting
    assert item.submitted_by == "operator@province.test" and item.own is False
    assert item.published_before is None
    assert [c.render() for c in item.changes][:1] == ["+ campaign: Week"]
    assert any(c.what == "schedule[0]" for c in item.changes)
    # Operators and outsiders have no desk.
    assert desk_of(session, world["operator"]).counts == {"waiting": 0, "approved": 0}
    assert desk_of(session, world["outsider"]).counts == {"waiting": 0, "approved": 0}

    # Published, then one more entry: the desk shows only that entry as the change.
    assert step(client, campaign_id, "approve", world["approver"]).status_code == 200
    assert desk_of(session, world["approver"]).counts == {"waiting": 0, "approved": 1}
    assert step(client, campaign_id, "publish", world["approver"]).status_code == 200
    session.rollback()  # end the desk's read before writing here
    later = objects.playlist(
        session,
        world.city,
        "weekend",
        world.city.created_at,
        assets=[objects.asset(session, world.city, "w2", world.city.created_at)],
    )
    r = client.post(
        f"{API}/campaigns/{campaign_id}/entries",
        json={"playlist_id": later.id, "priority": 7},
        headers=world["approver"].headers,
    )
    assert r.status_code == 201, r.json
    assert step(client, campaign_id, "submit", world["approver"]).status_code == 200
    (item,) = desk_of(session, world["approver"]).waiting
    assert item.own is True and item.published_before is not None
    assert [(c.op, c.what) for c in item.changes] == [
        ("+", "playlist weekend"),
        ("+", "playlist weekend item 1"),
        ("+", "schedule[1]"),
    ]
