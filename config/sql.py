"""Rows of hand-written SQL, read by column name (STYLE.md §12): never `row[0]`.

Every selected column needs a distinct name (alias expressions and same-named columns of joined tables);
a result without one is refused, so a positional habit cannot creep back in.
"""

from __future__ import annotations


def column_names(cursor) -> list[str]:
    """The names of the result's columns, checked to be distinct and real (no `?column?`)."""
    names = [column[0] for column in cursor.description]
    if len(set(names)) != len(names) or "?column?" in names:
        raise ValueError(f"give every selected column its own name (AS …): {names}")
    return names


def fetch_one(cursor) -> dict | None:
    """The next row as {column: value}, or None when there is none."""
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip(column_names(cursor), row, strict=True))


def fetch_all(cursor) -> list[dict]:
    """The remaining rows, each as {column: value}."""
    names = column_names(cursor)
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
