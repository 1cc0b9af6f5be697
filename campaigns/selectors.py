"""Reads of the campaigns app: a member's offers (portal, API, personal-data export)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from campaigns.models import OfferAssignment
from members.models import Member


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
