"""Spreadsheet-safe export cells (CSV injection): text a spreadsheet would run as a formula is neutralised."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """The value, with a leading apostrophe when it is text that starts like a formula."""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value
