"""Leaderboard writes: credits reach the Redis boards after commit, members move on or off them when they change
their visibility, and the nightly rebuild recomputes the current boards from the ledger. What counts, the keys,
ranks and reads: gamification.selectors.leaderboards.
"""

from __future__ import annotations

import json
import logging
import time as clock
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import partial

from django.db import connection, transaction
from django.utils import timezone
from redis.exceptions import RedisError

from config.periods import month_label, week_label
from config.sql import fetch_all
from gamification.selectors.leaderboards import (
    COUNTED_KINDS,
    PERIOD_TTL,
    Visibility,
    board_key,
    hidden_key,
    journal_keys,
    key_prefix,
    lua,
    member_points_get,
    period_of,
    redis_client,
)
from loyalty.models import LedgerEntry
from members.models import Member

log = logging.getLogger(__name__)

_REBUILD_SECONDS = 900  # the rebuild's lock and journal live at most this long
_CHUNK = 500  # credits per Lua call on the live path
_ZADD_CHUNK = 10_000

# KEYS: hidden set, journal flag, journal, then one board per item. ARGV: per item member, points, entry id
# ('' = do not journal), ttl (0 = none). Adds each item unless its member is hidden; while a rebuild reads
# (the flag exists), also journals it.
_RECORD = """
local journaling = redis.call('EXISTS', KEYS[2]) == 1
local applied = 0
for i = 4, #KEYS do
  local j = (i - 4) * 4
  local key, member, points, id, ttl = KEYS[i], ARGV[j + 1], ARGV[j + 2], ARGV[j + 3], tonumber(ARGV[j + 4])
  if redis.call('SISMEMBER', KEYS[1], member) == 0 then
    redis.call('ZINCRBY', key, points, member)
    if ttl > 0 then redis.call('EXPIRE', key, ttl) end
    applied = applied + 1
  end
  if journaling and id ~= '' then
    redis.call('RPUSH', KEYS[3], cjson.encode({id, key, member, points, ttl}))
  end
end
return applied
"""

# KEYS: (temporary, live) pairs, then the journal flag and the journal. ARGV: per pair the live key's ttl
# (0 = none). Swaps every pair in (a missing temporary key empties the live one), stops journaling and
# returns what was journaled.
_SWAP = """
local n = #ARGV
for i = 1, n do
  local tmp, live, ttl = KEYS[2 * i - 1], KEYS[2 * i], tonumber(ARGV[i])
  if redis.call('EXISTS', tmp) == 1 then
    if ttl > 0 then redis.call('EXPIRE', tmp, ttl) else redis.call('PERSIST', tmp) end
    redis.call('RENAME', tmp, live)
  else
    redis.call('DEL', live)
  end
end
redis.call('DEL', KEYS[2 * n + 1])
local items = redis.call('LRANGE', KEYS[2 * n + 2], 0, -1)
redis.call('DEL', KEYS[2 * n + 2])
return items
"""


_UNLOCK = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


def _record(r, items: list[tuple[str, int, int, str, int]]) -> int:
    """Add (board key, member id, points, entry id or '', ttl) items, skipping hidden members."""
    hidden = hidden_key()
    flag, journal = journal_keys()
    applied = 0
    for start in range(0, len(items), _CHUNK * 3):
        part = items[start:start + _CHUNK * 3]
        applied += lua(r, _RECORD)(
            keys=[hidden, flag, journal, *(item[0] for item in part)],
            args=[x for _, member, points, entry, ttl in part for x in (member, points, entry, ttl)],
            client=r,
        )
    return applied


# ------------------------------------------------------------------------------------------- live path
def board_credits_on_credited(*, entries: Iterable[LedgerEntry], **kwargs) -> None:
    """loyalty's points_credited (sent after commit): the counted credits reach the boards."""
    counted = [(e.pk, e.member_id, e.points, e.created_at) for e in entries
               if e.kind in COUNTED_KINDS and e.points > 0]
    if counted:
        board_credits_record(credits=counted)


def board_credits_record(*, credits: list[tuple[int, int, int, datetime]]) -> int:
    """Add committed (entry id, member id, points, created_at) credits to their week, month and all-time boards.
    Returns how many board increments were applied. Redis errors are logged (the next rebuild repairs)."""
    items = []
    for entry_id, member_id, points, created_at in credits:
        week, month = week_label(created_at), month_label(created_at)
        items += [(board_key("week", week), member_id, points, str(entry_id), PERIOD_TTL),
                  (board_key("month", month), member_id, points, str(entry_id), PERIOD_TTL),
                  (board_key("all", "all"), member_id, points, str(entry_id), 0)]
    try:
        return _record(redis_client(), items)
    except RedisError:
        log.warning("leaderboards: %d credit(s) did not reach Redis; the next rebuild adds them", len(credits),
                    exc_info=True)
        return 0


def board_visibility_changed(sender, member_id: int, **kwargs) -> None:
    """members' member_leaderboard_visibility_changed: move the member onto or off the boards after commit."""
    transaction.on_commit(partial(board_visibility_apply, member_id=member_id), robust=True)


