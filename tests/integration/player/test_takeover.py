"""Issue 12, finding 1, with real processes: knowing a screen's hardware id does not take it.

A real player paired in organisation B keeps its screen, its token and its content while an
attacker in organisation A says hello with its hardware id and claims the code, and while
the attacker presents A's enrolment token. Then the device breaks: a new player (new key,
same hardware id) is accepted by B's operator as the replacement and plays B's content; the
old device token stops working. Judged from outside: HTTP answers, database rows, frames.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from tests.integration.conftest import ServerProcess, StartServer
from tests.integration.player.conftest import ContentFor, StartPlayer
from tests.integration.player.content import TIMEOUT, Content, png, server_now
from tests.integration.player.players import PlayerProcess, wait_for
from tests.server.delivery.content import proof

pytestmark = pytest.mark.integration

HW = "it-lobby"


def waiting_code(server: ServerProcess, device_key: str | None) -> str | None:
    """The code on a player's pairing card (as an operator reads it off the screen)."""
    from server.screens.models import Pairing

    with server.session() as session:
        code = session.scalar(
            select(Pairing.code).where(
                Pairing.hardware_id == HW,
                Pairing.screen_id.is_(None),
                Pairing.device_key == device_key,
            )
        )
    return str(code) if code else None


def public_key_of(player: PlayerProcess) -> str | None:
    from player.keys import DeviceKey

    try:
        return DeviceKey((player.data_dir / "device-key").read_bytes()).public_key
    except (OSError, ValueError):
        return None


def screen_row(server: ServerProcess, screen_id: int) -> tuple[Any, ...]:
    from server.screens.models import Screen

    with server.session() as session:
        screen = session.get(Screen, screen_id)
        assert screen is not None
        return (
            screen.organisation_id,
            screen.hardware_id,
            screen.device_key,
            screen.device_token_hash,
            screen.last_seen_at,
        )


def hello(server: ServerProcess, **body: Any) -> requests.Response:
    return requests.post(
        server.url("/api/v1/player/hello"),
        json={"hardware_id": HW, "width": 320, "height": 180, **body},
        timeout=TIMEOUT,
    )


def claim(server: ServerProcess, content: Content, **body: Any) -> requests.Response:
    return requests.post(
        server.url("/api/v1/pairings/claim"), json=body, headers=content.headers, timeout=TIMEOUT
    )


def poll(server: ServerProcess, token: str) -> int:
    r = requests.get(
        server.url("/api/v1/player/manifest"),
        headers={"Authorization": f"Bearer {token}"},
        timeout=TIMEOUT,
    )
    return r.status_code


def test_screen_takeover_is_stopped_and_a_broken_device_is_replaced(
    start_server: StartServer, start_player: StartPlayer, content_for: ContentFor
) -> None:
    server = start_server(
        settings={
            "poll_interval_s": 1,
            "publish_margin_s": 0,
            "screen_profiles": "320x180",
            "heartbeat_flush_s": 0.5,
        }
    )
    b = content_for(server)  # organisation B, where the screen belongs
    evil = server.seed_admin("Elsewhere", "attacker@example.test")
    a = Content(server, evil.organisation_id, evil.headers)  # organisation A, the attacker's
    red = b.image(png((200, 30, 30)), "red.png")
    b.publish(b.campaign("B week", {"b": [(red, 1000)]}, [{"playlist": "b"}]))
    blue = a.image(png((30, 30, 200)), "blue.png")
    a.publish(a.campaign("A week", {"a": [(blue, 1000)]}, [{"playlist": "a"}]))
    red_sha, blue_sha = b.deliver(red, (320, 180)), a.deliver(blue, (320, 180))

    player = start_player(server.base_url, "lobby", extra=["--hardware-id", HW])
    key = wait_for(lambda: public_key_of(player), "the player's device key", 30, player.log)
    code = wait_for(lambda: waiting_code(server, key), "a pairing code", 30, player.log)
    r = claim(server, b, code=code, organisation_id=b.organisation_id, name="Lobby")
    assert r.status_code == 201, r.text
    screen_id = r.json()["id"]
    wait_for(lambda: any(c.name == red_sha for c in player.changes()), "B's poster", 30, player.log)
    device = player.device()
    assert device is not None and device["key_bound"] is True
    token = device["device_token"]
    before = screen_row(server, screen_id)
    assert before[:3] == (b.organisation_id, HW, key)

    # The attacker knows the hardware id: hello without a key, and with a key of its own.
    attack_started = server_now(server)
    intruder = Ed25519PrivateKey.generate()
    for extra in ({}, {"proof": proof(intruder, HW, server_now(server))}):
        r = hello(server, **extra)
        assert r.status_code == 200 and r.json()["state"] == "pairing", r.text
        r = claim(server, a, code=r.json()["pairing_code"], organisation_id=a.organisation_id)
        assert r.status_code == 409, r.text
        assert hello(server, **extra).json()["state"] == "pairing"  # nothing to collect
    # ...and presents A's enrolment token.
    r = hello(server, enrol_token=a.enrolment_token())
    assert r.status_code == 409, r.text

    # The screen is B's, with its device, its token and its content, polls after the attack.
    wait_for(
        lambda: (screen_row(server, screen_id)[4] or attack_started) > attack_started,
        "a poll after the attack",
        30,
        player.log,
    )
    assert screen_row(server, screen_id)[:4] == before[:4]
    assert poll(server, token) == 200
    shown = [c.name for c in player.changes() if c.at >= attack_started]
    assert blue_sha not in shown and not any(n.startswith("card:") for n in shown), shown
    assert (player.device() or {}).get("device_token") == token

    # The device breaks. Its replacement: a new player, a new key, the same hardware id.
    player.stop()
    new = start_player(server.base_url, "lobby-new", extra=["--hardware-id", HW])
    new_key = wait_for(lambda: public_key_of(new), "the new device key", 30, new.log)
    assert new_key != key
    code = wait_for(lambda: waiting_code(server, new_key), "the new code", 30, new.log)
    r = claim(server, b, code=code, organisation_id=b.organisation_id)
    assert r.status_code == 409, r.text  # not without saying it replaces the screen's device
    r = claim(server, a, code=code, replace_screen_id=screen_id)
    assert r.status_code == 404, r.text  # A may not manage B's screen
    r = claim(server, b, code=code, replace_screen_id=screen_id)
    assert r.status_code == 201 and r.json()["id"] == screen_id, r.text
    wait_for(lambda: any(c.name == red_sha for c in new.changes()), "B's poster", 30, new.log)
    assert new.screen_id() == screen_id
    after = screen_row(server, screen_id)
    assert after[:3] == (b.organisation_id, HW, new_key)
    assert poll(server, token) == 401  # the old device's token is dead
