"""Staff adjustments (with a mandatory reason) and the welcome bonus.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from config.exceptions import DomainError
from loyalty import ledger
from loyalty.models import LedgerEntry
from loyalty.selectors import ADJUSTMENT_PREFIX
from members.models import Member

if TYPE_CHECKING:
    from members.models import User

Kind = LedgerEntry.Kind


@transaction.atomic
def points_adjust(*, member: Member, points: int, reason: str, author: User | None, idempotency_key: str = "",
                  now: datetime | None = None) -> LedgerEntry:
    """A manual credit (positive) or debit (negative) by staff, with a mandatory reason. The description
    members read does not name the author; LedgerEntry.author does, for staff."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("A reason is required for a manual adjustment."), field="reason", code="reason_required")
    if not isinstance(points, int) or points == 0:
        raise DomainError(_("Adjust by a non-zero whole number of points."), field="points", code="invalid_points")
    key = idempotency_key or f"adjust:{uuid.uuid4()}"
    description = f"{ADJUSTMENT_PREFIX}{reason}"
    if points > 0:
        return ledger.points_credit(member=member, points=points, kind=Kind.ADJUST, description=description,
                                    idempotency_key=key, author=author, reference="staff", now=now)
    return ledger.points_debit(member=member, points=-points, kind=Kind.ADJUST, description=description,
                               idempotency_key=key, author=author, reference="staff", now=now)


def welcome_bonus_credit(*, member: Member) -> LedgerEntry | None:
    points = settings.FIDELIO_WELCOME_BONUS
    if points <= 0:
        return None
    return ledger.points_credit(
        member=member, points=points, kind=Kind.BONUS, description="Welcome bonus for joining",
        idempotency_key=f"welcome:{member.pk}", reference="welcome",
    )
