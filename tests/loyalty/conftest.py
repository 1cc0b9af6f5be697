from datetime import UTC, datetime
from decimal import Decimal

import pytest

from loyalty.services import ItemIn, PurchaseIn, purchase_record
from tests.factories import TierFactory

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday


@pytest.fixture(autouse=True)
def _program(settings):
    """A plain program for engine tests: no welcome bonus, 14-day window, 12-month expiry, points basis."""
    settings.FIDELIO_WELCOME_BONUS = 0
    settings.FIDELIO_RETURN_WINDOW_DAYS = 14
    settings.FIDELIO_POINTS_EXPIRY_MONTHS = 12
    settings.FIDELIO_TIER_BASIS = "points"
    settings.FIDELIO_POINTS_PER_UNIT = "1"
    settings.FIDELIO_REFERRAL_BONUS_REFERRER = 200
    settings.FIDELIO_REFERRAL_BONUS_REFERRED = 100
    from loyalty.rules import earning_rules_changed

    earning_rules_changed()
    yield
    earning_rules_changed()


@pytest.fixture
def tiers(db):
    return {
        "Bronze": TierFactory(name="Bronze", rank=1, threshold_points=0, earn_multiplier=Decimal("1.00")),
        "Silver": TierFactory(name="Silver", rank=2, threshold_points=1000, earn_multiplier=Decimal("1.25")),
        "Gold": TierFactory(name="Gold", rank=3, threshold_points=3000, earn_multiplier=Decimal("1.50")),
    }


def buy(member, amount, *, order_id=None, at=T0, now=None, items=(), source="shop", **kw):
    """Record a purchase through the real service; returns the Purchase."""
    buy.counter += 1
    data = PurchaseIn(member_id=member.pk, order_id=order_id or f"order-{buy.counter}", amount=Decimal(str(amount)),
                      occurred_at=at, currency="EUR", source=source,
                      items=tuple(ItemIn(**i) for i in items))
    purchase, _ = purchase_record(data=data, now=now or at, **kw)
    return purchase


buy.counter = 0
