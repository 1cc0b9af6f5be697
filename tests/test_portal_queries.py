"""Every portal page runs at most 15 SQL queries whatever the member's history: a member with 5,000 ledger entries,
purchases, vouchers and a running challenge, on each page a member opens, in English and in Polish
(translation adds no query)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import Offer
from campaigns.services.offers import offer_assign
from gamification.models import Challenge
from loyalty import ledger
from loyalty.services import PurchaseIn, purchase_record
from members.models import Member
from rewards.services.redeem import reward_redeem
from tests.factories import MemberFactory, RewardFactory, TierFactory

pytestmark = pytest.mark.django_db
MAX_QUERIES = 15
HISTORY = 5000


@pytest.fixture
def heavy_member(settings):
    settings.FIDELIO_WELCOME_BONUS = 0
    TierFactory(name="Bronze", rank=1, threshold_points=0, benefits="Member prices")
    TierFactory(name="Silver", rank=2, threshold_points=100_000, benefits="Free shipping")
    member = MemberFactory()
    now = timezone.now()
    ledger.points_credit_many(now=now - timedelta(days=30), credits=[
        ledger.Credit(member_id=member.pk, points=1 + i % 7, kind="bonus", description=f"history {i}",
                      idempotency_key=f"heavy-{i}", expires_at=now + timedelta(days=200 + i % 60))
        for i in range(HISTORY)])
    for i in range(5):
        purchase_record(data=PurchaseIn(member_id=member.pk, order_id=f"heavy-order-{i}", amount=Decimal("42.50"),
                                        occurred_at=now - timedelta(days=i), currency="EUR", source="shop"),
                        now=now - timedelta(days=i))
    rewards = [RewardFactory(name=f"Reward {i}", cost_points=10 + i) for i in range(8)]
    for i, reward in enumerate(rewards[:4]):
        reward_redeem(member_id=member.pk, reward_id=reward.pk, source="portal", idempotency_scope="test",
                      idempotency_key=f"heavy-redeem-{i}")
    Challenge.objects.create(title="Shop three times", goal="purchases", target=3, starts_at=now - timedelta(days=1),
                             ends_at=now + timedelta(days=20), bonus_points=50)
    for i in range(12):  # a member given many offers: the offers page stays one query
        offer_assign(offer=Offer.objects.create(name=f"Offer {i}", starts_at=now - timedelta(days=1),
                                                ends_at=now + timedelta(days=5 + i), multiplier=2, holdout_percent=0,
                                                needs_activation=i % 2 == 0, limit_per_member=3))
    return Member.objects.get(pk=member.pk)


def _pages(member) -> list[str]:
    voucher = member.vouchers.order_by("pk").first()
    reward = voucher.reward
    return ["/", "/points/", f"/points/?page={HISTORY // 25}", "/rewards/", "/rewards/?affordable=1",
            f"/rewards/{reward.pk}/", f"/rewards/{reward.pk}/redeem/", "/vouchers/", f"/vouchers/{voucher.pk}/",
            f"/vouchers/{voucher.pk}/cancel/", "/feedback/", "/reviews/", "/surveys/", "/challenges/",
            "/leaderboards/", "/profile/", "/profile/delete/", "/card/", "/referrals/", "/how-it-works/", "/offers/"]


@pytest.mark.parametrize("language", ["en", "pl"])
def test_every_portal_page_stays_within_15_queries(client, heavy_member, language):
    assert heavy_member.ledger_entries.count() >= HISTORY
    client.force_login(heavy_member.user)
    client.cookies["django_language"] = language
    over = []
    for url in _pages(heavy_member):
        client.get(url)  # warm the per-process memos (tiers, rules, challenges), as a running server has them
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        if len(queries) > MAX_QUERIES:
            over.append(f"{url}: {len(queries)} queries\n" + "\n".join(q["sql"][:160] for q in queries))
    assert not over, "\n\n".join(over)
