"""Per-day bars for the reports chart: every day present, scaled to the largest."""

from __future__ import annotations

from datetime import UTC, date, datetime

from server.reports.chart import HEIGHT, WIDTH, day_charts
from server.reports.plays import Report, ReportRow


def row(day: date, plays: int, seconds: float) -> ReportRow:
    return ReportRow(day, "c", "p", None, None, None, None, plays, seconds)


def test_bars_cover_every_day_and_scale_to_the_largest() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    report = Report(
        t,
        t,
        "UTC",
        ("day", "campaign"),
        [
            row(date(2026, 1, 1), 4, 40.0),
            row(date(2026, 1, 1), 4, 20.0),
            row(date(2026, 1, 3), 2, 5),
        ],
    )
    plays, seconds = day_charts(report, date(2026, 1, 1), date(2026, 1, 4))
    assert [b.value for b in plays.bars] == [8, 0, 2, 0]
    assert [b.value for b in seconds.bars] == [60.0, 0.0, 5.0, 0.0]
    first, _, third, _ = plays.bars
    assert (first.y, first.height) == (0, HEIGHT) and third.height == HEIGHT / 4
    assert plays.bars[-1].x + plays.bars[-1].width <= WIDTH
    assert sum(b.value for b in plays.bars) == sum(r.plays for r in report.rows)
