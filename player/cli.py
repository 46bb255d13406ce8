"""`signage-player`: run a screen player. Every option can also come from the environment."""

from __future__ import annotations

import argparse
import importlib.util
import logging
import logging.handlers
import os
import re
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn
from urllib.parse import urlsplit

from player import __version__
from player.agent import Settings, build_agent
from player.clock import Clock, FileOffsetClock, SkewedClock, SystemClock
from player.display import DISPLAY_KINDS, DisplayKind
from player.errors import ConfigError, PlayerError
from player.files import lock_directory
from player.memory import tune_malloc
from player.state import valid_hardware_id

EXIT_USAGE = 2
ENV_PREFIX = "SIGNAGE_PLAYER_"
_SIZE = re.compile(r"^(\d{2,5})x(\d{2,5})$")
_BYTES = re.compile(r"^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$", re.IGNORECASE)
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


class _Parser(argparse.ArgumentParser):
    """argparse, but a bad option is one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def parse_size(text: str) -> tuple[int, int]:
    match = _SIZE.match(text.strip().lower())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT, e.g. 1920x1080")
    return int(match.group(1)), int(match.group(2))


def parse_bytes(text: str) -> int:
    match = _BYTES.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 500M or 2G")
    value = int(float(match.group(1)) * _UNITS[match.group(2).upper()])
    if value <= 0:
        raise argparse.ArgumentTypeError("the cache quota must be more than 0 bytes")
    return value


def parse_server(text: str) -> str:
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http(s) URL")
    return text.strip().rstrip("/")


def parse_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 (off) or more seconds")
    return value


def parse_hardware_id(text: str) -> str:
    if not valid_hardware_id(text):
        raise argparse.ArgumentTypeError("must be 1-128 printable ASCII characters, no spaces")
    return text


def parse_skew(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of ms") from None


def default_data_dir(env: Mapping[str, str]) -> str:
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(base) / "signage-player")


def default_display(env: Mapping[str, str]) -> DisplayKind:
    """A window when there is a desktop and pygame, else headless."""
    has_desktop = bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))
    if has_desktop and importlib.util.find_spec("pygame") is not None:
        return "window"
    return "headless"


# option dest ▸ (parser, built-in default); an unset option falls back to SIGNAGE_PLAYER_<DEST>,
# checked by the same parser, then to the default.
_TYPED: dict[str, tuple[Callable[[str], Any], str | None]] = {
    "server": (parse_server, None),
    "size": (parse_size, None),
    "cache_quota": (parse_bytes, "2G"),
    "screenshot_interval": (parse_seconds, "300"),
    "hardware_id": (parse_hardware_id, None),
    "clock_skew_ms": (parse_skew, None),
    "data_dir": (Path, None),
    "fake_time_file": (Path, None),
    "enrol_token": (str, None),
    "name": (str, None),
    "font": (str, None),
}


def build_parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    p = _Parser(
        prog="signage-player",
        description="Play the programme a Signage Scheduler server publishes for this screen: "
        "pair once, then poll, cache and play, offline if need be. Every option may also be "
        f"set as an environment variable {ENV_PREFIX}<OPTION> (e.g. {ENV_PREFIX}SERVER, "
        f"{ENV_PREFIX}CACHE_QUOTA); the command line wins.",
    )
    p.add_argument("--version", action="version", version=f"signage-player {__version__}")
    p.add_argument(
        "--server",
        metavar="URL",
        type=parse_server,
        help="base URL of the server, e.g. https://signage.example.org (required)",
    )
    p.add_argument(
        "--data-dir",
        metavar="DIR",
        type=Path,
        help="where the token, cache, saved manifest, journal and logs live "
        f"(default: {default_data_dir(env)})",
    )
    p.add_argument(
        "--display",
        choices=DISPLAY_KINDS,
        help="window, fullscreen (SDL2 via pygame) or headless (frames to "
        "DATA_DIR/frames/current.png); default: window on a desktop with pygame, else headless",
    )
    p.add_argument(
        "--size",
        metavar="WxH",
        type=parse_size,
        help="WIDTHxHEIGHT of the window or headless frames (default: 1280x720 window, "
        "1920x1080 headless; fullscreen uses the screen's own size)",
    )
    p.add_argument(
        "--enrol-token",
        metavar="TOKEN",
        help="enrolment token (sge_...) to pair without a code, for mass roll-out",
    )
    p.add_argument("--name", metavar="NAME", help="the name proposed for this screen when it pairs")
    p.add_argument(
        "--hardware-id",
        metavar="ID",
        type=parse_hardware_id,
        help="identity sent when pairing (default: MAC address of the first network card, "
        "else /etc/machine-id); give each player on one machine its own",
    )
    p.add_argument(
        "--cache-quota",
        metavar="BYTES",
        type=parse_bytes,
        help="most bytes of media to keep, e.g. 500M, 2G (default: 2G)",
    )
    p.add_argument(
        "--screenshot-interval",
        metavar="SECONDS",
        type=parse_seconds,
        help="seconds between screenshots sent to the server, 0 for none (default: 300)",
    )
    p.add_argument(
        "--font",
        metavar="FILE",
        help="TrueType/OpenType font file for the pairing and idle cards "
        "(default: a font with Chinese glyphs found through fontconfig)",
    )
    p.add_argument(
        "--verify-cache",
        action="store_true",
        default=None,
        help="re-hash every cached asset at start-up and drop damaged ones "
        "(the first frame waits for it)",
    )
    p.add_argument(
        "--log-level",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="log verbosity (default: INFO); logs go to stderr and DATA_DIR/logs",
    )
    # Test-only: shift this player's wall clock (docs/player.md, "Driving a player's clock").
    p.add_argument("--clock-skew-ms", type=parse_skew, help=argparse.SUPPRESS)
    p.add_argument("--fake-time-file", type=Path, help=argparse.SUPPRESS)
    return p


def parse_args(argv: Sequence[str] | None, env: Mapping[str, str]) -> argparse.Namespace:
    """Options from `argv`, then from `env`, then defaults; a bad one exits with status 2."""
    parser = build_parser(env)
    args = parser.parse_args(argv)
    for dest, (check, default) in _TYPED.items():
        if getattr(args, dest) is not None:
            continue
        var = ENV_PREFIX + dest.upper()
        raw = env.get(var) or default
        if raw is None:
            continue
        try:
            setattr(args, dest, check(raw))
        except argparse.ArgumentTypeError as exc:
            parser.error(f"{var}: {exc}" if var in env else str(exc))
    if args.data_dir is None:
        args.data_dir = Path(default_data_dir(env))
    if args.display is None:
        args.display = env.get(ENV_PREFIX + "DISPLAY") or default_display(env)
        if args.display not in DISPLAY_KINDS:
            parser.error(f"{ENV_PREFIX}DISPLAY: choose one of {', '.join(DISPLAY_KINDS)}")
    if args.log_level is None:
        args.log_level = env.get(ENV_PREFIX + "LOG_LEVEL", "INFO").upper()
        if args.log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            parser.error(f"{ENV_PREFIX}LOG_LEVEL: choose DEBUG, INFO, WARNING or ERROR")
    if args.verify_cache is None:
        args.verify_cache = env.get(ENV_PREFIX + "VERIFY_CACHE", "").lower() in ("1", "true", "yes")
    if not args.server:
        parser.error(f"--server (or {ENV_PREFIX}SERVER) is required")
    return args


def settings_from(args: argparse.Namespace) -> Settings:
    size = args.size
    if size is None and args.display == "window":
        size = (1280, 720)
    return Settings(
        server=args.server,
        data_dir=Path(args.data_dir),
        display=args.display,
        size=size,
        enrol_token=args.enrol_token or None,
        name=args.name or None,
        hardware_id=args.hardware_id,
        cache_quota_bytes=args.cache_quota,
        screenshot_interval_s=args.screenshot_interval,
        font=args.font or None,
        verify_cache=bool(args.verify_cache),
    )


def clock_from(args: argparse.Namespace) -> Clock:
    """The system clock, shifted by the test-only options if given."""
    clock: Clock = SystemClock()
    if args.fake_time_file is not None:
        clock = FileOffsetClock(clock, args.fake_time_file)
    if args.clock_skew_ms:
        clock = SkewedClock(clock, timedelta(milliseconds=args.clock_skew_ms))
    return clock


class _LogFile(logging.handlers.RotatingFileHandler):
    """The log file, which a full disk silences: the record still goes to stderr, without a
    traceback per record about the file."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handleError(record)


