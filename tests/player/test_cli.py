"""`signage-player` options: command line, environment, defaults, and refusals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from player.cli import clock_from, default_display, parse_args, settings_from
from player.clock import FileOffsetClock, SkewedClock, SystemClock
from player.files import lock_directory

ROOT = Path(__file__).resolve().parents[2]


def test_options_from_the_command_line(tmp_path: Path) -> None:
    args = parse_args(
        [
            "--server",
            "https://signage.example.org/",
            "--data-dir",
            str(tmp_path),
            "--display",
            "headless",
            "--size",
            "1280x720",
            "--enrol-token",
            "sge_abc",
            "--name",
            "Lobby left",
            "--hardware-id",
            "b8:27:eb:12:34:56",
            "--cache-quota",
            "500M",
            "--screenshot-interval",
            "0",
        ],
        env={},
    )
    settings = settings_from(args)
    assert settings.server == "https://signage.example.org"
    assert settings.data_dir == tmp_path and settings.display == "headless"
    assert settings.size == (1280, 720)
    assert settings.enrol_token == "sge_abc" and settings.name == "Lobby left"
    assert settings.hardware_id == "b8:27:eb:12:34:56"
    assert settings.cache_quota_bytes == 500 * 1024**2
    assert settings.screenshot_interval_s == 0


def test_every_option_can_come_from_the_environment(tmp_path: Path) -> None:
    env = {
        "SIGNAGE_PLAYER_SERVER": "http://10.0.0.5:8000",
        "SIGNAGE_PLAYER_DATA_DIR": str(tmp_path),
        "SIGNAGE_PLAYER_DISPLAY": "fullscreen",
        "SIGNAGE_PLAYER_ENROL_TOKEN": "sge_env",
        "SIGNAGE_PLAYER_NAME": "Platform 2",
        "SIGNAGE_PLAYER_CACHE_QUOTA": "1.5G",
        "SIGNAGE_PLAYER_SCREENSHOT_INTERVAL": "60",
        "SIGNAGE_PLAYER_VERIFY_CACHE": "1",
        "SIGNAGE_PLAYER_LOG_LEVEL": "debug",
    }
    args = parse_args([], env)
    settings = settings_from(args)
    assert settings.server == "http://10.0.0.5:8000" and settings.display == "fullscreen"
    assert settings.size is None  # fullscreen: the screen's own size
    assert settings.cache_quota_bytes == int(1.5 * 1024**3)
    assert settings.screenshot_interval_s == 60 and settings.verify_cache
    assert args.log_level == "DEBUG"
    # The command line wins over the environment.
    assert parse_args(["--display", "headless"], env).display == "headless"


def test_defaults(tmp_path: Path) -> None:
    args = parse_args(["--server", "http://s"], {"XDG_DATA_HOME": str(tmp_path)})
    settings = settings_from(args)
    assert settings.data_dir == tmp_path / "signage-player"
    assert settings.cache_quota_bytes == 2 * 1024**3
    assert settings.screenshot_interval_s == 300
    assert args.display == "headless"  # no DISPLAY in this environment


def test_a_window_by_default_on_a_desktop() -> None:
    assert default_display({"DISPLAY": ":0"}) == "window"
    assert default_display({"WAYLAND_DISPLAY": "wayland-0"}) == "window"
    assert default_display({}) == "headless"
    settings = settings_from(parse_args(["--server", "http://s"], {"DISPLAY": ":0"}))
    assert settings.display == "window" and settings.size == (1280, 720)


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        ([], {}, "--server (or SIGNAGE_PLAYER_SERVER) is required"),
        (["--server", "ftp://x"], {}, "is not an http(s) URL"),
        (["--server", "http://s", "--size", "big"], {}, "is not WIDTHxHEIGHT"),
        (["--server", "http://s", "--cache-quota", "lots"], {}, "is not a size"),
        (["--server", "http://s", "--display", "tv"], {}, "invalid choice"),
        (["--server", "http://s", "--screenshot-interval", "-1"], {}, "0 (off) or more"),
        (["--server", "http://s", "--hardware-id", "has space"], {}, "printable ASCII"),
        (
            ["--server", "http://s"],
            {"SIGNAGE_PLAYER_CACHE_QUOTA": "2X"},
            "SIGNAGE_PLAYER_CACHE_QUOTA: '2X' is not a size",
        ),
        (["--server", "http://s"], {"SIGNAGE_PLAYER_DISPLAY": "tv"}, "SIGNAGE_PLAYER_DISPLAY"),
        (["--server", "http://s", "--bogus"], {}, "unrecognized arguments: --bogus"),
    ],
)
def test_bad_options_are_one_clear_line_and_exit_2(
    argv: list[str], env: dict[str, str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        parse_args(argv, env)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("signage-player: error: ")
    assert message in err


def test_help_explains_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        parse_args(["--help"], {})
    assert caught.value.code == 0
    out = capsys.readouterr().out
    for option in (
        "--server",
        "--data-dir",
        "--display",
        "--enrol-token",
        "--name",
        "--cache-quota",
        "--screenshot-interval",
        "SIGNAGE_PLAYER_",
    ):
        assert option in out
    assert "--clock-skew-ms" not in out  # test-only options stay out of the help


def test_test_only_clock_options(tmp_path: Path) -> None:
    assert isinstance(clock_from(parse_args(["--server", "http://s"], {})), SystemClock)
    args = parse_args(["--server", "http://s"], {"SIGNAGE_PLAYER_CLOCK_SKEW_MS": "-2500"})
    skewed = clock_from(args)
    assert isinstance(skewed, SkewedClock) and skewed.skew == timedelta(milliseconds=-2500)
    args = parse_args(["--server", "http://s", "--fake-time-file", str(tmp_path / "t")], {})
    assert isinstance(clock_from(args), FileOffsetClock)


def test_a_real_player_process_shows_the_pairing_card_then_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    """No server at all (a closed port): the first frame appears, SIGTERM ends it cleanly."""
    data = tmp_path / "data"
    env = {**os.environ, "SIGNAGE_PLAYER_SERVER": "http://127.0.0.1:9", "PYTHONPATH": str(ROOT)}
    env.pop("DISPLAY", None)
    env.pop("NOTIFY_SOCKET", None)
    stderr = tmp_path / "stderr.txt"
    log = data / "changes.log"
    with (
        open(stderr, "w") as err,
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "player.cli",
                "--data-dir",
                str(data),
                "--size",
                "320x180",
                "--hardware-id",
                "test-player-1",
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=err,
        ) as process,
    ):
        try:
            deadline = time.monotonic() + 30
            while not log.exists() and time.monotonic() < deadline and process.poll() is None:
                time.sleep(0.05)  # waiting for the process, not for the player's time
            assert log.exists(), stderr.read_text()
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=30) == 0, stderr.read_text()
        finally:
            if process.poll() is None:
                process.kill()
    assert log.read_text().split("\t")[1] == "card:pairing"
    assert (data / "frames" / "current.png").exists()
    assert (data / "logs" / "player.log").read_text().count("stopped with exit code 0") == 1


def test_a_second_player_on_the_same_data_dir_refuses_to_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    fd = lock_directory(data)  # as a running player holds it
    try:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("DISPLAY", None)
        result = subprocess.run(
            [sys.executable, "-m", "player.cli", "--server", "http://127.0.0.1:9"]
            + ["--data-dir", str(data), "--display", "headless", "--hardware-id", "x"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        os.close(fd)
    assert result.returncode == 1
    assert "another player uses" in result.stderr
    assert not (data / "changes.log").exists()  # it showed nothing, touched nothing
