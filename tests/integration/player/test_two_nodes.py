"""Two gunicorn nodes on one PostgreSQL database and one S3 bucket, behind a real nginx
configured from deploy/nginx.conf, with real headless players polling through nginx.

- Each node's heartbeats reach the fleet: with only node A in rotation, then only node B,
  every screen's last-seen moves on (read over the operator API).
- A publish made through node A (its own API port) while nginx sends players to node B
  only takes effect on every player at the announced instant; nginx's log shows that
  node B answered the manifests that carried it.
- Node A is SIGKILLed (master and workers) while in rotation: the players go on being
  answered (by B: every manifest GET after the kill is a 200 or 304) and their screens go
  on showing posters, judged from the display's change log and frame file.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from PIL import Image

from tests.integration import nginx as nginx_
from tests.integration.conftest import ServerProcess, StartServer
from tests.integration.player.conftest import ContentFor, StartPlayer
from tests.integration.player.content import SHANGHAI, TIMEOUT, png
from tests.integration.player.players import Change, PlayerProcess, floor_ms, wait_for
from tests.s3 import S3Server

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not nginx_.available(), reason="needs nginx (scripts/system-deps)"),
]
LOCAL = ZoneInfo(SHANGHAI)
POLL_S = 2
LATE = timedelta(seconds=1)  # as in test_offline.py: how late a busy machine may be
COLOURS = {"red": (200, 30, 30), "green": (30, 160, 40), "white": (240, 240, 240)}
PLAYERS = ("p1", "p2", "p3")


def frame_colour(player: PlayerProcess) -> tuple[int, int, int]:
    with Image.open(player.data_dir / "frames" / "current.png") as frame:
        rgb = frame.convert("RGB")
        return rgb.getpixel((rgb.width // 2, rgb.height // 2))  # type: ignore[return-value]


def near(colour: tuple[int, int, int], target: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 12 for a, b in zip(colour, target, strict=True))


def on_screen(player: PlayerProcess) -> bool:
    """The frame on the display is one of the posters (not a card, not black)."""
    colour = frame_colour(player)
    return any(near(colour, poster) for poster in COLOURS.values())


def test_two_nodes_behind_nginx_share_publishes_heartbeats_and_survive_a_kill(
    start_server: StartServer,
    start_player: StartPlayer,
    content_for: ContentFor,
    fresh_pg_database,  # type: ignore[no-untyped-def]
    s3_server: S3Server,
) -> None:
    database_url = fresh_pg_database()
    settings = {
        "media_url": s3_server.new_bucket(),
        "poll_interval_s": POLL_S,
        "publish_margin_s": 2,
        "screen_profiles": "320x180",
        "heartbeat_flush_s": 1,
    }
    a = start_server("node-a", database_url=database_url, settings=settings)
    b = start_server("node-b", database_url=database_url, settings=settings)
    # Both nodes' clocks (FileClocks) stand at the same offset: 10:00 in Shanghai today.
    real = datetime.now(UTC)
    offset = datetime.combine(real.astimezone(LOCAL).date(), time(10), LOCAL) - real
    for node in (a, b):
        node.set_clock(offset)

    proxy = nginx_.Nginx({a.port: True, b.port: True}).start()
    try:
        _run(a, b, proxy, start_player, content_for)
    except BaseException:
        print(proxy.errors())
        raise
    finally:
        proxy.stop()


def _run(
    a: ServerProcess,
    b: ServerProcess,
    proxy: nginx_.Nginx,
    start_player: StartPlayer,
    content_for: ContentFor,
) -> None:
    content = content_for(a)
    red, green, white = (content.image(png(c), f"{n}.png") for n, c in COLOURS.items())
    week = content.campaign("Week", {"week": [(red, 1000), (green, 1000)]}, [{"playlist": "week"}])
    content.publish(week)
    token = content.enrolment_token()
    players = [start_player(proxy.base_url, name, enrol_token=token) for name in PLAYERS]

    def describe() -> str:
        return "\n".join(p.log(10) for p in players) + "\n" + proxy.errors()

    def posters(player: PlayerProcess) -> list[Change]:
        return [c for c in player.changes() if not c.is_card]

    wait_for(lambda: all(posters(p) for p in players), "posters on every screen", 60, describe)

    # The media went bucket ▸ node ▸ nginx, and nginx keeps them: the second fetch is a HIT.
    poster = next(iter(players[0].saved_manifest()["assets"].values()))  # type: ignore[index]
    for _ in range(2):
        media = requests.get(proxy.base_url + poster["url"], timeout=TIMEOUT)
    assert media.status_code == 200 and media.headers["X-Cache"] == "HIT"

    # Heartbeats: each node alone in turn moves every screen's last-seen on.
    def last_seen() -> dict[int, datetime]:
        r = requests.get(a.url("/api/v1/screens"), headers=content.headers, timeout=TIMEOUT)
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        return {
            s["id"]: datetime.fromisoformat(s["last_seen_at"]) for s in items if s["last_seen_at"]
        }

    for alone in (a, b):
        proxy.set_nodes({a.port: alone is a, b.port: alone is b})
        mark = content.now()
        wait_for(
            lambda mark=mark: (
                len(seen := last_seen()) == len(players) and min(seen.values()) > mark
            ),
            f"heartbeats through node {alone.instance.name} alone",
            30,
            describe,
        )

    # Node B alone answers the players; the publish goes through node A's own API.
    notice = content.campaign(
        "Notice", {"notice": [(white, 1000), (red, 1000)]}, [{"playlist": "notice", "priority": 10}]
    )
    published = requests.post(
        a.url(f"/api/v1/campaigns/{notice}/publish"), headers=content.headers, timeout=TIMEOUT
    )
    assert published.status_code == 200, published.text
    effective = floor_ms(datetime.fromisoformat(published.json()["effective_at"]).astimezone(UTC))
    published_at = datetime.now().timestamp()

    def noticed(player: PlayerProcess) -> list[Change]:
        return [c for c in player.changes() if c.playlist == "notice"]

    wait_for(lambda: all(noticed(p) for p in players), "the notice on every screen", 30, describe)
    for player in players:
        first = noticed(player)[0]
        assert effective <= first.at < effective + LATE, (player.data_dir.name, first, effective)
        assert on_screen(player), player.data_dir.name
    after = [row for row in proxy.log() if row[0] > published_at and row[2].endswith("/manifest")]
    full = [row for row in after if row[3] == 200]
    assert {row[5] for row in full} >= {f"Bearer {p.device()['device_token']}" for p in players}  # type: ignore[index]
    assert {row[4] for row in after} == {f"127.0.0.1:{b.port}"}

    # Both nodes back in rotation; once node A answers again, it is killed.
    proxy.set_nodes({a.port: True, b.port: True})
    back = datetime.now().timestamp()
    wait_for(
        lambda: any(r[0] > back and r[4] == f"127.0.0.1:{a.port}" for r in proxy.log()),
        "node A answering again",
        30,
        describe,
    )
    a.kill()
    killed_at = datetime.now().timestamp()
    seen = {p.data_dir.name: len(p.changes()) for p in players}
    answered = {f"Bearer {p.device()['device_token']}": p for p in players}  # type: ignore[index]

    def polled_since_kill(times: int) -> bool:
        rows = [r for r in proxy.log() if r[0] > killed_at and r[2].endswith("/manifest")]
        return all(sum(r[5] == token for r in rows) >= times for token in answered)

    wait_for(
        lambda: polled_since_kill(3), "three polls from every player after the kill", 60, describe
    )
    wait_for(
        lambda: all(len(p.changes()) >= seen[p.data_dir.name] + 3 for p in players),
        "screens still changing",
        30,
        describe,
    )
    rows = [r for r in proxy.log() if r[0] > killed_at and r[2].endswith("/manifest")]
    assert rows and all(r[3] in (200, 304) for r in rows), rows
    assert all(r[4].endswith(f":{b.port}") for r in rows), rows  # B took every one
    for player in players:
        since = player.changes()[seen[player.data_dir.name] :]
        assert since and not [c for c in since if c.is_card], (player.data_dir.name, since)
        assert on_screen(player), player.data_dir.name
