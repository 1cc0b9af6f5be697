"""Tiers at the end of their qualification period: keep, raise or lower (one step), with loyalty's figures.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import timezone

from config.batches import ids_in_batches
from loyalty.selectors import qualifying_figures
from members.models import Member
from members.services import tier_period_close


def tiers_close_due(*, now: datetime | None = None, batch: int = 500) -> dict[str, int]:
    """Close every qualification period that has ended: keep, raise or lower (one step) each member's tier."""
    now = now or timezone.now()
    counts: dict[str, int] = {}
    for pk in ids_in_batches(Member.objects.filter(tier_period_end__lte=now), batch):
        figures = qualifying_figures(member_id=pk, now=now)
        outcome = tier_period_close(member_id=pk, figures=figures, basis=settings.FIDELIO_TIER_BASIS, now=now)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


