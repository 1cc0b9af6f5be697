"""Shared core: walking many rows a batch at a time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet


def ids_in_batches(queryset: QuerySet[Any], batch: int) -> Iterator[int]:
    """Primary keys of `queryset`, ascending, fetched `batch` at a time (keyset pagination: rows handled
    meanwhile drop out of the filter without shifting the pages)."""
    last_id = 0
    while True:
        ids = list(queryset.filter(pk__gt=last_id).order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            return
        yield from ids
        last_id = ids[-1]
