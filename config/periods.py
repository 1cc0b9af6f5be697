"""Calendar periods in the program's time zone (`FIDELIO_TIME_ZONE`): days, ISO weeks (Monday first), months and
quarters. Boundaries are computed on program-time dates and turned into aware datetimes at local midnight, so
they keep wall-clock midnight across daylight-saving changes; storage and comparisons stay in UTC.

The one place that knows where a week or a month starts: challenges (weekly and monthly periods, streaks),
leaderboards (weekly and monthly boards), the metric rollups (day, week, month and quarter rows), tier windows
and expiry (`add_months`) all use these functions. Shared core: no app is imported here.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

PeriodKind = Literal["day", "week", "month", "quarter"]


def program_tz() -> ZoneInfo:
    return ZoneInfo(settings.FIDELIO_TIME_ZONE)


def local_date(moment: datetime | None = None) -> date:
    """The program-time calendar date of `moment` (default: now)."""
    return (moment or timezone.now()).astimezone(program_tz()).date()


def local_midnight(day: date) -> datetime:
    """00:00 of a program-time date, as an aware datetime."""
    return datetime.combine(day, time(0), tzinfo=program_tz())


def add_months(moment: datetime, months: int) -> datetime:
    """The same wall-clock time `months` later in program time (day clipped to the month's end)."""
    local = moment.astimezone(program_tz())
    month_index = local.month - 1 + months
    year, month = local.year + month_index // 12, month_index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    # Re-attach the zone so the UTC offset is the one valid on the new date (DST).
    return datetime(year, month, day, local.hour, local.minute, local.second, local.microsecond,
                    tzinfo=program_tz()).astimezone(moment.tzinfo)


def period_start(*, day: date, period: PeriodKind) -> date:
    """The first date of the day, ISO week (Monday), month or quarter that holds `day`."""
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "quarter":
        return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    raise ValueError(period)


def period_next(*, start: date, period: PeriodKind) -> date:
    """The first date of the period after the one starting on `start`."""
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    months = {"month": 1, "quarter": 3}[period]
    index = start.month - 1 + months
    return date(start.year + index // 12, index % 12 + 1, 1)


def period_bounds(moment: datetime, period: PeriodKind) -> tuple[datetime, datetime]:
    """[start, end) of the program-time period holding `moment`, as aware datetimes at local midnight."""
    start = period_start(day=local_date(moment), period=period)
    return local_midnight(start), local_midnight(period_next(start=start, period=period))


def week_label(moment: datetime) -> str:
    """The ISO week of `moment` in program time, e.g. 2026-W48 (the ISO year: 2027-W01 may start in December)."""
    year, week, _ = local_date(moment).isocalendar()
    return f"{year}-W{week:02d}"


def month_label(moment: datetime) -> str:
    """The month of `moment` in program time, e.g. 2026-11."""
    return f"{local_date(moment):%Y-%m}"


def week_index(moment: datetime) -> int:
    """A number per program-time ISO week; consecutive weeks have consecutive numbers."""
    return period_start(day=local_date(moment), period="week").toordinal() // 7
