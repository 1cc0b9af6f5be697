"""Leaderboards: weekly, monthly and all-time boards of the points members earned, in Redis sorted sets.

What counts
    Positive ledger entries of kind earn, bonus and challenge (COUNTED_KINDS), on the boards of the ISO week
    (Monday 00:00) and calendar month that hold the entry's `created_at` in program time, and on the
    all-time board. Nothing lowers a rank: redemptions, expiry and other debits, reversals included, are not
    counted (a return inside the return window never reaches the ledger as an earn entry; a reversal of
    points already confirmed leaves the boards as they are). Adjustments, referral and birthday credits do
    not count either.

Keys (prefix: the cache's KEY_PREFIX, so the test suite's per-test cleanup covers them)
    <prefix>:lb:week:2026-W48 and <prefix>:lb:month:2026-11 (each expires PERIOD_TTL after its last write),
    <prefix>:lb:all; member ids are the members, points the scores. <prefix>:lb:hidden is the SET of the ids
    of members who opted out.

Live path
    loyalty.ledger calls `board_credits_on_commit(entries=...)` for the credits it writes; after commit one
    Lua call adds each counted entry to its three boards (ZINCRBY), skipping hidden members. A rolled-back
    credit never reaches Redis; a Redis error is logged and repaired by the next rebuild.

Hidden members
    They are kept off the board sets (their credits are skipped; opting out removes them, opting back in puts
    their points from the ledger back). Reading also filters through the database (the one query that
    fetches the names excludes hidden members), so a set Redis got wrong never shows a hidden member. A hidden
    member still sees where they would stand: points from the ledger, rank from a ZCOUNT.

Ranks
    Standard competition ranking: 1 + the number of listed members with strictly more points ("1, 2, 2, 4").
    Equal points are listed in Redis' order (member id as a string, descending): the same live and rebuilt.

Rebuild
    `boards_rebuild` recomputes the current week's, month's and all-time boards and the hidden set from the
    database with one aggregate over the ledger, writes them under temporary keys and RENAMEs them over the
    live ones in one Lua call. Credits whose live update runs while it reads are journaled and replayed on the
    new boards unless its snapshot already had them, so nothing is lost or counted twice.
"""

from __future__ import annotations

import json
import logging
import time as clock
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django_redis import get_redis_connection
from redis.exceptions import RedisError

from config.exceptions import DomainError, NotFound
from loyalty.models import LedgerEntry
from members.models import Member
from members.periods import program_tz

log = logging.getLogger(__name__)

Kind = LedgerEntry.Kind
Visibility = Member.LeaderboardVisibility
COUNTED_KINDS = (Kind.EARN, Kind.BONUS, Kind.CHALLENGE)
PERIODS = {"weekly": "week", "monthly": "month", "all-time": "all"}  # public name -> board kind
_NAMES = {kind: name for name, kind in PERIODS.items()}
PERIOD_TTL = 100 * 86400  # weekly and monthly boards expire 100 days after their last write
TOP_MAX = 100
NEIGHBOURS = 5
_REBUILD_SECONDS = 900  # the rebuild's lock and journal live at most this long
_CHUNK = 500  # credits per Lua call on the live path
_ZADD_CHUNK = 10_000


class UnknownPeriod(NotFound):
    code = "unknown_period"
    default_detail = f"Leaderboards exist for these periods: {', '.join(PERIODS)}."


# ---------------------------------------------------------------------------------------------- periods
@dataclass(frozen=True)
class Period:
    name: str  # weekly | monthly | all-time
    kind: str  # week | month | all
    label: str  # 2026-W48 | 2026-11 | all
    starts_at: datetime | None  # program time; None for all-time
    ends_at: datetime | None

    @property
    def key(self) -> str:
        return board_key(self.kind, self.label)


def period_get(*, name: str, now: datetime | None = None) -> Period:
    """The current period called `name` (weekly, monthly, all-time); UnknownPeriod for anything else."""
    kind = PERIODS.get(name)
    if kind is None:
        raise UnknownPeriod(field="period")
    return _period(kind, now or timezone.now())


def _period(kind: str, moment: datetime) -> Period:
    if kind == "all":
        return Period("all-time", "all", "all", None, None)
    tz = program_tz()
    local = moment.astimezone(tz)
    if kind == "week":
        year, week, weekday = local.isocalendar()
        first = local.date() - timedelta(days=weekday - 1)
        following = first + timedelta(days=7)
        label = f"{year}-W{week:02d}"
    else:
        first = local.date().replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        label = f"{first:%Y-%m}"
    return Period(_NAMES[kind], kind, label, datetime.combine(first, time.min, tzinfo=tz),
                  datetime.combine(following, time.min, tzinfo=tz))


