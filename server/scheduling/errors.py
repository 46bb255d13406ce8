"""The engine's one error: input it cannot schedule. Callers turn it into their own errors."""

from __future__ import annotations


class InvalidSchedule(ValueError):
    """A rule, screen or instant the engine refuses; `field` names the offending input."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
