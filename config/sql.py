"""Rows of hand-written SQL, read by column name (STYLE.md §12): never `row[0]`.

Every selected column needs a distinct name (alias expressions and same-named columns of joined tables);
a result without one is refused, so a positional habit cannot creep back in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.backends.utils import CursorWrapper


def column_names(cursor: CursorWrapper) -> list[str]:
    """The names of the result's columns, checked to be distinct and real (no `?column?`)."""
    names = [column[0] for column in cursor.description]
    if len(set(names)) != len(names) or "?column?" in names:
        raise ValueError(f"give every selected column its own name (AS …): {names}")
    return names


def fetch_one(cursor: CursorWrapper) -> dict[str, Any] | None:
    """The next row as {column: value}, or None when there is none."""
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip(column_names(cursor), row, strict=True))


def fetch_row(cursor: CursorWrapper) -> dict[str, Any]:
    """The next row of a statement that always yields one (an aggregate, a SELECT over INSERT … RETURNING);
    none at all is a bug, refused here rather than as a TypeError further on."""
    row = fetch_one(cursor)
    if row is None:
        raise LookupError("the statement returned no row")
    return row


def fetch_all(cursor: CursorWrapper) -> list[dict[str, Any]]:
    """The remaining rows, each as {column: value}."""
    names = column_names(cursor)
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
