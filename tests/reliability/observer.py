"""An observer, outside the players: it watches each headless player's frame file with
inotify and timestamps every new frame on its own (system) clock, not the players'.

Run as a process by `Observer` (tests/reliability/test_lockstep.py and friends):

    python observer.py OUT NAME=FRAMES_DIR [NAME=FRAMES_DIR ...]

It prints `ready` once every folder is watched, then appends to OUT one line per new frame:
`NAME<TAB>unix time in ns<TAB>R,G,B` (the colour at the frame's centre, read after the
timestamp was taken). The headless display replaces `current.png` by a rename, so one
IN_MOVED_TO is one frame on screen.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

FRAME = "current.png"


def main(argv: list[str]) -> None:
    from inotify_simple import INotify, flags
    from PIL import Image

    out_path, pairs = Path(argv[0]), [a.split("=", 1) for a in argv[1:]]
    inotify = INotify()
    names = {}
    for name, folder in pairs:
        Path(folder).mkdir(parents=True, exist_ok=True)
        names[inotify.add_watch(folder, flags.MOVED_TO | flags.CLOSE_WRITE)] = (name, folder)
    print("ready", flush=True)
    with open(out_path, "a", encoding="ascii", buffering=1) as out:
        while True:
            events = inotify.read()
            stamp = time.time_ns()  # first thing after the kernel woke us
            for event in events:
                if event.name != FRAME:
                    continue
                name, folder = names[event.wd]
                try:
                    with Image.open(Path(folder) / FRAME) as image:
                        pixel = image.convert("RGB").getpixel((image.width // 2, image.height // 2))
                    colour = ",".join(str(c) for c in pixel)  # type: ignore[union-attr]
                except (OSError, ValueError):
                    colour = "?"
                out.write(f"{name}\t{stamp}\t{colour}\n")


@dataclass(frozen=True)
class Seen:
    """One new frame on one player's screen, as the observer saw it."""

    player: str
    at: datetime
    colour: tuple[int, int, int] | None


class Observer:
    """The observer process and what it has seen so far."""

    def __init__(self, out: Path, frames: dict[str, Path]) -> None:
        self.out = out
        self.frames = frames
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> Observer:
        self.process = subprocess.Popen(  # noqa: S603 - our own script
            [sys.executable, __file__, str(self.out)]
            + [f"{name}={folder}" for name, folder in self.frames.items()],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line.strip() == "ready", f"the observer did not start: {line!r}"
        return self

    def stop(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                self.process.wait(10)
            if self.process.stdout is not None:
                self.process.stdout.close()

    def seen(self, player: str | None = None) -> list[Seen]:
        if not self.out.exists():
            return []
        found = []
        for line in self.out.read_text(encoding="ascii").splitlines():
            parts = line.split("\t")
            if len(parts) != 3 or (player is not None and parts[0] != player):
                continue
            colour = tuple(int(c) for c in parts[2].split(",")) if parts[2] != "?" else None
            at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(parts[1]) // 1000)
            found.append(Seen(parts[0], at, colour))  # type: ignore[arg-type]
        return found


@contextmanager
def observing(out: Path, frames: dict[str, Path]) -> Iterator[Observer]:
    observer = Observer(out, frames).start()
    try:
        yield observer
    finally:
        observer.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
