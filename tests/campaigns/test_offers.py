"""Offers: the audience, the seeded holdout, activation, and the points engine applying them (single posts, batches,
returns, concurrency), seen through the services, the portal and the API."""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from backoffice.models import MemberScore
from campaigns.models import Offer, OfferAssignment
from campaigns.services.offers import audience_members, offer_activate, offer_assign
from config.exceptions import NotFound
from loyalty.models import LedgerEntry, Purchase
from loyalty.services import ItemIn, PurchaseIn, purchase_record, purchase_return, purchases_record_batch
from members.models import Member
from tests.factories import MemberFactory, ShopMemberFactory, TierFactory
from tests.threads import threaded

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _program(settings):
    settings.FIDELIO_WELCOME_BONUS = 0
    settings.FIDELIO_RETURN_WINDOW_DAYS = 0  # points at once: the earn entry is there to read
    settings.FIDELIO_POINTS_PER_UNIT = "1"


def _offer(**fields) -> Offer:
    now = timezone.now()
    values = {"name": "Garden week", "starts_at": now - timedelta(days=1), "ends_at": now + timedelta(days=7),
              "benefit": Offer.Benefit.MULTIPLIER, "multiplier": Decimal("2"), "holdout_percent": 0, **fields}
    return Offer.objects.create(**values)


def _buy(member, amount, order_id, *, items=(), at=None):
    data = PurchaseIn(member_id=member.pk, order_id=order_id, amount=Decimal(amount), currency="EUR",
                      occurred_at=at or timezone.now(), items=tuple(ItemIn(**i) for i in items))
    return purchase_record(data=data)[0]


def _earn(purchase) -> LedgerEntry:
    return LedgerEntry.objects.get(purchase=purchase, kind=LedgerEntry.Kind.EARN)


# ------------------------------------------------------------------------------------------- the holdout
def test_the_holdout_is_drawn_at_random_in_its_share_and_the_same_seed_draws_the_same_members():
    members = [ShopMemberFactory() for _ in range(1500)]
    first = _offer(holdout_percent=20, seed="spring-2026")
    done = offer_assign(offer=first)
    assert done["treatment"] + done["holdout"] == len(members)
    # 20 % of 1,500 = 300 held out; 4 standard deviations of the binomial either side.
    sd = math.sqrt(1500 * 0.2 * 0.8)
    assert abs(done["holdout"] - 300) < 4 * sd, done
    again = offer_assign(offer=first)  # the nightly job again: nobody is drawn twice
    assert again == {"treatment": 0, "holdout": 0}
    twin = _offer(name="Twin", holdout_percent=20, seed="spring-2026")
    offer_assign(offer=twin)
    held = set(OfferAssignment.objects.filter(offer=first, holdout=True).values_list("member_id", flat=True))
    assert held == set(OfferAssignment.objects.filter(offer=twin, holdout=True).values_list("member_id", flat=True))
    other = _offer(name="Other seed", holdout_percent=20, seed="autumn-2026")
    offer_assign(offer=other)
    assert held != set(OfferAssignment.objects.filter(offer=other, holdout=True).values_list("member_id", flat=True))


def test_no_holdout_and_an_ended_or_inactive_offer_assigns_nothing_held_out_or_nothing_at_all():
    ShopMemberFactory(), ShopMemberFactory()
    assert offer_assign(offer=_offer(holdout_percent=0)) == {"treatment": 2, "holdout": 0}
    assert offer_assign(offer=_offer(name="Off", is_active=False)) == {"treatment": 0, "holdout": 0}
    past = timezone.now() - timedelta(days=1)
    ended = _offer(name="Ended", starts_at=past - timedelta(days=3), ends_at=past)
    assert offer_assign(offer=ended) == {"treatment": 0, "holdout": 0}


