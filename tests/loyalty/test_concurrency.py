"""Real threads, real PostgreSQL connections: duplicate posts and racing earn/debit on one member."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from loyalty import ledger
from loyalty.exceptions import InsufficientPoints
from loyalty.models import LedgerEntry, Purchase
from loyalty.services import PurchaseIn, purchase_record
from members.models import Member
from tests.factories import ShopMemberFactory
from tests.threads import threaded

pytestmark = pytest.mark.django_db(transaction=True)


def test_fifty_concurrent_posts_of_one_order_make_one_purchase(settings):
    settings.FIDELIO_WELCOME_BONUS = 0
    member = ShopMemberFactory()
    data = PurchaseIn(member_id=member.pk, order_id="RACE-1", amount=Decimal("25.00"),
                      occurred_at=timezone.now(), currency="EUR")
    created = threaded(50, lambda i: purchase_record(data=data)[1])
    assert created.count(True) == 1
    assert Purchase.objects.filter(order_id="RACE-1").count() == 1
    assert Member.objects.get(pk=member.pk).pending_points == 25
    call_command("check_ledger")


def test_fifty_concurrent_http_posts_of_one_order(settings, integration_token):
    from rest_framework.test import APIClient

    settings.FIDELIO_WELCOME_BONUS = 0
    settings.FIDELIO_RETURN_WINDOW_DAYS = 0
    member = ShopMemberFactory()
    body = {"member": member.pk, "order_id": "RACE-2", "amount": "10.00", "occurred_at": timezone.now().isoformat()}

    def post(i):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {integration_token[1]}")
        return client.post("/api/v1/purchases/", body, format="json").status_code

    statuses = threaded(50, post)
    assert sorted(set(statuses)) == [200, 201] and statuses.count(201) == 1
    assert LedgerEntry.objects.filter(member=member).count() == 1
    assert Member.objects.get(pk=member.pk).points_balance == 10
    call_command("check_ledger")


def test_concurrent_earn_and_debit_on_one_member_never_overdraw(settings):
    settings.FIDELIO_WELCOME_BONUS = 0
    member = ShopMemberFactory()
    ledger.points_credit(member=member, points=100, kind="bonus", description="start", idempotency_key="start")

    def work(i):
        if i % 2:
            ledger.points_credit(member=member.pk, points=10, kind="bonus", description="c",
                                 idempotency_key=f"c{i}")
            return "credit"
        try:
            ledger.points_debit(member=member.pk, points=35, kind="redeem", description="d",
                                idempotency_key=f"d{i}")
            return "debit"
        except InsufficientPoints:
            return "refused"

    outcomes = threaded(40, work)
    debits = outcomes.count("debit")
    assert outcomes.count("credit") == 20
    balance = Member.objects.get(pk=member.pk).points_balance
    assert balance == 100 + 20 * 10 - 35 * debits >= 0
    assert debits >= 100 // 35  # credits only add: the starting balance always covers two debits
    call_command("check_ledger")


def test_concurrent_batches_with_overlapping_orders(settings):
    from loyalty.services import purchases_record_batch

    settings.FIDELIO_WELCOME_BONUS = 0
    members = [ShopMemberFactory() for _ in range(5)]
    now = timezone.now()
    items = [{"member": members[i % 5].pk, "order_id": f"OV-{i}", "amount": "3.00", "occurred_at": now.isoformat()}
             for i in range(60)]
    results = threaded(6, lambda i: purchases_record_batch(items=items[i * 5: i * 5 + 40]))
    created = sum(r["result"] == "created" for batch in results for r in batch)
    assert created == Purchase.objects.count() == 60
    assert sum(Member.objects.values_list("pending_points", flat=True)) == 60 * 3
    call_command("check_ledger")
