"""Plays and seconds on screen per day as bar geometry, for a server-rendered SVG chart
(the template draws it; no chart library, no script)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final

from server.reports.plays import Report

WIDTH: Final = 720
HEIGHT: Final = 200
GAP: Final = 2


@dataclass(frozen=True)
class Bar:
    day: date
    value: float
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Series:
    name: str  # "plays" or "seconds"
    maximum: float
    bars: tuple[Bar, ...]


def per_day(report: Report, first: date, last: date) -> dict[date, tuple[int, float]]:
    """(plays, seconds) for every day in [first, last], zero where nothing played."""
    totals = {first + timedelta(days=n): (0, 0.0) for n in range((last - first).days + 1)}
    for row in report.rows:
        if row.day is not None and row.day in totals:
            plays, seconds = totals[row.day]
            totals[row.day] = (plays + row.plays, seconds + row.seconds)
    return totals


def bars(values: dict[date, float], name: str) -> Series:
    """One bar per day, scaled so the largest fills HEIGHT; days left to right."""
    days = sorted(values)
    top = max(values.values(), default=0.0)
    step = WIDTH / max(len(days), 1)
    out = []
    for i, day in enumerate(days):
        height = HEIGHT * values[day] / top if top else 0.0
        out.append(
            Bar(
                day=day,
                value=values[day],
                x=round(i * step + GAP / 2, 2),
                y=round(HEIGHT - height, 2),
                width=round(max(step - GAP, 1), 2),
                height=round(height, 2),
            )
        )
    return Series(name, top, tuple(out))


def day_charts(report: Report, first: date, last: date) -> tuple[Series, Series]:
    totals = per_day(report, first, last)
    return (
        bars({d: float(p) for d, (p, _) in totals.items()}, "plays"),
        bars({d: s for d, (_, s) in totals.items()}, "seconds"),
    )
