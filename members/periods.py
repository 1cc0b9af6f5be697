"""Calendar arithmetic in the program's time zone (months, days), compared in UTC."""

from __future__ import annotations

import calendar
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings


def program_tz() -> ZoneInfo:
    return ZoneInfo(settings.FIDELIO_TIME_ZONE)


def add_months(moment: datetime, months: int) -> datetime:
    """The same wall-clock time `months` later in program time (day clipped to the month's end)."""
    local = moment.astimezone(program_tz())
    month_index = local.month - 1 + months
    year, month = local.year + month_index // 12, month_index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    shifted = local.replace(year=year, month=month, day=day)
    # Re-attach the zone so the UTC offset is the one valid on the new date (DST).
    return datetime(shifted.year, shifted.month, shifted.day, shifted.hour, shifted.minute, shifted.second,
                    shifted.microsecond, tzinfo=program_tz()).astimezone(moment.tzinfo)
