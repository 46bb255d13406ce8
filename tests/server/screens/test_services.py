"""server.screens without HTTP: the online rule, tag and zone checks, scoped changes, audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.auth.actors import actor_for_user
from server.auth.models import AuditEvent
from server.config import Settings
from server.errors import NotFound, ValidationFailed
from server.screens import services as screens
from server.screens.models import Screen

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("poll", "polls", "age", "online"),
    [
        (30, 3, timedelta(0), True),
        (30, 3, timedelta(seconds=90), True),  # exactly three intervals: still online
        (30, 3, timedelta(seconds=90, microseconds=1), False),
        (10, 1, timedelta(seconds=10), True),
        (10, 1, timedelta(seconds=11), False),
        (30, 3, timedelta(seconds=-5), True),  # seen "after" now (clock step): online
    ],
)
def test_is_online_is_a_window_of_missed_polls(
    poll: int, polls: int, age: timedelta, online: bool
) -> None:
    settings = Settings(poll_interval_s=poll, offline_after_polls=polls)
    assert screens.is_online(NOW - age, NOW, settings) is online
    assert screens.is_online(None, NOW, settings) is False
    assert screens.offline_cutoff(NOW, settings) == NOW - timedelta(seconds=poll * polls)


def test_tags_and_time_zones() -> None:
    assert screens.check_tags(["a", "b-c", "a", "学校_1"]) == ["a", "b-c", "学校_1"]
    for bad in (["a b"], [""], ["x" * 51], ["semi;colon"]):
        with pytest.raises(ValidationFailed) as err:
            screens.check_tags(bad)
        assert err.value.errors[0].field == "tags[0]"
    with pytest.raises(ValidationFailed):
        screens.check_tags([f"t{i}" for i in range(51)])
    assert screens.check_timezone("Asia/Shanghai") == "Asia/Shanghai"
    for bad in ("Asia/Nowhere", "", "/etc/passwd", "Asia", "UTC\x00"):
        with pytest.raises(ValidationFailed) as err:
            screens.check_timezone(bad, field="tz")
        assert err.value.errors[0].field == "tz"


def test_changes_are_scoped_and_audited_in_the_callers_transaction(
    session: Session,
    world,  # type: ignore[no-untyped-def]
) -> None:
    operator = actor_for_user(world["operator"].user)
    outsider = actor_for_user(world["outsider"].user)
    with pytest.raises(NotFound):
        screens.create_screen(session, outsider, NOW, organisation_id=world.school.id, name="x")

    screen = screens.create_screen(
        session, operator, NOW, organisation_id=world.school.id, name="Gate", tags=["gate"]
    )
    screens.update_screen(session, operator, NOW, screen.id, {"location": "North"})
    with pytest.raises(ValidationFailed) as err:
        screens.update_screen(session, operator, NOW, screen.id, {"hardware_id": "x"})
    assert err.value.errors[0].field == "hardware_id"
    session.rollback()  # the caller decides: nothing of this was committed
    assert session.scalar(select(func.count()).select_from(Screen)) == 0
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == 0

    screen = screens.create_screen(
        session, operator, NOW, organisation_id=world.school.id, name="Gate"
    )
    session.commit()
    with pytest.raises(NotFound):
        screens.get_screen(session, outsider, screen.id)
    with pytest.raises(NotFound):
        screens.get_screen(session, operator, 2**40)
    screens.delete_screen(session, operator, NOW, screen.id)
    session.commit()
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["create", "delete"]
