"""What an offer earned, checked against planted truth: synthetic purchases with a known uplift for the treated
members, and seeded simulations of the estimator with and without an uplift."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns.models import Offer, OfferAssignment
from campaigns.selectors import offer_results, welch_interval
from campaigns.services.offers import offer_assign
from loyalty.models import Purchase
from loyalty.services import purchases_import

PURCHASE_PROBABILITY, MU, SIGMA = 0.5, 3.5, 0.8  # a member buys with p = 0.5, spends lognormal(3.5, 0.8): ~45 €
EXPECTED_REVENUE = PURCHASE_PROBABILITY * math.exp(MU + SIGMA**2 / 2)


def _revenues(rng: np.random.Generator, n: int, uplift: float) -> np.ndarray:
    buys = rng.random(n) < PURCHASE_PROBABILITY
    return np.where(buys, rng.lognormal(MU, SIGMA, n) * (1 + uplift), 0.0)


def _interval(rng, uplift: float, treated: int = 1800, held: int = 200):
    t, h = _revenues(rng, treated, uplift), _revenues(rng, held, 0.0)
    return welch_interval(n1=treated, mean1=t.mean(), var1=t.var(ddof=1), n2=held, mean2=h.mean(), var2=h.var(ddof=1))


def test_without_an_uplift_the_interval_covers_zero_in_at_least_90_percent_of_seeded_runs():
    covered = sum(interval.low <= 0 <= interval.high
                  for interval in (_interval(np.random.default_rng(seed), 0.0) for seed in range(400)))
    assert covered >= 0.9 * 400, covered
    assert covered <= 0.99 * 400, covered  # and it is not trivially wide


def test_with_a_planted_uplift_the_interval_covers_it_in_at_least_90_percent_of_seeded_runs():
    truth = 0.08 * EXPECTED_REVENUE
    covered = sum(interval.low <= truth <= interval.high
                  for interval in (_interval(np.random.default_rng(1000 + seed), 0.08) for seed in range(400)))
    assert covered >= 0.9 * 400, covered


def test_the_interval_needs_two_members_a_group_and_is_a_point_without_spread():
    assert welch_interval(n1=1, mean1=5, var1=0, n2=10, mean2=4, var2=1) is None
    point = welch_interval(n1=5, mean1=5, var1=0, n2=5, mean2=4, var2=0)
    assert (point.low, point.high) == (1, 1)


@pytest.mark.django_db
def test_the_results_estimate_a_planted_uplift_from_real_purchases(settings):
    """3,000 members, 20 % held out; each treated member's purchases in the window are 8 % larger than they would
    have been. The estimate's interval covers the true incremental revenue; purchases before the window, after the
    follow-up and returned amounts do not count."""
    settings.FIDELIO_POINT_VALUE = Decimal("0.01")
    long_ago = (datetime.now(UTC) - timedelta(days=400)).isoformat()
    lines = ["customer_id,customer_email,order_id,occurred_at,amount,currency\n"] + [
        f"SIM{n:05d},sim{n:05d}@example.test,old-{n},{long_ago},10.00,EUR\n" for n in range(3000)]
    assert not purchases_import(lines, awards_points=False).rejected
    now = timezone.now()
    offer = Offer.objects.create(name="Planted", starts_at=now - timedelta(days=40), ends_at=now - timedelta(days=20),
                                 follow_up_days=10, multiplier=Decimal("2"), holdout_percent=20, seed="planted-8")
    offer_assign(offer=offer, now=now - timedelta(days=40))  # as the nightly job did when it started

    rng = np.random.default_rng(8)
    assignments = list(OfferAssignment.objects.filter(offer=offer).values_list("member_id", "holdout"))
    purchases = []
    for member_id, held in assignments:
        base = float(_revenues(rng, 1, 0.0)[0])
        if base > 0:
            amount = Decimal(str(round(base * (1.0 if held else 1.08), 2))).quantize(Decimal("0.01"))
            if amount > 0:
                purchases.append(_purchase(member_id, f"in-{member_id}", amount, now - timedelta(days=30)))
        purchases.append(_purchase(member_id, f"after-{member_id}", Decimal("500.00"), now - timedelta(days=5)))
    Purchase.objects.bulk_create(purchases, batch_size=2000)
    # A return inside the window lowers the revenue it counts.
    returned = Purchase.objects.filter(order_id__startswith="in-").order_by("pk").first()
    Purchase.objects.filter(pk=returned.pk).update(returned_amount=returned.amount)
    OfferAssignment.objects.filter(offer=offer, holdout=False).update(points_given=10)
    treated_points = 10 * OfferAssignment.objects.filter(offer=offer, holdout=False).count()

    results = offer_results(offer=offer, now=now)
    treatment, holdout = results["treatment"], results["holdout"]
    assert treatment["members"] + holdout["members"] == 3000
    assert 0.16 < holdout["members"] / 3000 < 0.24
    in_window = Purchase.objects.filter(order_id__startswith="in-")
    assert treatment["orders"] + holdout["orders"] == in_window.count()  # not the old ones, not the late ones
    assert treatment["purchasers"] + holdout["purchasers"] == in_window.count()  # one each; a return still bought
    assert results["cost"] == Decimal(treated_points) * Decimal("0.01")
    truth = 0.08 * EXPECTED_REVENUE * treatment["members"]
    assert results["incremental_revenue_low"] <= Decimal(str(truth)) <= results["incremental_revenue_high"], results
    assert results["roi"] is not None


def _purchase(member_id: int, order_id: str, amount: Decimal, when: datetime) -> Purchase:
    return Purchase(member_id=member_id, source="sim", order_id=order_id, amount=amount, currency="EUR",
                    occurred_at=when, status=Purchase.Status.CONFIRMED, confirm_after=when, confirmed_at=when,
                    awards_points=False, request_hash="sim")


@pytest.mark.django_db
def test_the_results_api_is_for_staff_with_offers_and_tokens_with_metrics_read(client, integration_token):
    now = timezone.now()
    offer = Offer.objects.create(name="API", starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=1),
                                 multiplier=Decimal("2"), holdout_percent=0)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {integration_token[1]}")
    body = api.get(f"/api/v1/campaigns/{offer.pk}/results/").json()
    assert body["offer"] == offer.pk and body["treatment"]["members"] == 0 and body["incremental_revenue"] is None
    assert api.get("/api/v1/campaigns/999999/results/").status_code == 404
