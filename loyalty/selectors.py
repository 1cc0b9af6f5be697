"""Points-engine read queries. Each is a constant number of indexed queries, whatever the history length."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection
from django.db.models import Min, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from config.periods import add_months
from config.sql import fetch_all
from loyalty.models import LedgerEntry, PointsLot, Purchase
from members.models import Member, Tier
from members.services import tier_windows


def points_balance_get(*, member_id: int) -> int:
    return Member.objects.filter(pk=member_id).values_list("points_balance", flat=True).get()


# The tier figures: per tier window, the qualifying value of the member's purchases inside it (points earned
# net of returns, or money spent net of returns: FIDELIO_TIER_BASIS), pending purchases included. Hand-written
# because the purchase post reads them under the member's row lock on every post that could upgrade a tier:
# the ORM's filtered aggregates cost more Python than the statement costs PostgreSQL (docs/decisions.md).
_QUALIFYING_ONE = """
SELECT w.months,
       COALESCE(SUM(CASE WHEN %(points)s THEN p.points_earned - p.points_reversed
                         ELSE p.amount - p.returned_amount END), 0) AS figure
FROM unnest(%(windows)s::int[], %(since)s::timestamptz[]) AS w (months, since)
LEFT JOIN loyalty_purchase p
       ON p.member_id = %(member)s AND p.occurred_at > w.since AND p.occurred_at <= %(now)s
GROUP BY w.months
"""

_QUALIFYING_MANY = """
SELECT p.member_id, w.months,
       SUM(CASE WHEN %(points)s THEN p.points_earned - p.points_reversed ELSE p.amount - p.returned_amount END)
           AS figure
FROM unnest(%(windows)s::int[], %(since)s::timestamptz[]) AS w (months, since)
JOIN loyalty_purchase p
  ON p.member_id = ANY(%(members)s) AND p.occurred_at > w.since AND p.occurred_at <= %(now)s
GROUP BY p.member_id, w.months
"""


def _qualifying_params(now: datetime) -> tuple[list[int], bool, dict[str, object]]:
    windows = tier_windows()
    points = settings.FIDELIO_TIER_BASIS == "points"
    return windows, points, {"windows": windows, "since": [add_months(now, -months) for months in windows],
                             "points": points, "now": now}


def _figure(value: Decimal, points: bool) -> int | Decimal:
    return int(value) if points else value


def qualifying_figures(*, member_id: int, now: datetime | None = None) -> dict[int, int | Decimal]:
    """Points earned (or money spent, by FIDELIO_TIER_BASIS) per tier window, in ONE aggregate query.

    Counts purchases inside the window, pending ones included, net of returns — never the balance.
    """
    _windows, points, params = _qualifying_params(now or timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(_QUALIFYING_ONE, {**params, "member": member_id})
        return {row["months"]: _figure(row["figure"], points) for row in fetch_all(cursor)}


def qualifying_figures_many(*, member_ids: list[int], now: datetime | None = None
                            ) -> dict[int, dict[int, int | Decimal]]:
    """qualifying_figures for many members in one GROUP BY query."""
    windows, points, params = _qualifying_params(now or timezone.now())
    zero = _figure(Decimal("0"), points)
    out: dict[int, dict[int, int | Decimal]] = {pk: dict.fromkeys(windows, zero) for pk in member_ids}
    with connection.cursor() as cursor:
        cursor.execute(_QUALIFYING_MANY, {**params, "members": list(member_ids)})
        for row in fetch_all(cursor):
            out[row["member_id"]][row["months"]] = _figure(row["figure"], points)
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


# ------------------------------------------------------------------------------------------ ledger texts
ADJUSTMENT_PREFIX = "Adjustment by our team: "
# Entries written before 2026-12-01 read "Adjustment by <staff e-mail>: <reason>"; the ledger is append-only,
# so they keep that text and are rewritten when shown (an e-mail address holds no colon).
_NAMED_ADJUSTMENT = re.compile(r"^Adjustment by [^:\n]*: ")


def ledger_entry_member_description(*, entry: LedgerEntry) -> str:
    """The description a member (and an integration) reads for a ledger entry: the stored text, except that
    a staff adjustment never names who made it (staff see the author in the ledger admin)."""
    if entry.kind == LedgerEntry.Kind.ADJUST:
        return _NAMED_ADJUSTMENT.sub(ADJUSTMENT_PREFIX, entry.description, count=1)
    return entry.description


def purchases_pending_list(*, member: Member) -> QuerySet[Purchase]:
    """The member's purchases whose points wait for the end of their return window, soonest first."""
    return Purchase.objects.filter(member=member, confirmed_at__isnull=True, points_pending__gt=0).order_by(
        "confirm_after")


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
    with connection.cursor() as cursor:
        cursor.execute(_MISMATCH_SQL)
        members = fetch_all(cursor)  # member_id, member_number, balance, ledger_sum, lots_remaining, pending, …
        cursor.execute(_LOT_SQL)
        lots = fetch_all(cursor)  # lot_id, member_id, points, remaining, entry_points, entry_member_id
    return {"members": members, "lots": lots}


# ------------------------------------------------------------------------------------- personal data export
def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def member_purchases_export(member: Member) -> list[dict]:
    """The member's purchases with their items and returns (members.services.personal_data_export)."""
    purchases = (Purchase.objects.filter(member=member).prefetch_related("items", "returns")
                 .order_by("occurred_at", "pk"))
    return [{
        "order_id": p.order_id, "source": p.source, "amount": str(p.amount), "currency": p.currency,
        "occurred_at": _iso(p.occurred_at), "status": p.status, "points_earned": p.points_earned,
        "points_pending": p.points_pending, "returned_amount": str(p.returned_amount),
        "items": [{"sku": i.sku, "name": i.name, "category": i.category, "quantity": i.quantity,
                   "unit_price": str(i.unit_price)} for i in p.items.all()],
        "returns": [{"return_id": r.return_id, "amount": str(r.amount), "points_reversed": r.points_reversed,
                     "at": _iso(r.created_at)} for r in p.returns.all()],
    } for p in purchases]


def member_ledger_export(member: Member) -> list[dict]:
    """The member's points history, oldest first, each entry as the member reads it."""
    return [{
        "at": _iso(e.created_at), "kind": e.kind, "points": e.points, "balance_after": e.balance_after,
        "description": ledger_entry_member_description(entry=e), "reference": e.reference,
    } for e in LedgerEntry.objects.filter(member=member).order_by("created_at", "pk")]