# ------------------------------------------------------------------------------------------- the audience
def test_every_audience_condition_narrows_the_members():
    now = timezone.now()
    TierFactory(name="Bronze", rank=1, threshold_points=0)  # the entry tier: members join in it
    gold = TierFactory(name="Gold", rank=3, threshold_points=3000)
    a, b, c = ShopMemberFactory(), ShopMemberFactory(), ShopMemberFactory()
    Member.objects.filter(pk=a.pk).update(tier=gold, language="pl", birthday=now.date().replace(month=4, day=2))
    Member.objects.filter(pk=b.pk).update(language="")  # no choice: the program's language (en)
    Member.objects.filter(pk=c.pk).update(created_at=now - timedelta(days=90))
    _buy(a, "30.00", "A-1", items=[{"sku": "S1", "unit_price": Decimal("30"), "category": "Garden"}],
         at=now - timedelta(days=40))
    _buy(b, "50.00", "B-1", items=[{"sku": "S2", "unit_price": Decimal("10"), "category": "Garden"},
                                   {"sku": "S3", "unit_price": Decimal("40"), "category": "Kitchen"}],
         at=now - timedelta(days=5))
    MemberScore.objects.create(member=a, as_of=now.date(), segment="at_risk", p_alive=0.2, clv_12m=Decimal("80"))
    MemberScore.objects.create(member=b, as_of=now.date(), segment="champions", p_alive=0.9,
                               clv_12m=Decimal("500"))

    def ids(**fields):
        offer = _offer(name=str(fields), **{k: v for k, v in fields.items() if k != "tiers"})
        if "tiers" in fields:
            offer.audience_tiers.set(fields["tiers"])
        return set(audience_members(offer, now=now).values_list("pk", flat=True))

    everyone = {a.pk, b.pk, c.pk}
    assert ids() >= everyone
    assert ids(tiers=[gold]) == {a.pk}
    assert ids(audience_languages=["en"]) & everyone == {b.pk, c.pk}  # c has the factory's default too
    assert ids(audience_languages=["pl"]) == {a.pk}
    assert ids(birthday_month=4) == {a.pk}
    assert ids(joined_within_days=30) & everyone == {a.pk, b.pk}
    assert ids(days_since_purchase_min=30) == {a.pk}
    assert ids(days_since_purchase_max=10) == {b.pk}
    assert ids(favourite_category="garden") == {a.pk}  # b spent more on Kitchen
    assert ids(favourite_category="Kitchen") == {b.pk}
    assert ids(audience_segments=["at_risk", "cant_lose"]) == {a.pk}
    assert ids(p_alive_max=0.5) == {a.pk}
    assert ids(p_alive_min=0.5, clv_min=Decimal("100")) == {b.pk}
    assert ids(clv_max=Decimal("100"), tiers=[gold]) == {a.pk}


# ------------------------------------------------------------------------------------------- the earn path
def test_a_category_multiplier_doubles_that_lines_points_and_the_breakdown_names_the_offer():
    member = ShopMemberFactory()
    offer_assign(offer=_offer(name="Double garden", category="Garden"))
    purchase = _buy(member, "100.00", "M-1", items=[
        {"sku": "G", "unit_price": Decimal("40"), "category": "garden"},
        {"sku": "K", "unit_price": Decimal("60"), "category": "Kitchen"},
    ])
    assert purchase.points_earned == 60 + 40 * 2
    assert "×2 offer 'Double garden' on 40.00 EUR" in purchase.earn_breakdown
    assert OfferAssignment.objects.get(member=member).uses == 1
    assert _earn(purchase).points == 140


def test_a_bonus_offer_counts_within_its_limit_and_minimum_amount():
    member = ShopMemberFactory()
    offer_assign(offer=_offer(name="Welcome back", benefit=Offer.Benefit.BONUS, multiplier=None, bonus_points=50,
                              min_amount=Decimal("20"), limit_per_member=2))
    small = _buy(member, "10.00", "B-1")
    assert small.points_earned == 10  # below the minimum: no bonus, no use
    first, second, third = (_buy(member, "20.00", f"B-{n}") for n in (2, 3, 4))
    assert [first.points_earned, second.points_earned, third.points_earned] == [70, 70, 20]
    assert "+ 50 'Welcome back'" in first.earn_breakdown and "Welcome back" not in third.earn_breakdown
    assert OfferAssignment.objects.get(member=member).uses == 2


