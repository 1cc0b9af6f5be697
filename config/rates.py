"""Rate strings ('60/min', '20/hour'): parsed in one place, imported by settings (to refuse a malformed value at
boot) and by the rate limiter. No Django imports: settings load it before Django is configured."""

from __future__ import annotations

PERIODS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600,
           "d": 86400, "day": 86400}


def rate_parse(rate: str) -> tuple[int, int]:
    """'120/min' -> (120, 60): requests per window of seconds (s, sec, second, m, min, minute, h, hour, d, day)."""
    count, _, period = rate.strip().partition("/")
    try:
        number, seconds = int(count), PERIODS[period.strip().lower()]
    except (ValueError, KeyError):
        raise ValueError(f"A rate looks like '60/min' or '20/hour', not {rate!r}.") from None
    if number <= 0:
        raise ValueError(f"A rate needs a positive number of requests, not {rate!r}.")
    return number, seconds