def board_visibility_apply(*, member_id: int, now: datetime | None = None) -> None:
    """Make the current boards match the member's committed visibility: off them (and into the hidden set) when
    hidden, else back on with their points from the ledger. A credit committing in the same instant may be
    missed until the next rebuild."""
    visibility = Member.objects.filter(pk=member_id).values_list("leaderboard_visibility", flat=True).first()
    periods = [period_of(kind, now or timezone.now()) for kind in ("week", "month", "all")]
    r = redis_client()
    with r.pipeline(transaction=True) as pipe:
        if visibility is None or visibility == Visibility.HIDDEN:
            pipe.sadd(hidden_key(), member_id)
            for period in periods:
                pipe.zrem(period.key, member_id)
        else:
            points = member_points_get(member_id=member_id, periods=periods)
            pipe.srem(hidden_key(), member_id)
            for period, value in zip(periods, points, strict=True):
                if value > 0:
                    pipe.zadd(period.key, {member_id: value})
                    if period.kind != "all":
                        pipe.expire(period.key, PERIOD_TTL)
                else:
                    pipe.zrem(period.key, member_id)
        pipe.execute()


# -------------------------------------------------------------------------------------------- rebuild
_AGGREGATE = """
SELECT e.member_id,
       COALESCE(SUM(e.points) FILTER (WHERE e.created_at >= %(week_start)s AND e.created_at < %(week_end)s), 0)
           AS week,
       COALESCE(SUM(e.points) FILTER (WHERE e.created_at >= %(month_start)s AND e.created_at < %(month_end)s), 0)
           AS month,
       SUM(e.points) AS all_time
FROM loyalty_ledgerentry e JOIN members_member m ON m.id = e.member_id
WHERE e.kind = ANY(%(kinds)s) AND e.points > 0 AND m.leaderboard_visibility <> %(hidden)s
GROUP BY e.member_id
"""


@contextmanager
def _snapshot() -> Iterator[None]:
    """One consistent view of the database for the rebuild's reads (REPEATABLE READ). Inside a caller's
    transaction (a test, a shell) the caller's transaction is the view."""
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def boards_rebuild(*, now: datetime | None = None) -> dict:
    """Recompute the current weekly, monthly and all-time boards and the hidden set from the database and swap
    them in atomically. Safe to run twice; a second rebuild while one runs returns {"skipped": True}."""
    now = now or timezone.now()
    started = clock.perf_counter()
    r = redis_client()
    lock, token = f"{key_prefix()}:rebuild:lock", uuid.uuid4().hex
    if not r.set(lock, token, nx=True, ex=_REBUILD_SECONDS):
        return {"skipped": True}
    try:
        periods = {kind: period_of(kind, now) for kind in ("week", "month", "all")}
        flag, journal = journal_keys()
        r.delete(journal)
        r.set(flag, "1", ex=_REBUILD_SECONDS)  # from here on the live path journals what it adds
        with _snapshot():
            with connection.cursor() as cursor:
                cursor.execute(_AGGREGATE, {
                    "week_start": periods["week"].starts_at, "week_end": periods["week"].ends_at,
                    "month_start": periods["month"].starts_at, "month_end": periods["month"].ends_at,
                    "kinds": list(COUNTED_KINDS), "hidden": Visibility.HIDDEN,
                })
                rows = fetch_all(cursor)
            hidden = list(Member.objects.filter(leaderboard_visibility=Visibility.HIDDEN)
                          .values_list("pk", flat=True))
            boards = {kind: {row["member_id"]: row[column] for row in rows if row[column] > 0}
                      for kind, column in (("week", "week"), ("month", "month"), ("all", "all_time"))}
            pairs = [(periods[kind].key, PERIOD_TTL if kind != "all" else 0, board) for kind, board in boards.items()]
            _write_temporary(r, pairs, hidden)
            journaled = [json.loads(item) for item in lua(r, _SWAP)(
                keys=[k for live, _, _ in pairs for k in (f"{live}:rebuild", live)]
                + [f"{hidden_key()}:rebuild", hidden_key(), flag, journal],
                args=[ttl for _, ttl, _ in pairs] + [0], client=r,
            )]
            seen = set(LedgerEntry.objects.filter(pk__in={int(item[0]) for item in journaled})
                       .values_list("pk", flat=True))
        swapped = {live for live, _, _ in pairs}
        replay = [(key, member, points, "", ttl) for entry, key, member, points, ttl in journaled
                  if int(entry) not in seen and key in swapped]
        if replay:
            _record(r, replay)
    finally:
        r.delete(*journal_keys())  # already gone after the swap; after a failure, stop journaling
        lua(r, _UNLOCK)(keys=[lock], args=[token], client=r)
    result = {f"{kind}_members": len(board) for kind, board in boards.items()}
    result.update(hidden=len(hidden), replayed=len(replay), seconds=round(clock.perf_counter() - started, 3),
                  week=periods["week"].label, month=periods["month"].label)
    return result


def _write_temporary(r, pairs: list[tuple[str, int, dict[int, int]]], hidden: list[int]) -> None:
    with r.pipeline(transaction=False) as pipe:
        for live, _, board in pairs:
            tmp = f"{live}:rebuild"
            pipe.delete(tmp)
            items = list(board.items())
            for start in range(0, len(items), _ZADD_CHUNK):
                pipe.zadd(tmp, dict(items[start:start + _ZADD_CHUNK]))
            pipe.expire(tmp, _REBUILD_SECONDS)
        tmp = f"{hidden_key()}:rebuild"
        pipe.delete(tmp)
        for start in range(0, len(hidden), _ZADD_CHUNK):
            pipe.sadd(tmp, *hidden[start:start + _ZADD_CHUNK])
        pipe.expire(tmp, _REBUILD_SECONDS)
        pipe.execute()