def _labels(moment: datetime) -> tuple[str, str]:
    """(week label, month label) of a moment in program time."""
    local = moment.astimezone(program_tz())
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}", f"{local.year}-{local.month:02d}"


# ------------------------------------------------------------------------------------------------ redis
def _redis():
    """The cache's Redis client (django-redis: one connection pool per process)."""
    return get_redis_connection("default")


def _prefix() -> str:
    return f"{settings.CACHES['default'].get('KEY_PREFIX') or 'fidelio'}:lb"


def board_key(kind: str, label: str) -> str:
    return f"{_prefix()}:all" if kind == "all" else f"{_prefix()}:{kind}:{label}"


def _hidden_key() -> str:
    return f"{_prefix()}:hidden"


def _journal_keys() -> tuple[str, str]:
    return f"{_prefix()}:journal:on", f"{_prefix()}:journal"


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

# KEYS: board. ARGV: member, points to place them by when they are not on the board, neighbours each side.
# On the board: {1, size, score, window start, count above the window's first, window (member, score, ...)}.
# Off it: {0, size, score, count above score, count above the first of `up`, up (the members just above,
# ascending), down (the members at or below, descending)}.
_AROUND = """
local key, member, k = KEYS[1], ARGV[1], tonumber(ARGV[3])
local size = redis.call('ZCARD', key)
local pos = redis.call('ZREVRANK', key, member)
if pos then
  local start = pos - k
  if start < 0 then start = 0 end
  local window = redis.call('ZREVRANGE', key, start, pos + k, 'WITHSCORES')
  local above = redis.call('ZCOUNT', key, '(' .. window[2], '+inf')
  return {1, size, redis.call('ZSCORE', key, member), start, above, window}
end
local score = ARGV[2]
local gt = redis.call('ZCOUNT', key, '(' .. score, '+inf')
local up = redis.call('ZRANGEBYSCORE', key, '(' .. score, '+inf', 'WITHSCORES', 'LIMIT', 0, k)
local up_gt = 0
if #up > 0 then up_gt = redis.call('ZCOUNT', key, '(' .. up[#up], '+inf') end
local down = redis.call('ZREVRANGEBYSCORE', key, score, '-inf', 'WITHSCORES', 'LIMIT', 0, k)
return {0, size, score, gt, up_gt, up, down}
"""

_UNLOCK = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"

_SCRIPTS: dict[str, object] = {}


def _script(r, source: str):
    if source not in _SCRIPTS:
        _SCRIPTS[source] = r.register_script(source)
    return _SCRIPTS[source]


def _record(r, items: list[tuple[str, int, int, str, int]]) -> int:
    """Add (board key, member id, points, entry id or '', ttl) items, skipping hidden members."""
    hidden = _hidden_key()
    flag, journal = _journal_keys()
    applied = 0
    for start in range(0, len(items), _CHUNK * 3):
        part = items[start:start + _CHUNK * 3]
        applied += _script(r, _RECORD)(
            keys=[hidden, flag, journal, *(item[0] for item in part)],
            args=[x for _, member, points, entry, ttl in part for x in (member, points, entry, ttl)],
            client=r,
        )
    return applied


# ------------------------------------------------------------------------------------------- live path
def board_credits_on_commit(*, entries: Iterable[LedgerEntry]) -> None:
    """Called by loyalty.ledger with the credits it just wrote: the counted ones reach the boards after commit."""
    counted = [(e.pk, e.member_id, e.points, e.created_at) for e in entries
               if e.kind in COUNTED_KINDS and e.points > 0]
    if counted:
        transaction.on_commit(partial(board_credits_record, credits=counted), robust=True)


def board_credits_record(*, credits: list[tuple[int, int, int, datetime]]) -> int:
    """Add committed (entry id, member id, points, created_at) credits to their week, month and all-time boards.
    Returns how many board increments were applied. Redis errors are logged (the next rebuild repairs)."""
    items = []
    for entry_id, member_id, points, created_at in credits:
        week, month = _labels(created_at)
        items += [(board_key("week", week), member_id, points, str(entry_id), PERIOD_TTL),
                  (board_key("month", month), member_id, points, str(entry_id), PERIOD_TTL),
                  (board_key("all", "all"), member_id, points, str(entry_id), 0)]
    try:
        return _record(_redis(), items)
    except RedisError:
        log.warning("leaderboards: %d credit(s) did not reach Redis; the next rebuild adds them", len(credits),
                    exc_info=True)
        return 0


def member_points_get(*, member_id: int, periods: list[Period]) -> list[int]:
    """The member's counted points in each period, from the ledger (one query)."""
    sums = {
        f"p{i}": Sum("points") if period.starts_at is None
        else Sum("points", filter=Q(created_at__gte=period.starts_at, created_at__lt=period.ends_at))
        for i, period in enumerate(periods)
    }
    row = LedgerEntry.objects.filter(member_id=member_id, kind__in=COUNTED_KINDS, points__gt=0).aggregate(**sums)
    return [row[f"p{i}"] or 0 for i in range(len(periods))]


