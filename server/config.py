"""Settings: documented defaults ▸ `<instance>/signage.toml` ▸ `SIGNAGE_*` environment variables.

Read and validated once, in `create_app()` or a CLI command; a bad value raises ConfigError
naming the variable, and start-up stops there.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from server.errors import ConfigError
from server.faults import POINTS
from server.media.s3 import parse_s3_url

ENV_PREFIX = "SIGNAGE_"
SETTINGS_FILE = "signage.toml"
SECRET_FILE = "secret_key"  # noqa: S105 - a file name


class Settings(BaseModel):
    """Every setting, its type and its default. The README's configuration table mirrors this."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    instance_path: Path = Field(
        default=Path("instance"),
        description="Folder for the SQLite database, media and instance settings.",
    )
    database_url: str = Field(
        default="", description="SQLAlchemy URL; default: SQLite file in the instance folder."
    )
    secret_key: str = Field(
        default="",
        description="Signs session cookies; generated into the instance folder when unset.",
    )
    media_path: Path | None = Field(
        default=None,
        description="Local media store; default: <instance>/media. With media_url, only "
        "uploads being staged are kept here.",
    )
    media_url: str = Field(
        default="",
        description="Media in an S3-compatible bucket instead of media_path: "
        "s3://BUCKET[/PREFIX][?endpoint=URL&region=REGION&addressing=path|virtual|auto"
        "&public_endpoint=URL] (MinIO, Ceph RGW, Aliyun OSS, AWS). Credentials come from "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or boto3's other sources). Empty: "
        "local disk. See docs/scaling.md.",
    )
    media_redirect_s: int = Field(
        default=0,
        ge=0,
        le=7 * 24 * 3600,
        description="With media in S3: answer /media/{sha256} of published content with a "
        "redirect to a presigned URL valid this many seconds, instead of streaming the bytes "
        "through the server (0).",
    )
    max_upload_bytes: int = Field(
        default=64 * 1024 * 1024, gt=0, description="Largest accepted upload."
    )
    max_image_pixels: int = Field(
        default=89_000_000,
        gt=0,
        le=89_000_000,  # Pillow's decompression-bomb guard starts just above this
        description="Largest accepted image, in pixels.",
    )
    screen_profiles: tuple[str, ...] = Field(
        default=("1920x1080", "1080x1920", "3840x2160", "1280x720"),
        description="Screen resolutions variants are made for.",
    )
    poll_interval_s: int = Field(default=30, ge=1, le=3600, description="How often players poll.")
    publish_margin_s: int = Field(
        default=30,
        ge=0,
        le=3600,
        description="Added to the poll interval before a publish takes effect.",
    )
    manifest_horizon_h: int = Field(
        default=48, ge=24, le=24 * 14, description="How far ahead a manifest reaches."
    )
    heartbeat_flush_s: float = Field(
        default=5.0, gt=0, le=300, description="How often each worker writes last-seen times."
    )
    offline_after_polls: int = Field(
        default=3, ge=1, le=100, description="Missed polls before a screen counts as offline."
    )
    heartbeat_thread: bool = Field(
        default=True,
        description="Flush heartbeats from a background thread in each server process "
        "(never under app.testing; tests flush explicitly).",
    )
    player_concurrency: int = Field(
        default=16,
        ge=0,
        le=10_000,
        description="Player requests one process serves at once; more get 503 with "
        "Retry-After (0: no limit).",
    )
    player_max_queue_ms: int = Field(
        default=5000,
        ge=0,
        le=600_000,
        description="A player request that waited longer than this in front of the app (per "
        "the X-Request-Start header a proxy sets) gets 503 with Retry-After (0: off).",
    )
    screenshot_max_bytes: int = Field(
        default=2 * 1024 * 1024, gt=0, description="Largest screenshot a player may upload."
    )
    clock_file: Path | None = Field(
        default=None,
        description="TESTS AND DEMOS ONLY: a file that sets the server clock (an RFC 3339 "
        "instant, or +/- seconds from the system clock); see server.clock.FileClock.",
    )
    job_check_s: float = Field(
        default=30,
        ge=0.05,
        le=3600,
        description="How often the job runner checks its lease and what is due; a lease "
        "lasts three checks, so another node's runner takes over within that after a crash.",
    )
    job_gate_dir: Path | None = Field(
        default=None,
        description="TESTS ONLY: adds an hourly job `gate` that, on each tick, writes "
        "<dir>/<tick>.started and waits for <dir>/<tick>.go (see server.jobs.gate_job).",
    )
    faults: tuple[str, ...] = Field(
        default=(),
        description="TESTS ONLY: comma-separated fault points (server.faults.POINTS) where the "
        "process kills itself, to test what a crash there leaves. Never set in production.",
    )
    play_retention_days: int = Field(
        default=730, ge=1, le=36500, description="How long proof-of-play events are kept."
    )
    trusted_proxies: tuple[str, ...] = Field(
        default=(),
        description="Addresses or networks (comma-separated, e.g. 127.0.0.1,10.0.0.0/8) of the "
        "proxies whose X-Forwarded-For names the client; from anyone else it is ignored.",
    )
    pairings_per_address: int = Field(
        default=30,
        ge=1,
        le=1_000_000,
        description="New pairings (hellos from unknown players) one source address may open "
        "per 10 minutes; more get 429 with Retry-After.",
    )
    claim_failures_per_organisation: int = Field(
        default=10,
        ge=1,
        le=1_000_000,
        description="Wrong pairing codes claimed into one organisation per 10 minutes before "
        "its claims get 429 with Retry-After.",
    )
    claim_failures_per_address: int = Field(
        default=20,
        ge=1,
        le=1_000_000,
        description="Wrong pairing codes claimed from one source address per 10 minutes "
        "before its claims get 429 with Retry-After.",
    )
    alert_digest_s: int = Field(
        default=60,
        ge=0,
        le=3600,
        description="A channel's alerts are held until none came for this long, then sent "
        "together: a power cut is one message listing its screens.",
    )
    alert_timeout_s: float = Field(
        default=10.0, gt=0, le=120, description="Timeout of one webhook call or SMTP session."
    )
    smtp_host: str = Field(default="", description="SMTP server for alert e-mail (unset: none).")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="SMTP server port.")
    smtp_from: str = Field(
        default="signage@localhost", max_length=320, description="Sender of alert e-mail."
    )
    smtp_username: str = Field(default="", description="SMTP login (unset: none).")
    smtp_password: str = Field(default="", description="SMTP password.")
    smtp_starttls: bool = Field(default=False, description="Upgrade SMTP with STARTTLS.")
    metrics_token: str = Field(
        default="",
        description="A bearer token that may read /metrics from anywhere (unset: none).",
    )
    metrics_allow: tuple[str, ...] = Field(
        default=("127.0.0.1/32", "::1/128"),
        description="Addresses or networks that may read /metrics without the token, when "
        "they connect directly (a request through a proxy needs the token).",
    )
    log_level: str = Field(default="INFO", description="Python logging level.")
    session_cookie_secure: bool = Field(
        default=False, description="Send the session cookie over HTTPS only."
    )

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        value = value.upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return value

    @field_validator("media_url")
    @classmethod
    def _media_url(cls, value: str) -> str:
        value = value.strip()
        if value:
            parse_s3_url(value)  # ValueError says what is wrong
        return value

    @field_validator("metrics_allow", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [p.strip() for p in value.split(",") if p.strip()]
        for network in value:
            try:
                ipaddress.ip_network(str(network), strict=False)
            except ValueError:
                raise ValueError(f"{network!r} is not an address or network") from None
        return tuple(str(n) for n in value)

    @field_validator("screen_profiles", mode="before")
    @classmethod
    def _split_profiles(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [p.strip() for p in value.split(",") if p.strip()]
        for profile in value:
            width, sep, height = str(profile).partition("x")
            if not (
                sep and width.isdigit() and height.isdigit() and int(width) > 0 and int(height) > 0
            ):
                raise ValueError(f"{profile!r} is not WIDTHxHEIGHT")
        return tuple(value)

    @field_validator("faults", mode="before")
    @classmethod
    def _known_faults(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [p.strip() for p in value.split(",") if p.strip()]
        unknown = [p for p in value if p not in POINTS]
        if unknown:
            raise ValueError(f"unknown fault points {unknown}; known: {', '.join(POINTS)}")
        return tuple(value)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [p.strip() for p in value.split(",") if p.strip()]
        for proxy in value:
            try:
                ipaddress.ip_network(str(proxy), strict=False)
            except ValueError:
                raise ValueError(f"{proxy!r} is not an IP address or network") from None
        return tuple(str(p) for p in value)

    @property
    def media_root(self) -> Path:
        return self.media_path or self.instance_path / "media"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Merge defaults, the instance file, the environment and `overrides` (tests), then validate."""
    environ = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    origin: dict[str, str] = {}
    overrides = dict(overrides or {})

    instance = Path(
        overrides.get("instance_path") or environ.get(env_name("instance_path")) or "instance"
    )
    settings_file = instance / SETTINGS_FILE
    if settings_file.is_file():
        try:
            from_file = tomllib.loads(settings_file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{settings_file}: {exc}") from exc
        for key, value in from_file.items():
            raw[key] = value
            origin[key] = f"{settings_file}: {key}"
    for key in Settings.model_fields:
        name = env_name(key)
        if name in environ and environ[name] != "":
            raw[key] = environ[name]
            origin[key] = name
    for key, value in overrides.items():
        raw[key] = value
        origin[key] = key
    raw["instance_path"] = instance

    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = str(first["loc"][0]) if first["loc"] else "?"
        where = origin.get(key, env_name(key))
        raise ConfigError(f"{where}: {first['msg']}") from None

    if not settings.database_url:
        default_db = f"sqlite:///{(instance / 'signage.db').resolve()}"
        settings = settings.model_copy(update={"database_url": default_db})
    return settings


def with_secret(settings: Settings) -> Settings:
    """The settings with a secret key: the configured one, else the instance's own.

    Only the web app signs cookies, so only `create_app` asks for this; commands that
    merely read settings never create an instance folder or a secret.
    """
    if settings.secret_key:
        return settings
    return settings.model_copy(update={"secret_key": _instance_secret(settings.instance_path)})


def _instance_secret(instance: Path) -> str:
    """The secret kept in the instance folder, created (owner-only) on first use."""
    path = instance / SECRET_FILE
    try:
        if path.is_file():
            return path.read_text(encoding="utf-8").strip()
        instance.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(secret + "\n")
        return secret
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(
            f"{env_name('secret_key')} is unset and {path} cannot be written: {exc}"
        ) from exc
