"""`signage demo`: the product on one machine, with the Cybersecurity Week on screen: the
server and a real player beside it. It assembles the whole product, like `server.app`."""

from __future__ import annotations

import signal
import subprocess
import sys

import click

from server.app import create_app
from server.cli import friendly, settings_from
from server.demo.player import start_demo_player
from server.demo.seed import DEMO_ADMIN, set_up


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on.",
)
@click.option("--no-serve", is_flag=True, help="Set up the demo data and exit.")
@click.option("--no-player", is_flag=True, help="Do not start the demo's screen player.")
@click.pass_context
@friendly
def demo(ctx: click.Context, host: str, port: int, no_serve: bool, no_player: bool) -> None:
    """Set up the demo (organisations, screens, the Cybersecurity Week campaign moved onto
    this week) in the instance folder, then run the server and a player beside it."""
    settings = settings_from(ctx)
    password = set_up(settings, click.echo)
    url = f"http://{host}:{port}"
    click.echo(f"Signage Scheduler demo at {url}")
    click.echo(f"  log in as {DEMO_ADMIN} with password {password}")
    click.echo(f"  API: {url}/api/v1/openapi.json · data in {settings.instance_path.resolve()}")
    if no_serve:
        return
    app = create_app(settings)
    # SIGTERM (a plain `kill`) unwinds like Ctrl-C, so the `finally` below stops the player.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # The player starts first and retries with backoff until the server below answers.
    screen = None if no_player else start_demo_player(settings, url, click.echo)
    try:
        app.run(host=host, port=port, threaded=True, use_reloader=False)
    finally:
        if screen is not None:
            screen.terminate()
            try:
                screen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                screen.kill()
