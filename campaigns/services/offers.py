"""Offers: who is in an offer's audience, the set-based assignment with its random holdout, activation by the
member, and the source through which the points engine applies them (loyalty.offers).

The holdout is drawn per (offer seed, member id) with md5 in SQL: the same seed always holds out the same members,
a member keeps their group when the job runs again, and the draw needs no state beyond the stored rows. A member
in the holdout has an assignment row (so the results can compare the groups) but never sees the offer and never
gets its benefit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from campaigns.exceptions import OfferNotActivatable
from campaigns.models import Offer, OfferAssignment
from campaigns.selectors import favourite_categories
from config.exceptions import NotFound
from config.memo import memo_forget, memo_get
from config.sql import fetch_all, fetch_one
from loyalty.models import Purchase
from loyalty.offers import EarnOffer, EarnOfferSource
from members.models import Member

LIVE_KEY = "campaigns:live-offers:v1"

# The score conditions (RFM segment, P(alive), predicted CLV) live with the scores, in the back office above this
# app: it registers a function that narrows a member queryset by them (backoffice.apps).
ScoreFilter = Callable[..., QuerySet[Member]]
_score_filter: ScoreFilter | None = None
_segments: list[tuple[str, str]] = []


def audience_score_filter_register(narrow: ScoreFilter, *, segments: list[tuple[str, str]]) -> None:
    """`narrow(members, segments=[…], p_alive_min=…, p_alive_max=…, clv_min=…, clv_max=…)`; `segments`: the
    (value, label) choices of the RFM segments."""
    global _score_filter
    _score_filter = narrow
    _segments[:] = segments


def segment_choices() -> list[tuple[str, str]]:
    return list(_segments)


def audience_members(offer: Offer, *, now: datetime) -> QuerySet[Member]:
    """The members the offer's audience describes (every condition set must hold), erased members never."""
    members = Member.objects.filter(erased_at__isnull=True)
    tier_ids = [t.pk for t in offer.audience_tiers.all()] if offer.pk else []
    if tier_ids:
        members = members.filter(tier_id__in=tier_ids)
    if offer.audience_languages:
        languages = Q(language__in=offer.audience_languages)
        if settings.LANGUAGE_CODE in offer.audience_languages:
            languages |= Q(language="")  # no choice made: the program's language
        members = members.filter(languages)
    if offer.birthday_month:
        members = members.filter(birthday__month=offer.birthday_month)
    if offer.joined_within_days is not None:
        members = members.filter(created_at__gte=now - timedelta(days=offer.joined_within_days))
    if offer.days_since_purchase_min is not None or offer.days_since_purchase_max is not None:
        last = Purchase.objects.filter(member_id=OuterRef("pk")).values("member_id").annotate(
            last=Max("occurred_at")).values("last")
        members = members.annotate(last_purchase_at=Subquery(last)).filter(last_purchase_at__isnull=False)
        if offer.days_since_purchase_min is not None:
            members = members.filter(last_purchase_at__lte=now - timedelta(days=offer.days_since_purchase_min))
        if offer.days_since_purchase_max is not None:
            members = members.filter(last_purchase_at__gte=now - timedelta(days=offer.days_since_purchase_max))
    if offer.favourite_category:
        favourite = favourite_categories(member_id=OuterRef("pk"), now=now).values("key")[:1]
        members = members.annotate(favourite_category=Subquery(favourite)).filter(
            favourite_category=offer.favourite_category.lower())
    scores = {"segments": offer.audience_segments, "p_alive_min": offer.p_alive_min,
              "p_alive_max": offer.p_alive_max, "clv_min": offer.clv_min, "clv_max": offer.clv_max}
    if any(value not in (None, []) for value in scores.values()):
        if _score_filter is None:  # pragma: no cover - the back office is always installed
            raise RuntimeError("no score filter registered")
        members = _score_filter(members, **scores)
    return members


# Insert the audience's members not assigned yet, each in the holdout when the first 32 bits of
# md5(seed:member id), read as a number from 0 to 2^32 - 1, fall in the holdout's share. Positional parameters:
# the audience query's own, then offer, seed, holdout percent, now.
_ASSIGN = """
WITH audience (id) AS ({audience}),
inserted AS (
    INSERT INTO campaigns_offerassignment (offer_id, member_id, holdout, assigned_at, activated_at, uses,
                                           points_given)
    SELECT %s, audience.id,
           ('x' || substr(md5(%s || ':' || audience.id::text), 1, 8))::bit(32)::bigint
               < %s::bigint * 4294967296 / 100,
           %s, NULL, 0, 0
    FROM audience
    ON CONFLICT (offer_id, member_id) DO NOTHING
    RETURNING holdout
)
SELECT count(*) FILTER (WHERE NOT holdout) AS treatment, count(*) FILTER (WHERE holdout) AS holdout FROM inserted
"""


