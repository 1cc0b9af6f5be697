"""Points-engine read queries. Each is a constant number of indexed queries, whatever the history length."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import F, Min, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from config.periods import add_months
from loyalty.models import LedgerEntry, PointsLot, Purchase
from members.models import Member, Tier
from members.services import tier_windows


def points_balance_get(*, member: Member) -> int:
    return Member.objects.filter(pk=member.pk).values_list("points_balance", flat=True).get()


def _qualifying_aggregates(now: datetime) -> tuple[list[int], object, dict]:
    """Per tier window, the SUM of qualifying value over purchases inside it (points or spend basis)."""
    if settings.FIDELIO_TIER_BASIS == "points":
        value, zero = F("points_earned") - F("points_reversed"), 0
    else:
        value, zero = F("amount") - F("returned_amount"), Decimal("0")
    windows = tier_windows()
    aggregates = {
        f"m{months}": Coalesce(Sum(value, filter=Q(occurred_at__gt=add_months(now, -months))), zero)
        for months in windows
    }
    return windows, zero, aggregates


def qualifying_figures(*, member_id: int, now: datetime | None = None) -> dict[int, object]:
    """Points earned (or money spent, by FIDELIO_TIER_BASIS) per tier window, in ONE aggregate query.

    Counts purchases inside the window, pending ones included, net of returns — never the balance.
    """
    now = now or timezone.now()
    windows, _zero, aggregates = _qualifying_aggregates(now)
    row = Purchase.objects.filter(member_id=member_id, occurred_at__lte=now).aggregate(**aggregates)
    return {months: row[f"m{months}"] for months in windows}


def qualifying_figures_many(*, member_ids: list[int], now: datetime | None = None) -> dict[int, dict[int, object]]:
    """qualifying_figures for many members in one GROUP BY query."""
    now = now or timezone.now()
    windows, zero, aggregates = _qualifying_aggregates(now)
    rows = (
        Purchase.objects.filter(member_id__in=member_ids, occurred_at__lte=now)
        .values("member_id").annotate(**aggregates).order_by()
    )
    out = {pk: dict.fromkeys(windows, zero) for pk in member_ids}
    for row in rows:
        out[row["member_id"]] = {months: row[f"m{months}"] for months in windows}
    return out


def points_expiring_get(*, member_id: int, now: datetime | None = None, days: int | None = None) -> dict:
    now = now or timezone.now()
    horizon = now + timedelta(days=days if days is not None else settings.FIDELIO_EXPIRY_NOTICE_DAYS)
    row = PointsLot.objects.filter(
        member_id=member_id, remaining__gt=0, expires_at__gt=now, expires_at__lte=horizon
    ).aggregate(points=Coalesce(Sum("remaining"), 0), first_expiry=Min("expires_at"))
    return {"points": row["points"], "until": horizon, "first_expiry": row["first_expiry"]}


def tier_progress_get(*, member: Member, now: datetime | None = None) -> dict:
    """Where the member stands: current tier, next tier and what is still needed to reach it."""
    basis = settings.FIDELIO_TIER_BASIS
    figures = qualifying_figures(member_id=member.pk, now=now)
    current_rank = member.tier.rank if member.tier_id else 0
    nxt = Tier.objects.filter(rank__gt=current_rank).order_by("rank").first()
    result = {"basis": basis, "next_tier": None, "qualifying": None, "threshold": None, "needed": None,
              "period_end": member.tier_period_end}
    window = (nxt or member.tier).qualification_months if (nxt or member.tier) else 12
    result["qualifying"] = figures.get(window, 0)
    result["window_months"] = window
    if nxt is not None:
        threshold = nxt.threshold_points if basis == "points" else nxt.threshold_spend
        result.update(next_tier=nxt.name, threshold=threshold, needed=max(threshold - result["qualifying"], 0))
    return result


def ledger_list(*, member: Member) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(member=member).order_by("-created_at", "-id")


_MISMATCH_SQL = """
SELECT m.id AS member_id, m.member_number, m.points_balance AS balance, COALESCE(l.total, 0) AS ledger_sum,
       COALESCE(lt.total, 0) AS lots_remaining, m.pending_points AS pending,
       COALESCE(p.total, 0) AS pending_from_purchases
FROM members_member m
LEFT JOIN (SELECT member_id, SUM(points) AS total FROM loyalty_ledgerentry GROUP BY member_id) l
       ON l.member_id = m.id
LEFT JOIN (SELECT member_id, SUM(remaining) AS total FROM loyalty_pointslot GROUP BY member_id) lt
       ON lt.member_id = m.id
LEFT JOIN (SELECT member_id, SUM(points_pending) AS total FROM loyalty_purchase
           WHERE confirmed_at IS NULL GROUP BY member_id) p
       ON p.member_id = m.id
WHERE m.points_balance <> COALESCE(l.total, 0)
   OR m.points_balance <> COALESCE(lt.total, 0)
   OR m.pending_points <> COALESCE(p.total, 0)
   OR m.points_balance < 0
ORDER BY m.id
"""

_LOT_SQL = """
SELECT lot.id AS lot_id, lot.member_id, lot.points, lot.remaining, e.points AS entry_points,
       e.member_id AS entry_member_id
FROM loyalty_pointslot lot JOIN loyalty_ledgerentry e ON e.id = lot.entry_id
WHERE lot.points <> e.points OR lot.member_id <> e.member_id OR lot.remaining < 0 OR lot.remaining > lot.points
ORDER BY lot.id
"""


def ledger_mismatches() -> dict[str, list]:
    """Every member whose balance differs from the ledger sum or the open lots, or whose pending points
    differ from their unconfirmed purchases; and every lot inconsistent with its entry. Set-based SQL."""
    from django.db import connection

    from config.sql import fetch_all

    with connection.cursor() as cursor:
        cursor.execute(_MISMATCH_SQL)
        members = fetch_all(cursor)  # member_id, member_number, balance, ledger_sum, lots_remaining, pending, …
        cursor.execute(_LOT_SQL)
        lots = fetch_all(cursor)  # lot_id, member_id, points, remaining, entry_points, entry_member_id
    return {"members": members, "lots": lots}
