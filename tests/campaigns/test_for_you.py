""""For you": the documented ranking of rewards (reward_score) on planted catalogs, and the page with what is true
for the member (tier progress, points about to expire)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.selectors import reward_score, rewards_for_member
from loyalty import ledger
from loyalty.models import LedgerEntry
from loyalty.services import ItemIn, PurchaseIn, purchase_record
from members.models import Member
from tests.factories import MemberFactory, RewardFactory, TierFactory

pytestmark = pytest.mark.django_db


def test_the_score_ranks_affordable_then_within_reach_and_adds_category_and_tier():
    affordable = reward_score(cost=100, balance=150, pace=90, category_match=False, for_their_tier=False)
    close = reward_score(cost=160, balance=150, pace=90, category_match=False, for_their_tier=False)
    far_in_reach = reward_score(cost=230, balance=150, pace=90, category_match=False, for_their_tier=False)
    assert affordable == 4.0 and 1.0 < far_in_reach < close < 2.0
    assert reward_score(cost=300, balance=150, pace=90, category_match=True, for_their_tier=True) is None
    assert reward_score(cost=160, balance=150, pace=0, category_match=False, for_their_tier=False) is None
    assert reward_score(cost=100, balance=150, pace=0, category_match=True, for_their_tier=True) == 5.5
    assert reward_score(cost=151, balance=150, pace=90, category_match=True, for_their_tier=True) < affordable
    # What the member can have now stays ahead of what is within reach, even in their favourite category; among
    # those within reach the favourite category comes first.
    assert reward_score(cost=151, balance=150, pace=90, category_match=True, for_their_tier=False) < affordable
    assert reward_score(cost=230, balance=150, pace=90, category_match=True, for_their_tier=False) > close


def test_rewards_are_ranked_for_the_member_from_their_balance_pace_categories_and_tier(settings):
    settings.FIDELIO_WELCOME_BONUS = 0
    settings.FIDELIO_RETURN_WINDOW_DAYS = 0
    settings.FIDELIO_POINTS_PER_UNIT = "1"
    bronze = TierFactory(name="Bronze", rank=1, threshold_points=0, earn_multiplier=Decimal("1"))
    gold = TierFactory(name="Gold", rank=3, threshold_points=100000, earn_multiplier=Decimal("1"))
    member = MemberFactory()
    now = timezone.now()
    # 300 points earned in the last 90 days (a pace of 100 a month), tea bought most.
    purchase_record(data=PurchaseIn(member_id=member.pk, order_id="FY-1", amount=Decimal("300.00"), currency="EUR",
                                    occurred_at=now - timedelta(days=10),
                                    items=(ItemIn(sku="T", category="Tea", unit_price=Decimal("200")),
                                           ItemIn(sku="C", category="Coffee", unit_price=Decimal("100")))))
    member = Member.objects.select_related("tier").get(pk=member.pk)
    assert member.points_balance == 300 and member.tier_id == bronze.pk
    cheap = RewardFactory(name="Cheap", cost_points=100)
    dear = RewardFactory(name="Dear but affordable", cost_points=280)
    reach = RewardFactory(name="Within reach", cost_points=350)  # 50 missing, a month brings 100
    tea = RewardFactory(name="Tea within reach", cost_points=380, category="tea")  # 80 missing, but tea
    RewardFactory(name="Too far", cost_points=1000)
    gold_only = RewardFactory(name="Gold only", cost_points=50, minimum_tier=gold)
    bronze_only = RewardFactory(name="Bronze treat", cost_points=200, minimum_tier=bronze)
    RewardFactory(name="Inactive", cost_points=10, is_active=False)

    ranked = rewards_for_member(member=member, now=now)
    names = [r.reward.name for r in ranked]
    # Affordable ones first (their tier's own ahead, then the dearer), then within reach (tea's category lifts it).
    assert names == [bronze_only.name, dear.name, cheap.name, tea.name, reach.name], names
    assert gold_only.name not in names and "Too far" not in names
    assert ranked[0].eligibility.eligible and not ranked[-1].eligibility.eligible
    assert ranked[-1].needed == 50 and ranked[3].category_match


def test_the_page_says_what_is_true_for_the_member(client, settings):
    settings.FIDELIO_WELCOME_BONUS = 0
    settings.FIDELIO_TIER_BASIS = "points"
    TierFactory(name="Bronze", rank=1, threshold_points=0)
    TierFactory(name="Gold", rank=2, threshold_points=500)
    member = MemberFactory()
    now = timezone.now()
    ledger.points_credit(member=member, points=380, kind=LedgerEntry.Kind.BONUS, idempotency_key="fy-bonus",
                         description="Bonus", expires_at=now + timedelta(days=5), now=now)
    RewardFactory(name="Free coffee", cost_points=300)
    client.force_login(member.user)
    page = client.get("/offers/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "380 points expire soon" in page
    assert "Free coffee" in page and "Rewards for you" in page
    assert "No offers for you right now" in page
