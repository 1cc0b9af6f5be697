"""Tiers: the ranked list (memoised), upgrades as figures rise, the period end (keep, raise or lower one step)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal

from django.db import transaction

from config.memo import memo_forget, memo_get
from config.periods import add_months
from members.mail import mail_send
from members.models import Member, Tier

log = logging.getLogger(__name__)

# Members knows nothing of purchases: loyalty passes the qualifying figure (points earned or money spent in
# the tier's qualification window, never the current balance).


TIERS_CACHE_KEY = "members:tiers:v1"


def tiers_ranked() -> list[Tier]:
    """All tiers, best first, memoised (tier saves and deletes clear it: members.apps)."""
    return memo_get(TIERS_CACHE_KEY, lambda: list(Tier.objects.order_by("-rank")))


def tier_upgrade_possible(*, tier: Tier | None, basis: str, most: int | Decimal | None = None) -> bool:
    """Whether a tier ranks above `tier` (None: the member has no tier yet) whose threshold a qualifying figure
    of at most `most` reaches (None: no bound known), i.e. whether an upgrade is possible at all."""
    field = "threshold_points" if basis == "points" else "threshold_spend"
    return any((tier is None or t.rank > tier.rank) and (most is None or getattr(t, field) <= most)
               for t in tiers_ranked())


def tiers_changed(**kwargs) -> None:
    memo_forget(TIERS_CACHE_KEY)


def tier_windows() -> list[int]:
    """The distinct qualification windows (months) the tiers use."""
    return sorted({t.qualification_months for t in tiers_ranked()}) or [12]


def tier_for_figures(*, figures: Mapping[int, int | Decimal], basis: str, tiers: list[Tier] | None = None
                     ) -> Tier | None:
    """The highest tier whose threshold its window's qualifying figure reaches.

    `figures` maps a window length in months to points earned (basis "points") or money spent ("spend")
    in that window, as computed by loyalty.selectors.qualifying_figures.
    """
    field = "threshold_points" if basis == "points" else "threshold_spend"
    for tier in tiers if tiers is not None else tiers_ranked():
        if figures.get(tier.qualification_months, 0) >= getattr(tier, field):
            return tier
    return None


def tier_upgrade_if_qualified(*, member: Member, figures: Mapping[int, int | Decimal], basis: str, now) -> Tier | None:
    """Upgrade at once when the figures reach a higher tier; the new tier is held for its full period."""
    best = tier_for_figures(figures=figures, basis=basis)
    if best is None:
        return None
    if member.tier_id is not None and getattr(member, "tier", None) is not None and best.rank <= member.tier.rank:
        return None  # the caller's copy already says no upgrade: no lock, no savepoint
    with transaction.atomic():
        locked = Member.objects.select_for_update(of=("self",)).select_related("tier").get(pk=member.pk)
        if locked.tier is not None and best.rank <= locked.tier.rank:
            return None
        locked.tier = best
        locked.tier_achieved_at = now
        locked.tier_period_end = add_months(now, best.qualification_months)
        locked.save(update_fields=["tier", "tier_achieved_at", "tier_period_end", "updated_at"])
    return best


@transaction.atomic
def tier_period_close(*, member_id: int, figures: Mapping[int, int | Decimal], basis: str, now) -> str:
    """At the end of a member's qualification period: keep (or raise) the tier if the figure still
    qualifies, else move down ONE tier and e-mail a notice. Returns kept / upgraded / downgraded / not_due.
    Idempotent: the period end moves forward, so a second run the same day finds nothing due."""
    locked = Member.objects.select_for_update(of=("self",)).select_related("tier").get(pk=member_id)
    if locked.tier is None or locked.tier_period_end is None or locked.tier_period_end > now:
        return "not_due"
    best = tier_for_figures(figures=figures, basis=basis)
    outcome = "kept"
    if best is not None and best.rank > locked.tier.rank:
        locked.tier, locked.tier_achieved_at, outcome = best, now, "upgraded"
    elif best is None or best.rank < locked.tier.rank:
        lower = Tier.objects.filter(rank__lt=locked.tier.rank).order_by("-rank").first()
        if lower is not None:
            previous = locked.tier
            locked.tier, locked.tier_achieved_at, outcome = lower, now, "downgraded"
            member_pk = locked.pk
            transaction.on_commit(
                lambda: tier_downgrade_notify(member_id=member_pk, old_tier=previous.name, new_tier=lower.name)
            )
    entry = Tier.objects.order_by("rank").first()
    locked.tier_period_end = (
        None if locked.tier == entry else add_months(now, locked.tier.qualification_months)
    )
    locked.save(update_fields=["tier", "tier_achieved_at", "tier_period_end", "updated_at"])
    return outcome


def tier_downgrade_notify(*, member_id: int, old_tier: str, new_tier: str) -> None:
    member = Member.objects.filter(pk=member_id).first()
    if member is None or not member.email:
        return
    try:
        mail_send("members/tier_changed", to=member.email, language=member.language, context={
            "first_name": member.first_name, "old_tier": old_tier, "new_tier": new_tier})
    except Exception:  # the tier has changed; a mail that cannot go out is logged, not retried
        log.exception("tier change mail to member %s failed", member_id)
