"""Shared core: a per-process memo in front of the shared cache, for tiny, hot, rarely changing lists (tiers, earning
rules). A value lives here at most MEMO_SECONDS; a change clears this process's copy and the shared cache
at once, other processes pick it up within MEMO_SECONDS."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.core.cache import cache

MEMO_SECONDS = 5.0
_memo: dict[str, tuple[float, Any]] = {}


def memo_get(key: str, load: Callable[[], Any], *, shared_seconds: int = 60) -> Any:
    hit = _memo.get(key)
    now = time.monotonic()
    if hit is not None and hit[0] > now:
        return hit[1]
    value = cache.get(key)
    if value is None:
        value = load()
        cache.set(key, value, shared_seconds)
    _memo[key] = (now + MEMO_SECONDS, value)
    return value


def memo_forget(key: str) -> None:
    _memo.pop(key, None)
    cache.delete(key)


def memo_clear() -> None:
    """Forget every per-process value (tests call this between tests)."""
    _memo.clear()


def local_get(key: str, load: Callable[[], Any]) -> Any:
    """Like memo_get, but this process only (no shared cache): for per-request lookups where a Redis round
    trip would cost as much as the database. `None` results are not kept."""
    hit = _memo.get(key)
    now = time.monotonic()
    if hit is not None and hit[0] > now:
        return hit[1]
    value = load()
    if value is not None:
        _memo[key] = (now + MEMO_SECONDS, value)
    return value


def local_forget(key: str) -> None:
    _memo.pop(key, None)
