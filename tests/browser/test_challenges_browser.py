"""Challenges in a real browser: join an opt-in challenge, see progress grow with purchases, earn the badge."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from gamification.models import Badge, Challenge, ChallengeParticipation
from loyalty.services import PurchaseIn, purchase_record
from tests.browser.conftest import log_in
from tests.factories import MemberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_join_a_challenge_follow_progress_and_earn_the_badge(page: Page, settings):
    settings.FIDELIO_RETURN_WINDOW_DAYS = 0  # purchases count as soon as they are posted
    member = MemberFactory()
    now = timezone.now()
    badge = Badge.objects.create(name="Coffee lover", icon="☕", how_to_earn="Buy coffee twice this month")
    Badge.objects.create(name="Globetrotter", icon="🌍", how_to_earn="Shop in three cities")
    challenge = Challenge.objects.create(
        title="Two coffees", goal="purchases", target=Decimal("2"), enrolment="opt_in", bonus_points=40,
        badge=badge, starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=5),
    )
    log_in(page, member, next_url="/challenges/")
    card = page.locator(f"[data-testid=challenge-{challenge.pk}]")
    expect(card).to_contain_text("Two coffees")
    expect(card).to_contain_text("left")
    expect(page.locator("[data-testid=badge-list]")).to_contain_text("Locked — Shop in three cities")

    card.get_by_role("button", name="Join").click()
    expect(page.locator(".message-success")).to_contain_text("You're in!")
    assert ChallengeParticipation.objects.filter(challenge=challenge, member=member).count() == 1

    def buy(order):
        purchase_record(data=PurchaseIn(member_id=member.pk, order_id=order, amount=Decimal("4.50"),
                                        occurred_at=timezone.now(), currency="EUR"))

    buy("C-1")
    page.reload()
    expect(card.locator("progress")).to_have_attribute("value", "50")
    expect(card).to_contain_text("1 of 2")
    buy("C-2")
    page.reload()
    expect(card).to_contain_text("Completed!")
    expect(card).to_contain_text("+40 points")
    expect(page.locator("[data-testid=badge-list]")).to_contain_text("Coffee lover")
    expect(page.locator("[data-testid=badge-list]")).to_contain_text("Earned")