def configure_logging(data_dir: Path, level: str) -> None:
    """stderr (journald under systemd) and a bounded rotating file in DATA_DIR/logs."""
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    to_file = _LogFile(logs / "player.log", maxBytes=1024 * 1024, backupCount=5, encoding="utf-8")
    to_stderr = logging.StreamHandler(sys.stderr)
    root = logging.getLogger()
    root.setLevel(level)
    for handler in (to_file, to_stderr):
        handler.setFormatter(fmt)
        root.addHandler(handler)


def main(argv: Sequence[str] | None = None) -> int:
    tune_malloc()
    args = parse_args(argv, os.environ)
    settings = settings_from(args)
    try:
        configure_logging(settings.data_dir, args.log_level)
    except OSError as exc:
        print(f"signage-player: error: cannot use data dir: {exc}", file=sys.stderr)
        return EXIT_USAGE
    log = logging.getLogger("player")
    try:
        # Two players on one data directory would download into the same files.
        lock_directory(settings.data_dir)
    except BlockingIOError:
        log.error("another player is running on %s", settings.data_dir)
        print(f"signage-player: error: another player uses {settings.data_dir}", file=sys.stderr)
        return 1
    clock = clock_from(args)
    try:
        agent = build_agent(settings, clock)
    except (PlayerError, OSError) as exc:
        log.error("cannot start: %s", exc)
        print(f"signage-player: error: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, ConfigError) else 1

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        agent.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info(
        "signage-player %s: server %s, data %s", __version__, settings.server, settings.data_dir
    )
    code = agent.run()
    log.info("stopped with exit code %d", code)
    return code


if __name__ == "__main__":
    sys.exit(main())
