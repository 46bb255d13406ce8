"""The headless display: the current frame as a PNG and one change-log line per change.

`data_dir/frames/current.png` is replaced atomically; `data_dir/changes.log` gets
`<corrected time, ISO with ms>\t<asset sha256 or card name>\t<playlist or ->\t<transition>`
per change. Integration tests compare these logs between players.
"""

from __future__ import annotations

import io
import os
from datetime import datetime
from pathlib import Path

from PIL import Image

from player.clock import iso_ms
from player.display import Frame
from player.files import atomic_write_bytes
from player.manifest import Transition

LOG_MAX_BYTES = 5 * 1024 * 1024


class HeadlessDisplay:
    def __init__(self, size: tuple[int, int], data_dir: Path) -> None:
        self.size = size
        self.frame_path = data_dir / "frames" / "current.png"
        self.log_path = data_dir / "changes.log"
        self.frame_path.parent.mkdir(parents=True, exist_ok=True)
        self._current: Image.Image | None = None

    def prepare(self, frame: Frame) -> None:
        pass

    def show(self, frame: Frame, transition: Transition, at: datetime) -> None:
        buffer = io.BytesIO()
        frame.image.save(buffer, "PNG", compress_level=1)
        atomic_write_bytes(self.frame_path, buffer.getvalue())
        self._current = frame.image
        self._log(f"{iso_ms(at)}\t{frame.name}\t{frame.playlist or '-'}\t{transition}\n")

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