def test_an_offer_needing_activation_counts_only_once_activated_and_not_outside_its_window():
    member = ShopMemberFactory()
    now = timezone.now()
    offer = _offer(needs_activation=True, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=2))
    offer_assign(offer=offer)
    assert _buy(member, "10.00", "A-1").points_earned == 10
    offer_activate(member=member, offer_id=offer.pk)
    offer_activate(member=member, offer_id=offer.pk)  # again: harmless
    assert _buy(member, "10.00", "A-2").points_earned == 20
    assert _buy(member, "10.00", "A-3", at=now - timedelta(hours=2)).points_earned == 10  # before the window


def test_a_held_out_member_never_gets_the_benefit_and_cannot_activate_it():
    member = ShopMemberFactory()
    offer = _offer(holdout_percent=50, needs_activation=True)
    offer_assign(offer=offer)
    OfferAssignment.objects.filter(member=member).update(holdout=True)
    with pytest.raises(NotFound):
        offer_activate(member=member, offer_id=offer.pk)
    assert _buy(member, "10.00", "H-1").points_earned == 10


def test_a_replayed_purchase_does_not_use_the_offer_again():
    member = ShopMemberFactory()
    offer_assign(offer=_offer(limit_per_member=3))
    at = timezone.now()
    _buy(member, "10.00", "R-1", at=at)
    _buy(member, "10.00", "R-1", at=at)
    assert OfferAssignment.objects.get(member=member).uses == 1


def test_a_return_takes_the_offers_points_back_in_proportion():
    member = ShopMemberFactory()
    offer_assign(offer=_offer())
    purchase = _buy(member, "100.00", "RET-1")
    assert purchase.points_earned == 200
    purchase_return(order_id="RET-1", source=purchase.source, return_id="RET-1-a", amount=Decimal("25.00"))
    assert Member.objects.get(pk=member.pk).points_balance == 150
    call_command("check_ledger")


def test_a_batch_applies_each_members_offers_and_counts_a_limit_across_the_batch():
    one, two = ShopMemberFactory(), ShopMemberFactory()
    offer_assign(offer=_offer(benefit=Offer.Benefit.BONUS, multiplier=None, bonus_points=5, limit_per_member=1))
    now = timezone.now().isoformat()
    results = purchases_record_batch(items=[
        {"member": one.pk, "order_id": "BA-1", "amount": "10.00", "occurred_at": now},
        {"member": one.pk, "order_id": "BA-2", "amount": "10.00", "occurred_at": now},
        {"member": two.pk, "order_id": "BA-3", "amount": "10.00", "occurred_at": now},
    ])
    assert [r["points"] for r in results] == [15, 10, 15]
    assert sorted(OfferAssignment.objects.values_list("uses", flat=True)) == [1, 1]


def test_offers_cost_the_purchase_post_one_query_and_none_while_no_offer_runs():
    member = ShopMemberFactory()
    _buy(member, "10.00", "Q-0")  # warm the memo of live offers (empty)
    with CaptureQueriesContext(connection) as queries:
        _buy(member, "10.00", "Q-1")
    assert not [q["sql"] for q in queries if "campaigns_" in q["sql"]]
    offer_assign(offer=_offer())
    _buy(member, "10.00", "Q-2")  # the memo reloads the live offers (once per process and few seconds)
    with CaptureQueriesContext(connection) as with_offer:
        _buy(member, "10.00", "Q-3")
    offer_queries = [q["sql"] for q in with_offer if "campaigns_" in q["sql"]]
    assert len(offer_queries) == 2, offer_queries  # the member's live offers; the use counted
    assert len(with_offer) == len(queries) + 2


