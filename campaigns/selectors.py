"""Reads of the campaigns app: a member's offers (portal, API, personal-data export) and what an offer earned."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Avg, Count, F, OuterRef, Q, QuerySet, Subquery, Sum, Value, Variance
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from campaigns.models import Offer, OfferAssignment
from loyalty.models import LedgerEntry, Purchase, PurchaseItem
from members.models import Member
from rewards.models import Reward
from rewards.selectors import Eligibility, reward_eligibility_many, reward_list_available


def member_offers(*, member: Member, now: datetime | None = None) -> list[dict[str, Any]]:
    """The offers the member was given (never the ones they are held out of) that run now or are still to come,
    soonest ending first, each with whether it counts yet and the uses left."""
    now = now or timezone.now()
    rows = []
    for assignment in (OfferAssignment.objects.filter(member_id=member.pk, holdout=False, offer__is_active=True,
                                                      offer__ends_at__gt=now)
                       .select_related("offer").order_by("offer__ends_at", "offer_id")):
        offer = assignment.offer
        limit = offer.limit_per_member
        uses_left = None if limit is None else max(limit - assignment.uses, 0)
        rows.append({
            "offer": offer, "assignment": assignment, "started": offer.starts_at <= now,
            "needs_activation": offer.needs_activation, "activated": assignment.activated_at is not None,
            "counts": (not offer.needs_activation or assignment.activated_at is not None) and uses_left != 0,
            "uses": assignment.uses, "uses_left": uses_left,
        })
    return rows


def member_offers_export(member: Member) -> list[dict[str, Any]]:
    """Personal-data export: every offer the member was given, with what they did with it. A holdout row is the
    member's data too (they were in a measured control group), but it does not name the offer they never got."""
    return [
        {"offer": None if a.holdout else a.offer.name, "held_out": a.holdout, "assigned_at": a.assigned_at.isoformat(),
         "activated_at": a.activated_at.isoformat() if a.activated_at else None, "uses": a.uses}
        for a in OfferAssignment.objects.filter(member_id=member.pk).select_related("offer").order_by("assigned_at")
    ]


# ------------------------------------------------------------------------------------------------- results
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


def welch_interval(*, n1: int, mean1: float, var1: float, n2: int, mean2: float, var2: float,
                   level: float = 0.95) -> Interval | None:
    """The confidence interval of mean1 − mean2 by Welch's t (unequal variances, Welch–Satterthwaite degrees of
    freedom). None when a group has fewer than two members. Both variances zero: the difference itself."""
    if n1 < 2 or n2 < 2:
        return None
    a, b = var1 / n1, var2 / n2
    diff = mean1 - mean2
    se = math.sqrt(a + b)
    if se == 0:
        return Interval(diff, diff)
    df = (a + b) ** 2 / (a * a / (n1 - 1) + b * b / (n2 - 1))
    from scipy import stats  # here, not at start-up: scipy.stats costs every process ~70 MB and a second to import

    t = float(stats.t.ppf((1 + level) / 2, df))
    return Interval(diff - t * se, diff + t * se)


