"""A player's poll: answer 304 from the fingerprint alone, else assemble the document."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from server.campaigns.publications import screen_facts
from server.config import Settings
from server.delivery.cache import ManifestCache
from server.delivery.compile import assemble, commands_json, compile_part
from server.delivery.fingerprint import fingerprint
from server.errors import Unauthorized
from server.media.profiles import Profile
from server.media.store import MediaStore
from server.monitoring.metrics import Metrics
from server.screens.commands import pending_commands
from server.screens.devices import DeviceScreen
from server.screens.models import Screen


@dataclass(frozen=True)
class PollAnswer:
    etag: str
    body: bytes | None  # None: not modified

    @property
    def not_modified(self) -> bool:
        return self.body is None


@dataclass(frozen=True)
class Poller:
    """What answering a poll needs, made once per process (`server.delivery.runtime`)."""

    sessions: Callable[[], Session]  # the request's session, opened only on a miss
    store: MediaStore
    cache: ManifestCache
    settings: Settings
    profiles: tuple[Profile, ...]
    metrics: Metrics | None = None

    def answer(
        self, device: DeviceScreen, version: int, now: datetime, holds: Callable[[str], bool]
    ) -> PollAnswer:
        """The poll's answer; `holds(etag)` says whether the player already has that document.

        `device` and `version` come from the device lookup; a matching poll stops there,
        having opened no session and touched no cache. Otherwise the shared part comes from
        the cache, compiled on a miss; variants rendered on the way are committed before
        the part is cached, so every process finds them recorded.
        """
        fp = fingerprint(device, version, now, self.settings, self.profiles)
        if holds(fp.etag):
            return PollAnswer(fp.etag, None)
        content, schedule = self.cache.content(self.sessions(), fp.version, now)
        if content.version != fp.version:  # published while we looked: answer the newer one
            fp = fp.with_version(content.version)
            if holds(fp.etag):
                return PollAnswer(fp.etag, None)
        session = self.sessions()
        screen = session.get(Screen, device.id)
        if screen is None:  # deleted between the token check and now
            raise Unauthorized("this screen was deleted; pair again")
        facts = replace(screen_facts(session, screen, content), timezone=fp.timezone)
        key = (
            content.version,
            schedule.screen_key(facts),
            str(fp.profile),
            fp.day,
            fp.horizon_days,
            fp.poll_interval_s,
        )

        built = False

        def build() -> str:
            nonlocal built
            built = True
            started = time.perf_counter()
            part = compile_part(
                session,
                self.store,
                content,
                schedule,
                facts,
                fp,
                self.profiles,
                now,
                max_pixels=self.settings.max_image_pixels,
            )
            session.commit()  # variants rendered on the way are recorded for every process
            if self.metrics is not None:
                self.metrics.compiled(time.perf_counter() - started)
            return part

        part = self.cache.part(key, build)
        if self.metrics is not None and not built:
            self.metrics.cache_hits.inc()
        commands = pending_commands(session, device.id) if device.command_seq else []
        return PollAnswer(fp.etag, assemble(fp.etag, part, commands_json(commands)))