# ------------------------------------------------------------------------------------------- portal and API
def test_the_portal_and_the_api_show_a_member_their_offers_and_never_a_held_out_one(client):
    given, held = MemberFactory(), MemberFactory()
    offer = _offer(name="Spring treat", needs_activation=True)
    offer_assign(offer=offer)
    OfferAssignment.objects.filter(member=held).update(holdout=True)

    client.force_login(given.user)
    page = client.get("/offers/").content.decode()
    assert "Spring treat" in page and "Activate" in page
    response = client.post(f"/offers/{offer.pk}/activate/", follow=True)
    assert "Activated" in response.content.decode()
    assert OfferAssignment.objects.get(member=given).activated_at is not None

    client.force_login(held.user)
    assert "Spring treat" not in client.get("/offers/").content.decode()
    assert client.post(f"/offers/{offer.pk}/activate/").status_code == 404
    api = APIClient()
    api.force_login(held.user)
    assert api.get("/api/v1/me/offers/").json() == []
    answer = api.post(f"/api/v1/me/offers/{offer.pk}/activate/")
    assert answer.status_code == 404 and answer.json()["code"] == "offer_not_found"
    assert OfferAssignment.objects.get(member=held).activated_at is None


def test_the_api_activates_and_lists_offers_and_refuses_an_ended_one():
    member = MemberFactory()
    offer = _offer(needs_activation=True, limit_per_member=2)
    offer_assign(offer=offer)
    api = APIClient()
    api.force_login(member.user)
    body = api.post(f"/api/v1/me/offers/{offer.pk}/activate/").json()
    assert body["activated"] and body["counts"] and body["uses_left"] == 2
    Offer.objects.filter(pk=offer.pk).update(ends_at=timezone.now() - timedelta(seconds=1),
                                             starts_at=timezone.now() - timedelta(days=2))
    assert api.get("/api/v1/me/offers/").json() == []
    answer = api.post(f"/api/v1/me/offers/{offer.pk}/activate/", HTTP_ACCEPT_LANGUAGE="pl")
    assert answer.status_code == 409 and answer.json()["code"] == "offer_not_activatable"
    assert answer.json()["detail"] != "This offer has ended."  # in the caller's language


def test_a_token_with_members_read_sees_a_members_offers(integration_token):
    member = ShopMemberFactory()
    offer_assign(offer=_offer(name="For the shop's site"))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {integration_token[1]}")
    rows = api.get(f"/api/v1/members/{member.pk}/offers/").json()
    assert [r["name"] for r in rows] == ["For the shop's site"]
    assert api.get("/api/v1/members/999999999/offers/").status_code == 404


# ------------------------------------------------------------------------------------------- concurrency
@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_posts_of_one_order_use_the_offer_once_and_different_orders_respect_the_limit():
    member = ShopMemberFactory()
    offer_assign(offer=_offer(limit_per_member=3))
    data = PurchaseIn(member_id=member.pk, order_id="RACE-1", amount=Decimal("10.00"), currency="EUR",
                      occurred_at=timezone.now())
    created = threaded(50, lambda i: purchase_record(data=data)[1])
    assert created.count(True) == 1
    assert OfferAssignment.objects.get(member=member).uses == 1
    assert LedgerEntry.objects.filter(member=member, kind=LedgerEntry.Kind.EARN).get().points == 20

    def other_order(i):
        return purchase_record(data=PurchaseIn(member_id=member.pk, order_id=f"RACE-{i + 2}",
                                               amount=Decimal("10.00"), currency="EUR",
                                               occurred_at=timezone.now()))[0].points_earned

    earned = threaded(20, other_order)
    assert sorted(earned).count(20) == 2 and sorted(earned).count(10) == 18  # 3 uses in all
    assert OfferAssignment.objects.get(member=member).uses == 3
    assert Purchase.objects.filter(member=member).count() == 21
    call_command("check_ledger")
