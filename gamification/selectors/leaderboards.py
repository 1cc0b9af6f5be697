"""Leaderboards: weekly, monthly and all-time boards of the points members earned, in Redis sorted sets. This
module reads them and owns their keys; gamification.services.leaderboards writes them.

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
    loyalty announces every credit after commit (`loyalty.signals.points_credited`); `board_credits_on_credited`
    adds each counted entry to its three boards (ZINCRBY) in one Lua call, skipping hidden members. A rolled-back
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

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext
from django_redis import get_redis_connection

from config.exceptions import DomainError
from config.periods import month_label, period_bounds, week_label
from gamification.exceptions import UnknownPeriod
from loyalty.models import LedgerEntry
from members.models import Member
from members.selectors import member_public_name

Kind = LedgerEntry.Kind
Visibility = Member.LeaderboardVisibility
COUNTED_KINDS = (Kind.EARN, Kind.BONUS, Kind.CHALLENGE)
PERIODS = {"weekly": "week", "monthly": "month", "all-time": "all"}  # public name -> board kind
_NAMES = {kind: name for name, kind in PERIODS.items()}
PERIOD_TTL = 100 * 86400  # weekly and monthly boards expire 100 days after their last write
TOP_MAX = 100
NEIGHBOURS = 5


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
    return period_of(kind, now or timezone.now())


def period_of(kind: str, moment: datetime) -> Period:
    """The week, month or all-time board period holding `moment` (program time, config.periods)."""
    if kind == "all":
        return Period("all-time", "all", "all", None, None)
    starts_at, ends_at = period_bounds(moment, "week" if kind == "week" else "month")
    label = week_label(moment) if kind == "week" else month_label(moment)
    return Period(_NAMES[kind], kind, label, starts_at, ends_at)


# ------------------------------------------------------------------------------------------------ redis
def redis_client():
    """The cache's Redis client (django-redis: one connection pool per process)."""
    return get_redis_connection("default")


def key_prefix() -> str:
    return f"{settings.CACHES['default'].get('KEY_PREFIX') or 'fidelio'}:lb"


def board_key(kind: str, label: str) -> str:
    return f"{key_prefix()}:all" if kind == "all" else f"{key_prefix()}:{kind}:{label}"


def hidden_key() -> str:
    return f"{key_prefix()}:hidden"


def journal_keys() -> tuple[str, str]:
    return f"{key_prefix()}:journal:on", f"{key_prefix()}:journal"


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

_SCRIPTS: dict[str, object] = {}


def lua(r, source: str):
    """A registered Lua script (registered once per process)."""
    if source not in _SCRIPTS:
        _SCRIPTS[source] = r.register_script(source)
    return _SCRIPTS[source]


def member_points_get(*, member_id: int, periods: list[Period]) -> list[int]:
    """The member's counted points in each period, from the ledger (one query)."""
    sums = {
        f"p{i}": Sum("points") if period.starts_at is None
        else Sum("points", filter=Q(created_at__gte=period.starts_at, created_at__lt=period.ends_at))
        for i, period in enumerate(periods)
    }
    row = LedgerEntry.objects.filter(member_id=member_id, kind__in=COUNTED_KINDS, points__gt=0).aggregate(**sums)
    return [row[f"p{i}"] or 0 for i in range(len(periods))]


# ---------------------------------------------------------------------------------------------- reading
def _names(ids: list[int]) -> dict[int, str]:
    """Public names of the visible members among `ids`, in one query (hidden members are left out)."""
    if not ids:
        return {}
    rows = (Member.objects.filter(pk__in=ids).exclude(leaderboard_visibility=Visibility.HIDDEN)
            .values_list("pk", "display_name", "member_number", "leaderboard_visibility"))
    return {pk: member_public_name(display_name=d, member_number=n, visibility=v) for pk, d, n, v in rows}


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
        raise DomainError(gettext("limit is a whole number from 1 to %(max)d.") % {"max": TOP_MAX}, field="limit",
                          code="invalid_limit")
    r = redis_client()
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
    r = redis_client()
    reply = lua(r, _AROUND)(keys=[period.key], args=[member.pk, fallback, neighbours], client=r)
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
    my_name = None if hidden else member_public_name(
        display_name=member.display_name, member_number=member.member_number,
        visibility=member.leaderboard_visibility)
    results = [{"rank": rk, "name": my_name if m == member.pk else names[m], "points": s, "is_me": m == member.pk}
               for m, s, rk in rows if m == member.pk or m in names]
    return {**_header(period, size),
            "me": {"rank": rank, "points": score, "name": my_name, "visibility": member.leaderboard_visibility,
                   "on_board": on_board},
            "results": results}
