"""The headless display: the current frame as a PNG and one change-log line per change.

`data_dir/frames/current.png` is replaced atomically; `data_dir/changes.log` gets
`<corrected time, ISO with ms>\t<asset sha256 or card name>\t<playlist or ->\t<transition>`
`\t<clock offset ms>` per change, the offset being the correction applied to the local
clock (corrected − local). Integration tests compare these logs between players.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from PIL import Image

from player.clock import iso_ms
from player.display import Frame
from player.files import atomic_write_with
from player.manifest import Transition

LOG_MAX_BYTES = 5 * 1024 * 1024


def _no_offset() -> timedelta:
    return timedelta(0)


class HeadlessDisplay:
    def __init__(
        self,
        size: tuple[int, int],
        data_dir: Path,
        offset: Callable[[], timedelta] = _no_offset,
    ) -> None:
        self.size = size
        self._offset = offset
        self.frame_path = data_dir / "frames" / "current.png"
        self.log_path = data_dir / "changes.log"
        self.frame_path.parent.mkdir(parents=True, exist_ok=True)
        self._current: Image.Image | None = None

    def prepare(self, frame: Frame) -> None:
        pass

    def show(self, frame: Frame, transition: Transition, at: datetime) -> None:
        # Encoded straight into the file: the PNG of a full-HD frame is megabytes.
        atomic_write_with(self.frame_path, lambda f: frame.image.save(f, "PNG", compress_level=1))
        self._current = frame.image
        offset_ms = round(self._offset() / timedelta(milliseconds=1))
        name, playlist = frame.name, frame.playlist or "-"
        self._log(f"{iso_ms(at)}\t{name}\t{playlist}\t{transition}\t{offset_ms:+d}\n")

    def _log(self, line: str) -> None:
        try:
            if self.log_path.stat().st_size > LOG_MAX_BYTES:
                os.replace(self.log_path, self.log_path.with_name(self.log_path.name + ".1"))
        except FileNotFoundError:
            pass
        with open(self.log_path, "a", encoding="utf-8") as log:
            log.write(line)

    def snapshot(self) -> Image.Image:
        if self._current is None:
            return Image.new("RGB", self.size, (0, 0, 0))
        return self._current.copy()

    def pump(self) -> bool:
        return True

    def close(self) -> None:
        pass
