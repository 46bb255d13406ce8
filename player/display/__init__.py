"""Displays: one interface, one factory; backends are imported only when chosen."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal, Protocol

from PIL import Image

from player.errors import ConfigError
from player.manifest import Transition

DisplayKind = Literal["window", "fullscreen", "headless"]
DISPLAY_KINDS: tuple[DisplayKind, ...] = ("window", "fullscreen", "headless")


@dataclass(frozen=True)
class Frame:
    """A picture ready for the screen: `image` is RGB at the display's size.

    `name` is the asset's SHA-256 or a card name (`card:idle`, `card:pairing`); `playlist`
    is what it belongs to, for the change log.
    """

    image: Image.Image
    name: str
    playlist: str | None = None


class Display(Protocol):
    """Something that shows frames. There is no `clear`: a screen never goes black on purpose."""

    size: tuple[int, int]

    def prepare(self, frame: Frame) -> None:
        """Convert `frame` ahead of its `show` so the change itself costs nothing."""
        ...

    def show(self, frame: Frame, transition: Transition, at: datetime) -> None:
        """Replace what is on screen (cut, or crossfade from the current frame); `at` is the
        corrected instant of the change."""
        ...

    def snapshot(self) -> Image.Image:
        """What is on screen now, as an RGB image."""
        ...

    def pump(self) -> bool:
        """Handle window events; False when the user closed the window."""
        ...

    def close(self) -> None: ...


def open_display(
    kind: DisplayKind,
    size: tuple[int, int] | None,
    *,
    data_dir: Path,
    sleep: Callable[[float], None],
    crossfade_ms: int = 600,
    offset: Callable[[], timedelta] | None = None,
) -> Display:
    """Open the backend for `kind`; `size` None means the screen's own size (1920×1080 headless)."""
    if kind == "headless":
        from player.display.headless import HeadlessDisplay

        if offset is None:
            return HeadlessDisplay(size or (1920, 1080), data_dir)
        return HeadlessDisplay(size or (1920, 1080), data_dir, offset)
    if kind in ("window", "fullscreen"):
        from player.display.pygame_backend import PygameDisplay

        return PygameDisplay(
            size, fullscreen=kind == "fullscreen", sleep=sleep, crossfade_ms=crossfade_ms
        )
    raise ConfigError(f"unknown display {kind!r}; choose one of {', '.join(DISPLAY_KINDS)}")