def board_visibility_changed(sender, member_id: int, **kwargs) -> None:
    """members' member_leaderboard_visibility_changed: move the member onto or off the boards after commit."""
    transaction.on_commit(partial(board_visibility_apply, member_id=member_id), robust=True)


def board_visibility_apply(*, member_id: int, now: datetime | None = None) -> None:
    """Make the current boards match the member's committed visibility: off them (and into the hidden set) when
    hidden, else back on with their points from the ledger. A credit committing in the same instant may be
    missed until the next rebuild."""
    visibility = Member.objects.filter(pk=member_id).values_list("leaderboard_visibility", flat=True).first()
    periods = [_period(kind, now or timezone.now()) for kind in ("week", "month", "all")]
    r = _redis()
    with r.pipeline(transaction=True) as pipe:
        if visibility is None or visibility == Visibility.HIDDEN:
            pipe.sadd(_hidden_key(), member_id)
            for period in periods:
                pipe.zrem(period.key, member_id)
        else:
            points = member_points_get(member_id=member_id, periods=periods)
            pipe.srem(_hidden_key(), member_id)
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
       COALESCE(SUM(e.points) FILTER (WHERE e.created_at >= %(week_start)s AND e.created_at < %(week_end)s), 0),
       COALESCE(SUM(e.points) FILTER (WHERE e.created_at >= %(month_start)s AND e.created_at < %(month_end)s), 0),
       SUM(e.points)
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
    r = _redis()
    lock, token = f"{_prefix()}:rebuild:lock", uuid.uuid4().hex
    if not r.set(lock, token, nx=True, ex=_REBUILD_SECONDS):
        return {"skipped": True}
    try:
        periods = {kind: _period(kind, now) for kind in ("week", "month", "all")}
        flag, journal = _journal_keys()
        r.delete(journal)
        r.set(flag, "1", ex=_REBUILD_SECONDS)  # from here on the live path journals what it adds
        with _snapshot():
            with connection.cursor() as cursor:
                cursor.execute(_AGGREGATE, {
                    "week_start": periods["week"].starts_at, "week_end": periods["week"].ends_at,
                    "month_start": periods["month"].starts_at, "month_end": periods["month"].ends_at,
                    "kinds": list(COUNTED_KINDS), "hidden": Visibility.HIDDEN,
                })
                rows = cursor.fetchall()
            hidden = list(Member.objects.filter(leaderboard_visibility=Visibility.HIDDEN)
                          .values_list("pk", flat=True))
            boards = {kind: {member: sums[i] for member, *sums in rows if sums[i] > 0}
                      for i, kind in enumerate(("week", "month", "all"))}
            pairs = [(periods[kind].key, PERIOD_TTL if kind != "all" else 0, board) for kind, board in boards.items()]
            _write_temporary(r, pairs, hidden)
            journaled = [json.loads(item) for item in _script(r, _SWAP)(
                keys=[k for live, _, _ in pairs for k in (f"{live}:rebuild", live)]
                + [f"{_hidden_key()}:rebuild", _hidden_key(), flag, journal],
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
        r.delete(*_journal_keys())  # already gone after the swap; after a failure, stop journaling
        _script(r, _UNLOCK)(keys=[lock], args=[token], client=r)
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
        tmp = f"{_hidden_key()}:rebuild"
        pipe.delete(tmp)
        for start in range(0, len(hidden), _ZADD_CHUNK):
            pipe.sadd(tmp, *hidden[start:start + _ZADD_CHUNK])
        pipe.expire(tmp, _REBUILD_SECONDS)
        pipe.execute()


# ---------------------------------------------------------------------------------------------- reading
def public_name(*, display_name: str, member_number: str, visibility: str) -> str:
    """What the boards show for a member: the display name when they chose it (and have one), else the
    pseudonym "Member " + the last 4 digits of the member number. Plain text: templates escape it."""
    if visibility == Visibility.NAME and display_name:
        return display_name
    return f"Member {member_number[-4:]}"


def _names(ids: list[int]) -> dict[int, str]:
    """Public names of the visible members among `ids`, in one query (hidden members are left out)."""
    if not ids:
        return {}
    rows = (Member.objects.filter(pk__in=ids).exclude(leaderboard_visibility=Visibility.HIDDEN)
            .values_list("pk", "display_name", "member_number", "leaderboard_visibility"))
    return {pk: public_name(display_name=d, member_number=n, visibility=v) for pk, d, n, v in rows}


def _ranked(scores: list[int], *, start: int, first_rank: int) -> list[int]:
    """Competition ranks of consecutive board entries from set position `start` (0-based), the first of which
    has rank `first_rank`: an entry ties with the one before it or ranks by its position."""
    ranks: list[int] = []
    for i, score in enumerate(scores):
        ranks.append(first_rank if i == 0 else ranks[-1] if score == scores[i - 1] else start + i + 1)
    return ranks


def _pairs(flat: list) -> list[tuple[int, int]]:
    return [(int(flat[i]), int(float(flat[i + 1]))) for i in range(0, len(flat), 2)]


def _header(period: Period, size: int) -> dict:
    return {"period": period.name, "label": period.label, "starts_at": period.starts_at, "ends_at": period.ends_at,
            "members": size}


def board_top(*, period: Period, limit: int = TOP_MAX, viewer_id: int | None = None) -> dict:
    """The first `limit` (1..100) visible members of a board with rank, public name and points; one Redis round
    trip and one database query (more only when hidden members turn up in the set and must be skipped)."""
    if not 1 <= limit <= TOP_MAX:
        raise DomainError(f"limit is a whole number from 1 to {TOP_MAX}.", field="limit", code="invalid_limit")
    r = _redis()
    with r.pipeline(transaction=False) as pipe:
        pipe.zrevrange(period.key, 0, limit - 1, withscores=True)
        pipe.zcard(period.key)
        batch, size = pipe.execute()
    shown: list[tuple[int, int, str]] = []
    fetched = 0
    while batch:
        entries = [(int(member), int(score)) for member, score in batch]
        names = _names([member for member, _ in entries])
        shown += [(member, score, names[member]) for member, score in entries if member in names]
        fetched += len(batch)
        if len(shown) >= limit or fetched >= size:
            break
        batch = r.zrevrange(period.key, fetched, fetched + limit - len(shown) - 1, withscores=True)
    shown = shown[:limit]
    ranks = _ranked([score for _, score, _ in shown], start=0, first_rank=1)
    return {**_header(period, size), "results": [
        {"rank": rank, "name": name, "points": score, "is_me": member == viewer_id}
        for rank, (member, score, name) in zip(ranks, shown, strict=True)
    ]}


def board_around(*, period: Period, member: Member, neighbours: int = NEIGHBOURS) -> dict:
    """The member's rank and points on a board with up to `neighbours` members each side, even far outside the
    top 100. Hidden members see where they would stand (points from the ledger) without being listed for
    others; members without points this period come after the last one, unranked (rank None). One Redis call
    (Lua) and one database query for the names (plus one for a hidden member's points)."""
    hidden = member.leaderboard_visibility == Visibility.HIDDEN
    fallback = member_points_get(member_id=member.pk, periods=[period])[0] if hidden else 0
    r = _redis()
    reply = _script(r, _AROUND)(keys=[period.key], args=[member.pk, fallback, neighbours], client=r)
    on_board, size, score = bool(reply[0]), int(reply[1]), int(float(reply[2]))
    rows: list[tuple[int, int, int]] = []  # (member id, points, rank)
    if on_board:
        start, above, window = int(reply[3]), int(reply[4]), _pairs(reply[5])
        ranks = _ranked([s for _, s in window], start=start, first_rank=above + 1)
        rows = [(m, s, rank) for (m, s), rank in zip(window, ranks, strict=True)]
        rank = next(rank for m, _, rank in rows if m == member.pk)
    else:
        # The member is placed where they would stand: after the `gt` members with more points, before those
        # with as many (who share their rank) or fewer (ranked as if the member were listed). Without points
        # in the period they come after the last, unranked.
        gt, up_gt, up, down = int(reply[3]), int(reply[4]), _pairs(reply[5])[::-1], _pairs(reply[6])
        rank = gt + 1 if score > 0 else None
        up_ranks = _ranked([s for _, s in up], start=gt - len(up), first_rank=up_gt + 1)
        down_ranks = _ranked([score] + [s for _, s in down], start=gt, first_rank=gt + 1)[1:]
        rows = ([(m, s, rk) for (m, s), rk in zip(up, up_ranks, strict=True)] + [(member.pk, score, rank)]
                + [(m, s, rk) for (m, s), rk in zip(down, down_ranks, strict=True)])
    names = _names([m for m, _, _ in rows if m != member.pk])
    my_name = None if hidden else public_name(display_name=member.display_name, member_number=member.member_number,
                                              visibility=member.leaderboard_visibility)
    results = [{"rank": rk, "name": my_name if m == member.pk else names[m], "points": s, "is_me": m == member.pk}
               for m, s, rk in rows if m == member.pk or m in names]
    return {**_header(period, size),
            "me": {"rank": rank, "points": score, "name": my_name, "visibility": member.leaderboard_visibility,
                   "on_board": on_board},
            "results": results}
