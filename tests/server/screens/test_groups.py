"""Groups without HTTP: nesting, cycles, descendants, and who may change membership."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from server.auth.actors import actor_for_user
from server.campaigns import versions as content_version
from server.errors import Forbidden, NotFound, ValidationFailed
from server.screens import groups
from tests.server.api import objects

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_descendants_and_ancestors(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    top = objects.group(session, world.province, "top", NOW)
    mid = objects.group(session, world.city, "mid", NOW, parent=top)
    low = objects.group(session, world.school, "low", NOW, parent=mid)
    side = objects.group(session, world.city, "side", NOW, parent=top)
    lone = objects.group(session, world.city, "lone", NOW)
    assert groups.descendant_group_ids(session, [top.id]) == {top.id, mid.id, low.id, side.id}
    assert groups.descendant_group_ids(session, [mid.id, lone.id]) == {mid.id, low.id, lone.id}
    assert groups.descendant_group_ids(session, [0, 2**40]) == set()
    assert groups.ancestor_chain(session, low) == [low.id, mid.id, top.id]


def test_cycles_are_refused_and_moves_bump_the_content_version(
    session: Session,
    world,  # type: ignore[no-untyped-def]
) -> None:
    admin = actor_for_user(world["admin"].user)
    a = groups.create_group(session, admin, NOW, organisation_id=world.city.id, name="a")
    b = groups.create_group(
        session, admin, NOW, organisation_id=world.city.id, name="b", parent_id=a.id
    )
    c = groups.create_group(
        session, admin, NOW, organisation_id=world.city.id, name="c", parent_id=b.id
    )
    session.commit()
    version = content_version.current(session)
    for parent in (c.id, b.id, a.id):
        with pytest.raises(ValidationFailed) as err:
            groups.update_group(session, admin, NOW, a.id, {"parent_id": parent})
        assert err.value.errors[0].field == "parent_id"
    assert content_version.current(session) == version
    groups.update_group(session, admin, NOW, c.id, {"parent_id": a.id})
    assert content_version.current(session) > version
    groups.update_group(session, admin, NOW, c.id, {"name": "c2"})  # a rename moves nothing
    session.commit()
    assert groups.ancestor_chain(session, c) == [c.id, a.id]


def test_membership_is_the_screen_operators_call(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    campus = objects.group(session, world.province, "campus", NOW)
    gate = objects.screen(session, world.school, "Gate", NOW)
    hq = objects.screen(session, world.province, "HQ", NOW)
    city_op = actor_for_user(world["city_operator"].user)
    viewer = actor_for_user(world["viewer"].user)
    assert groups.add_screen(session, city_op, NOW, campus.id, gate.id) is True
    assert groups.add_screen(session, city_op, NOW, campus.id, gate.id) is False
    with pytest.raises(NotFound):  # the city operator does not see the province's screen
        groups.add_screen(session, city_op, NOW, campus.id, hq.id)
    with pytest.raises(Forbidden):
        groups.remove_screen(session, viewer, NOW, campus.id, gate.id)
    with pytest.raises(Forbidden):  # the province's group itself is read-only for the city
        groups.update_group(session, city_op, NOW, campus.id, {"name": "x"})
    assert groups.remove_screen(session, city_op, NOW, campus.id, gate.id) is True
    assert groups.remove_screen(session, city_op, NOW, campus.id, gate.id) is False
