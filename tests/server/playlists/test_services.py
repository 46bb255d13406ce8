"""server.playlists without HTTP: the one default per organisation, atomic items, versions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.auth.actors import actor_for_user
from server.campaigns import versions as content_version
from server.errors import Conflict, ValidationFailed
from server.playlists import services as playlists
from server.playlists.models import Playlist
from server.playlists.services import ItemSpec
from tests.server.api import objects

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_set_default_keeps_one_per_organisation(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    a = objects.playlist(session, world.city, "a", NOW, is_default=True)
    b = objects.playlist(session, world.city, "b", NOW)
    elsewhere = objects.playlist(session, world.school, "c", NOW, is_default=True)
    version = content_version.current(session)
    playlists.set_default(session, b, True, NOW)
    session.commit()
    defaults = session.scalars(select(Playlist.name).where(Playlist.is_default)).all()
    assert sorted(defaults) == ["b", "c"]  # the school's default is its own business
    assert content_version.current(session) == version + 1
    playlists.set_default(session, b, True, NOW)  # no change, no bump
    assert content_version.current(session) == version + 1
    playlists.set_default(session, b, False, NOW)
    assert content_version.current(session) == version + 2
    assert a.is_default is False and elsewhere.is_default is True


def test_replace_items_checks_everything_before_changing_anything(
    session: Session,
    world,  # type: ignore[no-untyped-def]
) -> None:
    operator = actor_for_user(world["operator"].user)
    mine = objects.asset(session, world.school, "mine", NOW)
    parents = objects.asset(session, world.province, "parents", NOW)
    foreign = objects.asset(session, world.other, "foreign", NOW)
    playlist = objects.playlist(session, world.school, "p", NOW, assets=[mine])
    good = [ItemSpec(parents.id, 5000, "cover", "crossfade"), ItemSpec(mine.id, 1000)]
    for bad, field in [
        ([*good, ItemSpec(foreign.id, 1000)], "items[2].asset_id"),
        ([*good, ItemSpec(mine.id, 999)], "items[2].duration_ms"),
        ([ItemSpec(mine.id, 1000, fit="fill")], "items[0].fit"),
        ([ItemSpec(mine.id, 1000, transition="wipe")], "items[0].transition"),
    ]:
        with pytest.raises(ValidationFailed) as err:
            playlists.replace_items(session, operator, NOW, playlist.id, bad)
        assert err.value.errors[0].field == field
        assert [i.asset_id for i in playlist.items] == [mine.id]
    playlists.replace_items(session, operator, NOW, playlist.id, good)
    session.commit()
    session.expire_all()
    assert [(i.position, i.asset_id, i.fit) for i in playlist.items] == [
        (0, parents.id, "cover"),
        (1, mine.id, "contain"),
    ]


def test_campaign_playlists_are_edited_through_their_campaign(
    session: Session,
    world,  # type: ignore[no-untyped-def]
) -> None:
    operator = actor_for_user(world["operator"].user)
    campaign = objects.campaign(session, world.school, "week", NOW)
    owned = objects.playlist(session, world.school, "day 1", NOW, campaign=campaign)
    with pytest.raises(Conflict):
        playlists.update_playlist(session, operator, NOW, owned.id, {"name": "x"})
    with pytest.raises(ValidationFailed):
        playlists.set_default(session, owned, True, NOW)
