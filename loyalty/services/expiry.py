"""Expiry: the daily expiry of lots past their date and the notices sent ahead of it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from config.batches import ids_in_batches
from loyalty import ledger
from loyalty.models import PointsLot
from members.mail import mail_send
from members.models import Member


def lots_expire_due(*, now: datetime | None = None, batch: int = 1000) -> int:
    """Write an `expire` entry for every lot past its date. Re-runs add nothing (one entry per lot)."""
    now = now or timezone.now()
    due = PointsLot.objects.filter(remaining__gt=0, expires_at__lte=now)
    return sum(ledger.points_expire_lot(lot_id=pk, now=now) is not None for pk in ids_in_batches(due, batch))


def expiry_notices_send(*, now: datetime | None = None) -> int:
    """E-mail each member whose points expire within the notice period, once per lot. Returns mails sent."""
    now = now or timezone.now()
    horizon = now + timedelta(days=settings.FIDELIO_EXPIRY_NOTICE_DAYS)
    due = (
        PointsLot.objects.filter(remaining__gt=0, expires_at__gt=now, expires_at__lte=horizon,
                                 expiry_notified_at__isnull=True)
        .values("member_id").annotate(points=Sum("remaining")).order_by("member_id")
    )
    sent = 0
    for row in due.iterator(chunk_size=1000):
        with transaction.atomic():
            lots = list(
                PointsLot.objects.select_for_update(skip_locked=True)
                .filter(member_id=row["member_id"], remaining__gt=0, expires_at__gt=now, expires_at__lte=horizon,
                        expiry_notified_at__isnull=True)
            )
            if not lots:
                continue
            PointsLot.objects.filter(pk__in=[lot.pk for lot in lots]).update(expiry_notified_at=now)
            member = Member.objects.get(pk=row["member_id"])
            points = sum(lot.remaining for lot in lots)
            first = min(lot.expires_at for lot in lots if lot.expires_at)  # all set: expires_at__gt above
            if member.email:
                email, language = member.email, member.language
                context = {"first_name": member.first_name, "points": points, "first_expiry": first}

                def notify(e: str = email, c: dict = context, lang: str = language) -> None:
                    mail_send("loyalty/points_expiring", to=e, context=c, language=lang)

                transaction.on_commit(notify)
                sent += 1
    return sent


