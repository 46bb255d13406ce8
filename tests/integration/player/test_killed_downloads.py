"""A player killed (SIGKILL) at random points of its downloads, twenty times: its cache never
holds a byte that does not belong to the hash it is filed under, and once everything is in,
it plays the right poster from the cache with the server out of reach."""

from __future__ import annotations

import hashlib
import random

import pytest

from tests.integration.conftest import ServerProcess, StartServer
from tests.integration.player.conftest import ContentFor, StartPlayer
from tests.integration.player.content import noise_png
from tests.integration.player.players import PlayerProcess, slot_at, wait_for
from tests.integration.player.proxy import Proxy

pytestmark = pytest.mark.integration
PROFILE = (1920, 1080)  # the server's only profile: noise comes out as ~1.7 MB JPEGs
SCREEN = (640, 360)
KILLS = 20
RATE = 2 * 1024 * 1024  # bytes a second through the proxy: a few seconds for everything


def server_bytes(server: ServerProcess, sha: str) -> bytes:
    path = server.store().path(sha)
    assert path is not None
    data: bytes = path.read_bytes()
    return data


def check_cache(player: PlayerProcess, server: ServerProcess) -> tuple[int, int]:
    """Every file in the cache: complete ones hash to their name, partial ones are a prefix
    of the asset they are named after. (complete files, partial files)."""
    complete = partial = 0
    for path in sorted(player.cache_dir.iterdir()) if player.cache_dir.is_dir() else []:
        name = path.name
        if len(name) == 64:
            assert hashlib.sha256(path.read_bytes()).hexdigest() == name, name
            complete += 1
        elif name.endswith(".part") and len(name) == 69:
            data = path.read_bytes()
            assert server_bytes(server, name[:64]).startswith(data), name
            assert not (player.cache_dir / name[:64]).exists(), f"{name} next to its asset"
            partial += 1
        else:
            raise AssertionError(f"unexpected file in the cache: {name}")
    return complete, partial


def test_killed_twenty_times_mid_download_the_cache_stays_true(
    start_server: StartServer, start_player: StartPlayer, content_for: ContentFor
) -> None:
    server = start_server(
        settings={
            "poll_interval_s": 2,
            "publish_margin_s": 0,
            "screen_profiles": f"{PROFILE[0]}x{PROFILE[1]}",
        }
    )
    content = content_for(server)
    posters = [content.image(noise_png(seed, PROFILE), f"noise-{seed}.png") for seed in range(4)]
    week = content.campaign(
        "Noise", {"noise": [(p, 2000) for p in posters]}, [{"playlist": "noise"}]
    )
    content.publish(week)
    token = content.enrolment_token()
    proxy = Proxy(server.port, rate_bytes_s=RATE).start()
    try:
        player = start_player(proxy.base_url, "killed", enrol_token=token, size=SCREEN)

        def manifest_assets() -> set[str]:
            manifest = player.saved_manifest()
            return set(manifest["assets"]) if manifest else set()

        total = wait_for(
            lambda: sum(len(server_bytes(server, s)) for s in manifest_assets()),
            "the first manifest",
            describe=player.log,
        )
        assert total > 6 * 1024 * 1024  # several MB: each kill lands inside a transfer
        rng = random.Random(7)
        kills_mid_transfer = 0
        for kill in range(KILLS):
            if kill:
                player.start()
            target = proxy.media_bytes + rng.randint(16 * 1024, total // 16)

            def kill_point(target: int = target) -> bool:
                return proxy.media_bytes >= target or manifest_assets() <= player.cached()

            wait_for(kill_point, "the download to reach the kill point", describe=player.log)
            done = manifest_assets() <= player.cached()
            player.kill()
            check_cache(player, server)
            if done:
                break
            kills_mid_transfer += 1
        assert kills_mid_transfer == KILLS, "the downloads finished before the twentieth kill"

        # Left alone, it completes (resuming the parts) and every file is right.
        player.start()
        wait_for(lambda: manifest_assets() <= player.cached(), "all assets", 60, player.log)
        player.kill()
        assert check_cache(player, server) == (len(posters), 0)
        manifest = player.saved_manifest()
        assert manifest is not None
    finally:
        proxy.close()

    # The server out of reach (the proxy is gone): the cache alone puts the right poster up.
    seen = len(player.changes())
    player.start()
    wait_for(lambda: len(player.changes()) >= seen + 3, "changes played offline", 30, player.log)
    restarted = player.changes()[seen:]
    assert not restarted[0].is_card  # the first frame already comes from the cache
    for change in restarted:
        assert change.name == slot_at(manifest, change.at)[0], change
