"""A real player paired by its code plays its programme; revoked, it forgets it all and shows
its pairing card again."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import select

from tests.integration.conftest import ServerProcess, StartServer
from tests.integration.player.conftest import ContentFor, StartPlayer
from tests.integration.player.content import TIMEOUT, png
from tests.integration.player.players import wait_for

pytestmark = pytest.mark.integration


def pairing_code(server: ServerProcess, hardware_id: str) -> str | None:
    """The code on the player's pairing card, as the operator reads it off the screen."""
    from server.screens.models import Pairing

    with server.session() as session:
        code = session.scalar(
            select(Pairing.code)
            .where(Pairing.hardware_id == hardware_id, Pairing.screen_id.is_(None))
            .order_by(Pairing.id.desc())
        )
    return str(code) if code else None


def test_paired_by_code_then_revoked_back_to_the_pairing_card(
    start_server: StartServer, start_player: StartPlayer, content_for: ContentFor
) -> None:
    server = start_server(
        settings={"poll_interval_s": 2, "publish_margin_s": 0, "screen_profiles": "320x180"}
    )
    content = content_for(server)
    poster = content.image(png((200, 30, 30)), "red.png")
    content.publish(content.campaign("W", {"w": [(poster, 1000)]}, [{"playlist": "w"}]))
    player = start_player(server.base_url, "lobby")

    def card() -> str | None:
        changes = player.changes()
        return changes[-1].name if changes else None

    code = wait_for(lambda: pairing_code(server, "it-lobby"), "a pairing code", 30, player.log)
    assert card() == "card:pairing"
    r = requests.post(
        server.url("/api/v1/pairings/claim"),
        json={"code": code, "organisation_id": content.organisation_id, "name": "Lobby"},
        headers=content.headers,
        timeout=TIMEOUT,
    )
    assert r.status_code == 201, r.text
    screen_id = r.json()["id"]
    wait_for(lambda: card() not in (None, "card:pairing", "card:idle"), "content", 30, player.log)
    assert player.device() is not None and player.saved_manifest() is not None

    r = requests.delete(
        server.url(f"/api/v1/screens/{screen_id}/device-token"),
        headers=content.headers,
        timeout=TIMEOUT,
    )
    assert r.status_code == 204
    wait_for(lambda: card() == "card:pairing", "the pairing card again", 30, player.log)
    assert player.device() is None and player.saved_manifest() is None
    # It asked for a new code at once, for an operator to pair it again.
    assert wait_for(lambda: pairing_code(server, "it-lobby") not in (None, code), "a new code")
