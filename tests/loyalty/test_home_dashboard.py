"""The portal's home page: balance, pending points and when the next ones become spendable, tier progress and
what the next tier brings, points expiring, the member's running challenges and the rewards they can have now
(sections the apps above loyalty plug in through members.portal)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from gamification.models import Challenge
from loyalty.services import PurchaseIn, purchase_record
from tests.factories import MemberFactory, RewardFactory, TierFactory

pytestmark = pytest.mark.django_db


def test_home_shows_where_the_member_stands_and_what_to_do_next(client, settings):
    settings.FIDELIO_WELCOME_BONUS = 500
    settings.FIDELIO_RETURN_WINDOW_DAYS = 14
    TierFactory(name="Bronze", rank=1, threshold_points=0)
    gold = TierFactory(name="Gold", rank=2, threshold_points=5000, benefits="Free delivery on every order")
    member = MemberFactory()
    now = timezone.now()
    purchase_record(data=PurchaseIn(member_id=member.pk, order_id="H-1", amount=Decimal("80.00"), occurred_at=now,
                                    currency="EUR", source="shop"), now=now)
    Challenge.objects.create(title="Three visits in March", goal="purchases", target=3,
                             starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=20))
    RewardFactory(name="Free espresso", cost_points=100)
    RewardFactory(name="Out of reach", cost_points=99_999)
    RewardFactory(name="Gold lounge", cost_points=50, minimum_tier=gold)
    client.force_login(member.user)
    html = client.get("/").content.decode()
    assert 'data-testid="next-pending"' in html
    assert "Gold brings: Free delivery on every order" in html
    assert "Three visits in March" in html and "Your challenges" in html
    assert "Free espresso" in html
    assert "Out of reach" not in html and "Gold lounge" not in html  # not affordable / not for this tier


def test_a_new_member_is_told_what_is_within_reach(client, settings):
    settings.FIDELIO_WELCOME_BONUS = 0
    member = MemberFactory()
    RewardFactory(name="Big prize", cost_points=5000)
    client.force_login(member.user)
    html = client.get("/").content.decode()
    assert "no reward is within reach of your balance yet" in html
    assert "Your challenges" not in html
