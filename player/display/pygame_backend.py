"""Window and fullscreen display on SDL2 through pygame (KMSDRM on a bare console, X11, Wayland).

Frames arrive already decoded and fitted; `prepare` also converts the next one to a surface,
so a change is a blit (cut) or a short blend from the old frame to the new one (crossfade),
never a gap. Works under `SDL_VIDEODRIVER=dummy` or `offscreen` for tests.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from typing import Any

from PIL import Image

from player.display import Frame
from player.errors import PlayerError
from player.manifest import Transition

_FPS = 30


class PygameDisplay:
    def __init__(
        self,
        size: tuple[int, int] | None,
        *,
        fullscreen: bool,
        sleep: Callable[[float], None],
        crossfade_ms: int = 600,
    ) -> None:
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        import pygame

        self._pg: Any = pygame
        self._fullscreen = fullscreen
        self._sleep = sleep
        self._steps = max(1, round(crossfade_ms / 1000 * _FPS))
        try:
            pygame.display.init()
            flags = pygame.FULLSCREEN if fullscreen else 0
            self._screen = pygame.display.set_mode(
                (0, 0) if fullscreen or size is None else size, flags
            )
        except pygame.error as exc:
            raise PlayerError(f"cannot open the display: {exc}") from exc
        pygame.display.set_caption("Signage player")
        if fullscreen:
            pygame.mouse.set_visible(False)
        self.size: tuple[int, int] = self._screen.get_size()
        self._prepared: tuple[Frame, Any] | None = None
        self._current: Any = None

    def _surface(self, frame: Frame) -> Any:
        if self._prepared is not None and self._prepared[0] is frame:
            return self._prepared[1]
        image = frame.image if frame.image.size == self.size else frame.image.resize(self.size)
        return self._pg.image.frombytes(image.convert("RGB").tobytes(), self.size, "RGB")

    def prepare(self, frame: Frame) -> None:
        self._prepared = (frame, self._surface(frame))

    def compose(self, before: Any, after: Any, progress: float) -> None:
        """Draw the crossfade between two surfaces at `progress` in [0, 1] (not flipped)."""
        self._screen.blit(before, (0, 0))
        after.set_alpha(round(255 * max(0.0, min(1.0, progress))))
        self._screen.blit(after, (0, 0))
        after.set_alpha(None)

    def show(self, frame: Frame, transition: Transition, at: datetime) -> None:
        new = self._surface(frame)
        if transition == "crossfade" and self._current is not None:
            for step in range(1, self._steps):
                self.compose(self._current, new, step / self._steps)
                self._pg.display.flip()
                self._sleep(1 / _FPS)
        self._screen.blit(new, (0, 0))
        self._pg.display.flip()
        self._current = new

    def snapshot(self) -> Image.Image:
        data = self._pg.image.tobytes(self._screen, "RGB")
        return Image.frombytes("RGB", self.size, data)

    def pump(self) -> bool:
        pg = self._pg
        open_ = True
        for event in pg.event.get():
            if event.type == pg.QUIT and not self._fullscreen:
                open_ = False
            elif event.type in (pg.VIDEOEXPOSE, pg.WINDOWEXPOSED) and self._current is not None:
                self._screen.blit(self._current, (0, 0))
                pg.display.flip()
        return open_

    def close(self) -> None:
        self._pg.display.quit()
