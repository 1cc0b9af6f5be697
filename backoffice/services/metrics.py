"""Metric rollups: per-period snapshots, the cohort table, RFM scores and program KPIs (definitions in
docs/metrics.md). Everything is computed in PostgreSQL with set-based queries; Python only walks the list
of periods (a few hundred at most) and writes the results.

The rollup for day D (`as_of`) sees everything that happened before the end of D in program time (the
cutoff); recency is counted in days up to D; the period containing D ends at the cutoff.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import connection, transaction

from backoffice.models import CohortCell, MemberScore, MetricSnapshot
from config.periods import local_date, local_midnight, period_next, period_start, program_tz
from config.sql import fetch_all
from feedback.services import csat_for_period, nps_for_period
from loyalty.models import LedgerEntry
from rewards.models import Reward

logger = logging.getLogger(__name__)

GRANULARITIES = ("day", "week", "month", "quarter")
RETENTION_GRANULARITIES = ("month", "quarter")
K = LedgerEntry.Kind
CREDIT_KINDS = (K.EARN, K.BONUS, K.REFERRAL, K.BIRTHDAY, K.CHALLENGE)
# The choice values the ledger and reward-cost queries compare with, passed as parameters (STYLE.md §12).
_CHOICE_PARAMS = {"credit": list(CREDIT_KINDS), "adjust": K.ADJUST, "redeem": K.REDEEM, "expire": K.EXPIRE,
                  "fixed_discount": Reward.Kind.FIXED_DISCOUNT}

# R score × FM score (FM = (F + M + 1) // 2, i.e. their mean rounded half up) → segment. docs/metrics.md.
S = MemberScore.Segment
SEGMENT_MAP: dict[int, tuple[str, str, str, str, str]] = {
    #    FM=1               FM=2                  FM=3                  FM=4          FM=5
    5: (S.NEW, S.POTENTIAL_LOYALIST, S.POTENTIAL_LOYALIST, S.CHAMPIONS, S.CHAMPIONS),
    4: (S.PROMISING, S.POTENTIAL_LOYALIST, S.POTENTIAL_LOYALIST, S.LOYAL, S.CHAMPIONS),
    3: (S.PROMISING, S.NEED_ATTENTION, S.NEED_ATTENTION, S.LOYAL, S.LOYAL),
    2: (S.HIBERNATING, S.HIBERNATING, S.AT_RISK, S.AT_RISK, S.CANT_LOSE),
    1: (S.LOST, S.LOST, S.HIBERNATING, S.AT_RISK, S.CANT_LOSE),
}


def segment_for(*, r: int, f: int, m: int) -> str:
    return SEGMENT_MAP[r][(f + m + 1) // 2 - 1]


# ------------------------------------------------------------------------------------------ periods
def periods_between(*, first: date, last: date, period: str) -> Iterator[date]:
    """Starts of every `period` from the one containing `first` to the one containing `last`."""
    start = period_start(day=first, period=period)
    while start <= last:
        yield start
        start = period_next(start=start, period=period)


def default_from(*, as_of: date) -> date:
    """Without a backfill the rollup recomputes the previous and the current quarter (so the periods that
    just ended get their final figures and their retention)."""
    start = period_start(day=as_of, period="quarter")
    return period_start(day=start - timedelta(days=1), period="quarter")


# ------------------------------------------------------------------------------------------ helpers
def _rows(query: str, params: dict) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return fetch_all(cursor)


def _money(value) -> str:
    return str(Decimal(value or 0).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _ratio(numerator, denominator, places: str = "0.0001") -> str | None:
    if not denominator:
        return None
    return str((Decimal(numerator) / Decimal(denominator)).quantize(Decimal(places), rounding=ROUND_HALF_UP))


def _sales_figures(*, customers: int, orders: int, revenue, repeat_customers: int) -> dict:
    return {
        "customers": customers,
        "orders": orders,
        "revenue": _money(revenue),
        "aov": _ratio(revenue or 0, orders, "0.01"),
        "purchase_frequency": _ratio(orders, customers),
        "repeat_purchase_rate": _ratio(repeat_customers, customers),
    }


# An order is a purchase not fully returned; its revenue is the amount net of returns.
_ORDERS = "SELECT member_id, occurred_at, amount - returned_amount AS net FROM loyalty_purchase " \
          "WHERE returned_amount < amount AND occurred_at >= %(lo)s AND occurred_at < %(cutoff)s"


def sales_by_period(*, period: str, lo: datetime, cutoff: datetime) -> dict[date, dict]:
    """Customers, orders, revenue, repeat customers and retained customers per `period` start, one query.
    `retained` counts customers of P with an order in P + 1 (data up to the cutoff)."""
    step = {"day": "1 day", "week": "7 days", "month": "1 month", "quarter": "3 months"}[period]
    query = f"""
        WITH o AS (
            SELECT member_id, date_trunc(%(period)s, occurred_at AT TIME ZONE %(tz)s)::date AS ps, net
            FROM ({_ORDERS}) AS orders
        ), mp AS (
            SELECT member_id, ps, count(*) AS orders, sum(net) AS revenue FROM o GROUP BY member_id, ps
        )
        SELECT mp.ps, count(*) AS customers, sum(mp.orders) AS orders, sum(mp.revenue) AS revenue,
               count(*) FILTER (WHERE mp.orders >= 2) AS repeat_customers,
               count(nxt.member_id) AS retained
        FROM mp LEFT JOIN mp AS nxt
          ON nxt.member_id = mp.member_id AND nxt.ps = (mp.ps + interval '{step}')::date
        GROUP BY mp.ps
    """  # noqa: S608 (constants only)
    params = {"period": period, "tz": settings.FIDELIO_TIME_ZONE, "lo": lo, "cutoff": cutoff}
    return {row["ps"]: row for row in _rows(query, params)}


def program_by_period(*, period: str, lo: datetime, cutoff: datetime) -> tuple[dict, dict, dict]:
    """Members joined, ledger flows and reward cost per period start (three grouped queries)."""
    params = {"period": period, "tz": settings.FIDELIO_TIME_ZONE, "lo": lo, "cutoff": cutoff, **_CHOICE_PARAMS}
    trunc = "date_trunc(%(period)s, created_at AT TIME ZONE %(tz)s)::date"
    joined_sql = (f"SELECT {trunc} AS ps, count(*) AS n FROM members_member "  # noqa: S608 (constants only)
                  "WHERE created_at >= %(lo)s AND created_at < %(cutoff)s GROUP BY 1")
    joined = _rows(joined_sql, params)
    ledger = _rows(f"""
        SELECT {trunc} AS ps,
               coalesce(sum(points) FILTER (WHERE kind = ANY(%(credit)s) OR (kind = %(adjust)s AND points > 0)), 0)
                   AS issued,
               coalesce(-sum(points) FILTER (WHERE kind = %(redeem)s), 0) AS redeemed,
               coalesce(-sum(points) FILTER (WHERE kind = %(expire)s), 0) AS expired
        FROM loyalty_ledgerentry WHERE created_at >= %(lo)s AND created_at < %(cutoff)s GROUP BY 1""", params)  # noqa: S608 (constants only)
    cost = _rows("""
        SELECT date_trunc(%(period)s, r.created_at AT TIME ZONE %(tz)s)::date AS ps, sum(w.value) AS cost
        FROM rewards_redemption r JOIN rewards_reward w ON w.id = r.reward_id
        WHERE w.kind = %(fixed_discount)s AND w.value IS NOT NULL AND r.created_at >= %(lo)s
          AND r.created_at < %(cutoff)s GROUP BY 1""", params)
    return ({r["ps"]: r["n"] for r in joined}, {r["ps"]: r for r in ledger}, {r["ps"]: r["cost"] for r in cost})


def feedback_figures(*, start: datetime, end: datetime) -> dict:
    nps = nps_for_period(start=start, end=end)
    csat = csat_for_period(start=start, end=end)
    return {"nps": nps["nps"], "nps_responses": nps["responses"], "csat": csat["csat"],
            "csat_responses": csat["responses"]}


def period_snapshots(*, as_of: date, first: date, period: str) -> list[dict]:
    cutoff = local_midnight(as_of + timedelta(days=1))
    starts = list(periods_between(first=first, last=as_of, period=period))
    lo = local_midnight(starts[0])
    sales = sales_by_period(period=period, lo=lo, cutoff=cutoff)
    joined, ledger, cost = program_by_period(period=period, lo=lo, cutoff=cutoff)
    out = []
    for start in starts:
        end = period_next(start=start, period=period)
        end_day = min(end, as_of + timedelta(days=1))
        row = sales.get(start, {})
        figures = _sales_figures(customers=row.get("customers", 0), orders=int(row.get("orders") or 0),
                                 revenue=row.get("revenue"), repeat_customers=row.get("repeat_customers", 0))
        if period in RETENTION_GRANULARITIES:
            # Retention needs the whole next period: None while P + 1 has not ended by the cutoff.
            complete = period_next(start=end, period=period) <= as_of + timedelta(days=1)
            retention = _ratio(row.get("retained", 0), row.get("customers", 0)) if complete else None
            figures["retention_rate"] = retention
            figures["churn_rate"] = str(Decimal(1) - Decimal(retention)) if retention is not None else None
        flows = ledger.get(start, {})
        figures.update({
            "members_joined": joined.get(start, 0),
            "active_members": figures["customers"],
            "points_issued": int(flows.get("issued", 0)),
            "points_redeemed": int(flows.get("redeemed", 0)),
            "points_expired": int(flows.get("expired", 0)),
            "reward_cost": _money(cost.get(start)),
        })
        figures.update(feedback_figures(start=local_midnight(start), end=local_midnight(end_day)))
        out.append({"period": period, "period_start": start, "period_end": end_day, "metrics": figures})
    return out


# ------------------------------------------------------------------------------------------ all time
def all_time_figures(*, as_of: date) -> dict:
    cutoff = local_midnight(as_of + timedelta(days=1))
    params = {"lo": datetime(1970, 1, 1, tzinfo=program_tz()), "cutoff": cutoff, "tz": settings.FIDELIO_TIME_ZONE,
              **_CHOICE_PARAMS, "year_ago": local_midnight(as_of + timedelta(days=1) - timedelta(days=365))}
    sales = _rows(f"""
        WITH m AS (SELECT member_id, count(*) AS orders, sum(net) AS revenue, max(occurred_at) AS last_at,
                          min(occurred_at) AS first_at
                   FROM ({_ORDERS}) AS orders GROUP BY member_id)
        SELECT count(*) AS customers, coalesce(sum(orders), 0) AS orders, sum(revenue) AS revenue,
               count(*) FILTER (WHERE orders >= 2) AS repeat_customers,
               count(*) FILTER (WHERE last_at >= %(year_ago)s) AS active_12m,
               (min(first_at) AT TIME ZONE %(tz)s)::date AS first_day
        FROM m""", params)[0]  # noqa: S608 (constants only)
    figures = _sales_figures(customers=sales["customers"], orders=int(sales["orders"]), revenue=sales["revenue"],
                             repeat_customers=sales["repeat_customers"])
    figures["clv_historic"] = _ratio(sales["revenue"] or 0, sales["customers"], "0.01")
    program = _rows("""
        SELECT (SELECT count(*) FROM members_member WHERE created_at < %(cutoff)s) AS members,
               coalesce(sum(points) FILTER (WHERE kind = ANY(%(credit)s) OR (kind = %(adjust)s AND points > 0)), 0)
                   AS issued,
               coalesce(-sum(points) FILTER (WHERE kind = %(redeem)s), 0) AS redeemed,
               coalesce(-sum(points) FILTER (WHERE kind = %(expire)s), 0) AS expired,
               coalesce(sum(points), 0) AS outstanding
        FROM loyalty_ledgerentry WHERE created_at < %(cutoff)s""", params)[0]
    reward_cost = _rows("""
        SELECT coalesce(sum(w.value), 0) AS cost FROM rewards_redemption r JOIN rewards_reward w ON w.id = r.reward_id
        WHERE w.kind = %(fixed_discount)s AND w.value IS NOT NULL AND r.created_at < %(cutoff)s""", params)[0]["cost"]
    point_value = Decimal(settings.FIDELIO_POINT_VALUE)
    issued, redeemed, expired = int(program["issued"]), int(program["redeemed"]), int(program["expired"])
    outstanding = int(program["outstanding"])
    settled = redeemed + expired
    breakage = (Decimal(expired) / Decimal(settled)) if settled else Decimal(0)
    gross = Decimal(outstanding) * point_value
    expected_breakage = gross * breakage
    figures.update({
        "members_total": program["members"],
        "active_members": sales["active_12m"],
        "points_issued": issued,
        "points_redeemed": redeemed,
        "points_expired": expired,
        "points_outstanding": outstanding,
        "point_value": str(point_value),
        "breakage_rate": str(breakage.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)),
        "liability_gross": _money(gross),
        "expected_breakage_value": _money(expected_breakage),
        "liability": _money(gross - expected_breakage),
        "redemption_rate": _ratio(redeemed, issued),
        "reward_cost": _money(reward_cost),
        "reward_cost_share": _ratio(reward_cost, sales["revenue"] or 0),
        # Every purchase belongs to a member (Purchase.member is required): there is no non-member spend.
        "member_revenue": figures["revenue"],
        "non_member_revenue": None,
        "member_revenue_share": "1.0000" if sales["customers"] else None,
    })
    figures.update(feedback_figures(start=params["lo"], end=cutoff))
    figures["segments"] = {
        row["segment"]: row["n"] for row in _rows(
            "SELECT segment, count(*) AS n FROM backoffice_memberscore WHERE segment <> '' GROUP BY segment"
            " ORDER BY segment", {})
    }
    figures["first_order_day"] = sales["first_day"].isoformat() if sales["first_day"] else None
    return figures


# ------------------------------------------------------------------------------------------ cohorts
def cohort_cells(*, as_of: date) -> list[CohortCell]:
    """Month of first order × months since: cohort size and members of it with an order in that month."""
    cutoff = local_midnight(as_of + timedelta(days=1))
    rows = _rows(f"""
        WITH o AS (SELECT member_id, date_trunc('month', occurred_at AT TIME ZONE %(tz)s)::date AS month
                   FROM ({_ORDERS}) AS orders GROUP BY 1, 2),
             c AS (SELECT member_id, min(month) AS cohort FROM o GROUP BY member_id),
             size AS (SELECT cohort, count(*) AS customers FROM c GROUP BY cohort)
        SELECT c.cohort, ((extract(year FROM o.month) - extract(year FROM c.cohort)) * 12
                          + extract(month FROM o.month) - extract(month FROM c.cohort))::int AS since,
               size.customers, count(*) AS active
        FROM o JOIN c USING (member_id) JOIN size USING (cohort)
        GROUP BY 1, 2, 3 ORDER BY 1, 2""",  # noqa: S608 (constants only)
                 {"tz": settings.FIDELIO_TIME_ZONE, "lo": datetime(1970, 1, 1, tzinfo=program_tz()), "cutoff": cutoff})
    return [CohortCell(as_of=as_of, cohort_month=r["cohort"], months_since=r["since"], customers=r["customers"],
                       active=r["active"]) for r in rows]


# ------------------------------------------------------------------------------------------ RFM
def member_scores_update(*, as_of: date) -> int:
    """Upsert every member's MemberScore for `as_of` (RFM + historic CLV) with one INSERT … SELECT.
    Members without an order get frequency 0, monetary 0, no scores and no segment."""
    segments = [(r, fm + 1, seg) for r, row in SEGMENT_MAP.items() for fm, seg in enumerate(row)]
    tie = 'coalesce(m.external_id, m.member_number) COLLATE "C", m.member_number COLLATE "C"'
    query = f"""
        WITH a AS (
            SELECT member_id, count(*) AS frequency, sum(net) AS monetary,
                   %(as_of)s::date - max((occurred_at AT TIME ZONE %(tz)s)::date) AS recency
            FROM ({_ORDERS}) AS orders GROUP BY member_id
        ), s AS (
            SELECT a.*,
                   ntile(5) OVER (ORDER BY a.recency DESC, {tie}) AS r,
                   ntile(5) OVER (ORDER BY a.frequency ASC, {tie}) AS f,
                   ntile(5) OVER (ORDER BY a.monetary ASC, {tie}) AS m
            FROM a JOIN members_member m ON m.id = a.member_id
        )
        INSERT INTO backoffice_memberscore (member_id, as_of, recency_days, frequency, monetary, r_score, f_score,
                                            m_score, segment, clv_historic)
        SELECT mem.id, %(as_of)s, s.recency, coalesce(s.frequency, 0), coalesce(s.monetary, 0), s.r, s.f, s.m,
               coalesce(seg.segment, ''), coalesce(s.monetary, 0)
        FROM members_member mem
        LEFT JOIN s ON s.member_id = mem.id
        LEFT JOIN unnest(%(seg_r)s::int[], %(seg_fm)s::int[], %(seg_name)s::varchar[]) AS seg(r, fm, segment)
               ON seg.r = s.r AND seg.fm = (s.f + s.m + 1) / 2
        WHERE mem.created_at < %(cutoff)s OR s.member_id IS NOT NULL
        ON CONFLICT (member_id) DO UPDATE SET
            as_of = EXCLUDED.as_of, recency_days = EXCLUDED.recency_days, frequency = EXCLUDED.frequency,
            monetary = EXCLUDED.monetary, r_score = EXCLUDED.r_score, f_score = EXCLUDED.f_score,
            m_score = EXCLUDED.m_score, segment = EXCLUDED.segment, clv_historic = EXCLUDED.clv_historic
    """  # noqa: S608 (constants only)
    params = {"as_of": as_of, "tz": settings.FIDELIO_TIME_ZONE, "lo": datetime(1970, 1, 1, tzinfo=program_tz()),
              "cutoff": local_midnight(as_of + timedelta(days=1)),
              "seg_r": [r for r, _, _ in segments], "seg_fm": [fm for _, fm, _ in segments],
              "seg_name": [seg for _, _, seg in segments]}
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.rowcount


def clv_predict(*, as_of: date) -> str:
    """Fill clv_12m / expected_purchases_12m / p_alive through backoffice.clv when it offers the interface."""
    try:
        from backoffice.clv import clv_scores_update
    except ImportError:
        return "skipped: backoffice.clv.clv_scores_update is not available"
    result = clv_scores_update(as_of=as_of)
    return f"done: {result}"


# ------------------------------------------------------------------------------------------ the rollup
@dataclass
class RollupResult:
    as_of: date
    snapshots: int
    cohort_cells: int
    member_scores: int
    clv: str
    seconds: float


ROLLUP_PROGRESS_KEY = "backoffice:rollup:progress"


def rollup_progress_set(*, as_of: date, step: str, done: int, seconds: float | None = None) -> None:
    """Where the latest background rollup is (shown on the snapshots page while it runs)."""
    from django.core.cache import cache
    from django.utils import timezone as django_timezone

    cache.set(ROLLUP_PROGRESS_KEY, {"as_of": as_of.isoformat(), "step": step, "done": done,
                                    "total": ROLLUP_STEPS, "seconds": seconds,
                                    "at": django_timezone.now().isoformat()}, timeout=6 * 3600)


def rollup_progress_get() -> dict | None:
    from django.core.cache import cache

    return cache.get(ROLLUP_PROGRESS_KEY)


def metrics_rollup(*, as_of: date, backfill_from: date | None = None,
                   progress: Callable[[str], None] | None = None) -> RollupResult:
    """Compute and store everything for day `as_of`. Idempotent: the day's snapshots in the recomputed range,
    its cohort cells and the member scores are replaced in one transaction."""
    import time as _time

    started = _time.monotonic()
    step = progress or (lambda name: None)
    first = min(backfill_from, as_of) if backfill_from else default_from(as_of=as_of)
    with transaction.atomic():
        member_scores = member_scores_update(as_of=as_of)
        step("rfm")
        clv = clv_predict(as_of=as_of)
        step("clv")
        rows = []
        for period in GRANULARITIES:
            rows += period_snapshots(as_of=as_of, first=first, period=period)
            step(period)
        figures = all_time_figures(as_of=as_of)
        all_start = date.fromisoformat(figures["first_order_day"]) if figures["first_order_day"] else as_of
        rows.append({"period": "all", "period_start": min(all_start, as_of), "period_end": as_of + timedelta(days=1),
                     "metrics": figures})
        step("all")
        MetricSnapshot.objects.filter(as_of=as_of, period="all").delete()
        for period in GRANULARITIES:
            MetricSnapshot.objects.filter(as_of=as_of, period=period,
                                          period_start__gte=period_start(day=first, period=period)).delete()
        MetricSnapshot.objects.bulk_create([MetricSnapshot(as_of=as_of, **row) for row in rows], batch_size=1000)
        CohortCell.objects.filter(as_of=as_of).delete()
        cells = CohortCell.objects.bulk_create(cohort_cells(as_of=as_of), batch_size=2000)
        step("cohorts")
    result = RollupResult(as_of=as_of, snapshots=len(rows), cohort_cells=len(cells), member_scores=member_scores,
                          clv=clv, seconds=round(_time.monotonic() - started, 2))
    logger.info("metrics rollup %s", result)
    return result


ROLLUP_STEPS = 2 + len(GRANULARITIES) + 2  # rfm, clv, the granularities, all, cohorts


def rollup_default_day(*, now: datetime) -> date:
    """The day the nightly run rolls up: yesterday in program time (it runs at 02:00)."""
    return local_date(now) - timedelta(days=1)