def _money(value: float | Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(CENT)


def offer_results(*, offer: Offer, now: datetime | None = None) -> dict[str, Any]:
    """What the offer earned, treatment against holdout, over its window and the follow-up days after it (up to
    now): members, purchasers, orders, revenue per member (net of returns), the points the offer gave and their
    money value, the incremental revenue (the difference in revenue per member × treated members) with its 95 %
    interval (Welch), and the return on that cost. docs/campaigns.md, "Results"."""
    now = now or timezone.now()
    until = min(offer.ends_at + timedelta(days=offer.follow_up_days), now)
    in_window = Purchase.objects.filter(member_id=OuterRef("member_id"), occurred_at__gte=offer.starts_at,
                                        occurred_at__lt=until).values("member_id")
    revenue = in_window.annotate(total=Sum(F("amount") - F("returned_amount"))).values("total")
    orders = in_window.annotate(n=Count("id")).values("n")
    rows = (OfferAssignment.objects.filter(offer=offer)
            .annotate(revenue=Coalesce(Subquery(revenue), Value(Decimal("0"))), orders=Coalesce(Subquery(orders), 0))
            .values("holdout")
            .annotate(members=Count("id"), purchasers=Count("id", filter=Q(orders__gt=0)), orders_total=Sum("orders"),
                      revenue_total=Sum("revenue"), mean=Avg("revenue"), var=Variance("revenue", sample=True),
                      points=Sum("points_given"))
            .order_by("holdout"))
    groups = {}
    for row in rows:
        key = "holdout" if row["holdout"] else "treatment"
        groups[key] = {
            "members": row["members"], "purchasers": row["purchasers"], "orders": row["orders_total"] or 0,
            "revenue": _money(row["revenue_total"] or 0), "revenue_per_member": _money(row["mean"] or 0),
            "points_given": row["points"] or 0, "_mean": float(row["mean"] or 0), "_var": float(row["var"] or 0),
        }
    empty = {"members": 0, "purchasers": 0, "orders": 0, "revenue": _money(0), "revenue_per_member": _money(0),
             "points_given": 0, "_mean": 0.0, "_var": 0.0}
    treatment, holdout = groups.get("treatment", dict(empty)), groups.get("holdout", dict(empty))
    cost = Decimal(treatment["points_given"]) * Decimal(settings.FIDELIO_POINT_VALUE)
    interval = welch_interval(n1=treatment["members"], mean1=treatment["_mean"], var1=treatment["_var"],
                              n2=holdout["members"], mean2=holdout["_mean"], var2=holdout["_var"])
    treated = treatment["members"]
    incremental = (treatment["_mean"] - holdout["_mean"]) * treated if holdout["members"] else None
    for group in (treatment, holdout):
        group.pop("_mean"), group.pop("_var")
    return {
        "offer": offer.pk, "name": offer.name, "starts_at": offer.starts_at, "ends_at": offer.ends_at,
        "measured_until": until, "holdout_percent": offer.holdout_percent,
        "treatment": treatment, "holdout": holdout,
        "cost": _money(cost),
        "incremental_revenue": _money(incremental),
        "incremental_revenue_low": _money(interval.low * treated) if interval else None,
        "incremental_revenue_high": _money(interval.high * treated) if interval else None,
        "roi": (None if incremental is None or not cost
                else round((Decimal(str(incremental)) - cost) / cost, 2)),
        "method": "Welch's t, 95 %",
    }


# ------------------------------------------------------------------------------------------ "for you"
FOR_YOU_REWARDS = 6
FAVOURITE_CATEGORIES = 3
FAVOURITE_DAYS = 365
PACE_DAYS = 90  # the member's earning pace: points earned over the last 90 days, per 30 days


@dataclass(frozen=True)
class RankedReward:
    reward: Reward
    score: float
    eligibility: Eligibility  # eligible now, or why not (only ever: not enough points yet)
    needed: int  # points still missing (0 when affordable)
    category_match: bool


def favourite_categories(*, member_id: int | OuterRef, now: datetime) -> QuerySet:
    """A member's categories by what they spent in each over the last year (purchase items), most first (ties by
    name), lower-cased, as rows with `key`. The one definition of "favourite category": an offer's audience reads
    the first row (`member_id=OuterRef("pk")`, campaigns.services.offers), "For you" the first three."""
    return (PurchaseItem.objects.filter(purchase__member_id=member_id,
                                        purchase__occurred_at__gte=now - timedelta(days=FAVOURITE_DAYS))
            .exclude(category="").annotate(key=Lower("category")).values("key")
            .annotate(spent=Sum(F("quantity") * F("unit_price"))).order_by("-spent", "key"))


def member_favourite_categories(*, member: Member, now: datetime, limit: int = FAVOURITE_CATEGORIES) -> list[str]:
    return [row["key"] for row in favourite_categories(member_id=member.pk, now=now)[:limit]]


def member_earning_pace(*, member: Member, now: datetime) -> int:
    """Points the member earns in 30 days at their recent pace (earn entries of the last 90 days)."""
    earned = (LedgerEntry.objects.filter(member_id=member.pk, kind=LedgerEntry.Kind.EARN,
                                         created_at__gte=now - timedelta(days=PACE_DAYS))
              .aggregate(total=Coalesce(Sum("points"), 0))["total"])
    return earned * 30 // PACE_DAYS


def reward_score(*, cost: int, balance: int, pace: int, category_match: bool, for_their_tier: bool) -> float | None:
    """How well a reward suits the member now; None: not for them now (neither affordable nor within reach).

    - affordable now: 4 (so it always ranks above anything within reach, whose score stays below 3.5);
    - within reach — the missing points at most what the member earns in 30 days at their pace: from 2 (nothing
      missing) down to 1 (a whole month's earning missing);
    - + 1 when the reward is about one of the member's favourite categories;
    - + 0.5 when it is reserved to their tier (its minimum tier is the member's tier).
    Ties: the dearer reward first (among those they can have, the bigger treat), then the catalog order."""
    needed = max(cost - balance, 0)
    if needed == 0:
        score = 4.0
    elif pace > 0 and needed <= pace:
        score = 2.0 - needed / pace
    else:
        return None
    return score + (1.0 if category_match else 0.0) + (0.5 if for_their_tier else 0.0)


def rewards_for_member(*, member: Member, now: datetime | None = None, limit: int = FOR_YOU_REWARDS
                       ) -> list[RankedReward]:
    """The rewards ranked for this member by `reward_score` (docs/campaigns.md, "For you"): only those they may
    redeem now or will soon (eligible but for the points), best first. Four queries whatever the catalog."""
    now = now or timezone.now()
    rewards = list(reward_list_available(now=now))
    eligibility = reward_eligibility_many(member=member, rewards=rewards, now=now)
    favourites = set(member_favourite_categories(member=member, now=now))
    pace = member_earning_pace(member=member, now=now)
    ranked = []
    for reward in rewards:
        verdict = eligibility[reward.pk]
        if not verdict.eligible and verdict.reason != "insufficient_points":
            continue
        match = bool(reward.category) and reward.category.lower() in favourites
        score = reward_score(cost=reward.cost_points, balance=member.points_balance, pace=pace, category_match=match,
                             for_their_tier=reward.minimum_tier_id is not None
                             and reward.minimum_tier_id == member.tier_id)
        if score is not None:
            ranked.append(RankedReward(reward=reward, score=score, eligibility=verdict,
                                       needed=max(reward.cost_points - member.points_balance, 0),
                                       category_match=match))
    ranked.sort(key=lambda r: (-r.score, -r.reward.cost_points, r.reward.sort_order, r.reward.pk))
    return ranked[:limit]