def offer_assign(*, offer: Offer, now: datetime | None = None) -> dict[str, int]:
    """Assign the offer to its audience's members who do not have it yet: one statement. Members who left the
    audience keep what they were given. Returns the new assignments per group."""
    now = now or timezone.now()
    if not offer.is_active or offer.ends_at <= now:
        return {"treatment": 0, "holdout": 0}
    audience_sql, audience_params = audience_members(offer, now=now).values("pk").query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_ASSIGN.format(audience=audience_sql),
                       [*audience_params, offer.pk, offer.seed, offer.holdout_percent, now])
        row = fetch_one(cursor)
        if row["treatment"] or row["holdout"]:  # "last assigned at": when members were last added
            Offer.objects.filter(pk=offer.pk).update(assigned_at=now)
    return {"treatment": row["treatment"], "holdout": row["holdout"]}


def offers_assign_all(*, now: datetime | None = None, progress: Callable[[Offer, dict], None] | None = None
                      ) -> dict[str, int]:
    """Every active offer that has not ended, one statement each (nightly after the rollup; `assign_offers`)."""
    now = now or timezone.now()
    totals = {"offers": 0, "treatment": 0, "holdout": 0}
    for offer in Offer.objects.filter(is_active=True, ends_at__gt=now).prefetch_related("audience_tiers"):
        done = offer_assign(offer=offer, now=now)
        totals["offers"] += 1
        totals["treatment"] += done["treatment"]
        totals["holdout"] += done["holdout"]
        if progress is not None:
            progress(offer, done)
    return totals


@transaction.atomic
def offer_activate(*, member: Member, offer_id: int, now: datetime | None = None) -> OfferAssignment:
    """The member turns on an offer that needs activation. Activating again changes nothing. An offer the member
    was not given (or is held out of) is not found: the holdout must not learn it exists."""
    now = now or timezone.now()
    assignment = (OfferAssignment.objects.select_for_update().select_related("offer")
                  .filter(member_id=member.pk, offer_id=offer_id, holdout=False, offer__is_active=True).first())
    if assignment is None:
        raise NotFound(_("No such offer."), code="offer_not_found")
    if assignment.offer.ends_at <= now:
        raise OfferNotActivatable(_("This offer has ended."))
    if assignment.activated_at is None:
        assignment.activated_at = now
        assignment.save(update_fields=["activated_at"])
    return assignment


# ------------------------------------------------------------------------------------------ the earn path
# The purchase path's two statements are hand-written (this module owns them): through the ORM, compiling the
# look-up and the counter update cost about 2 ms per purchase on this machine, twice the 1 ms the issue allows for 20
# live offers (docs/decisions.md, "Offers on the purchase path"). The offers themselves come from a memo.
_LIVE_ASSIGNMENTS = """
SELECT id, member_id, offer_id, uses, activated_at FROM campaigns_offerassignment
WHERE member_id = ANY(%(members)s) AND offer_id = ANY(%(offers)s) AND NOT holdout
"""

_USES_ADD = """
UPDATE campaigns_offerassignment AS a SET uses = a.uses + v.n, points_given = a.points_given + v.points
FROM unnest(%(ids)s::bigint[], %(counts)s::int[], %(points)s::int[]) AS v (id, n, points) WHERE a.id = v.id
"""


def _live_offers() -> dict[int, tuple[EarnOffer, bool, int | None]]:
    """{offer id: (the offer as the earn path sees it, needs activation, limit per member)} for the active offers
    that have not ended; names in the program's language (the breakdown is written in it)."""
    live = {}
    with translation.override(settings.LANGUAGE_CODE):
        for offer in Offer.objects.filter(is_active=True, ends_at__gt=timezone.now()):
            multiplier = offer.multiplier if offer.benefit == Offer.Benefit.MULTIPLIER else Decimal("1")
            bonus = offer.bonus_points if offer.benefit == Offer.Benefit.BONUS else 0
            live[offer.pk] = (EarnOffer(key=0, name=offer.name, multiplier=multiplier, bonus_points=bonus or 0,
                                        category=offer.category, min_amount=offer.min_amount,
                                        starts_at=offer.starts_at, ends_at=offer.ends_at),
                              offer.needs_activation, offer.limit_per_member)
    return live


def offers_changed(**kwargs: object) -> None:
    memo_forget(LIVE_KEY)


def _earn_offers_live(member_ids: list[int]) -> dict[int, list[EarnOffer]]:
    live = memo_get(LIVE_KEY, _live_offers)
    if not live:
        return {}  # no offer running: no query on the purchase path
    with connection.cursor() as cursor:
        cursor.execute(_LIVE_ASSIGNMENTS, {"members": list(member_ids), "offers": list(live)})
        rows = fetch_all(cursor)
    found: dict[int, list[EarnOffer]] = {}
    for row in rows:
        offer, needs_activation, limit = live[row["offer_id"]]
        if needs_activation and row["activated_at"] is None:
            continue
        uses_left = None if limit is None else limit - row["uses"]
        if uses_left is not None and uses_left <= 0:
            continue
        found.setdefault(row["member_id"], []).append(replace(offer, key=row["id"], uses_left=uses_left))
    return found


def _earn_offers_used(counts: dict[int, tuple[int, int]]) -> None:
    """Count the uses and the points given (the caller holds the members' row locks; the limit was checked under
    them)."""
    with connection.cursor() as cursor:
        cursor.execute(_USES_ADD, {"ids": list(counts), "counts": [n for n, _points in counts.values()],
                                   "points": [points for _n, points in counts.values()]})


EARN_OFFER_SOURCE = EarnOfferSource(live=_earn_offers_live, used=_earn_offers_used)
