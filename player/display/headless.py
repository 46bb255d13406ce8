"""The headless display: the current frame as a PNG and one change-log line per change.

`data_dir/frames/current.png` is replaced atomically; `data_dir/changes.log` gets
`<corrected time, ISO with ms>\t<asset sha256 or card name>\t<playlist or ->\t<transition>`
`\t<clock offset ms>` per change, the offset being the correction applied to the local
clock (corrected − local). Integration tests compare these logs between players, and the
reliability tests watch the frame file from outside (inotify) to time each change.

`prepare` writes the next frame beside the current one, so that at the boundary showing it
is one rename. A frame is a picture of the screen, not data: it is never fsynced, which on
a busy disk took tens of milliseconds at the boundary.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from PIL import Image

from player.clock import iso_ms
from player.display import Frame
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
        for stale in self.frame_path.parent.glob(".frame-*"):  # prepared before a crash
            stale.unlink(missing_ok=True)
        self._current: Image.Image | None = None
        self._prepared: tuple[Frame, Path] | None = None

    def _encode(self, frame: Frame) -> Path:
        """The frame as a PNG file beside the current one (not yet on screen)."""
        # Encoded straight into the file: the PNG of a full-HD frame is megabytes.
        fd, tmp = tempfile.mkstemp(prefix=".frame-", suffix=".png", dir=self.frame_path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                frame.image.save(f, "PNG", compress_level=1)
        except BaseException:
            os.unlink(tmp)
            raise
        return Path(tmp)

    def _drop_prepared(self) -> None:
        if self._prepared is not None:
            self._prepared[1].unlink(missing_ok=True)
            self._prepared = None

    def prepare(self, frame: Frame) -> None:
        self._drop_prepared()
        self._prepared = (frame, self._encode(frame))

    def show(self, frame: Frame, transition: Transition, at: datetime) -> None:
        if self._prepared is not None and self._prepared[0] is frame:
            ready, self._prepared = self._prepared[1], None
        else:
            ready = self._encode(frame)
        os.replace(ready, self.frame_path)
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
        self._drop_prepared()
