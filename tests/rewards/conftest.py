from datetime import timedelta

import pytest
from django.utils import timezone

from loyalty import ledger
from loyalty.models import LedgerEntry
from tests.factories import RewardFactory


@pytest.fixture(autouse=True)
def _program(settings):
    settings.FIDELIO_WELCOME_BONUS = 0
    settings.FIDELIO_POINTS_EXPIRY_MONTHS = 12


def fund(member, points, *, key=None, expires_in_days=None, now=None):
    """Give a member spendable points through the ledger (the real path), optionally expiring in N days."""
    now = now or timezone.now()
    kwargs = {}
    if expires_in_days is not None:
        kwargs["expires_at"] = now + timedelta(days=expires_in_days)
    fund.n += 1
    return ledger.points_credit(member=member.pk if hasattr(member, "pk") else member, points=points,
                                kind=LedgerEntry.Kind.BONUS, description="test funds",
                                idempotency_key=key or f"fund:{fund.n}", now=now, **kwargs)


fund.n = 0


@pytest.fixture
def reward(db):
    return RewardFactory(cost_points=500)
