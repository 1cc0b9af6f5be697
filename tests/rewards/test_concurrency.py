"""The issue's invariants under real concurrency: real threads, each with its own PostgreSQL connection."""


import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from config.exceptions import DomainError
from loyalty.models import LedgerEntry
from members.models import Member
from rewards.models import Redemption, Reward, Voucher
from rewards.services import reward_redeem, voucher_use
from tests.factories import RewardFactory, ShopMemberFactory
from tests.rewards.conftest import fund
from tests.threads import threaded as run_threaded

pytestmark = pytest.mark.django_db(transaction=True)


def threaded(n, fn):
    """fn(i) in n threads released together; the results, or the refusals (DomainError) some racers get."""
    return run_threaded(n, fn, returning=(DomainError,))


def codes(results):
    return sorted(r.code if isinstance(r, DomainError) else "ok" for r in results)


def test_100_concurrent_redemptions_by_a_member_who_can_afford_5():
    member = ShopMemberFactory()
    reward = RewardFactory(cost_points=100)
    fund(member, 500)
    results = threaded(100, lambda i: reward_redeem(
        member_id=member.pk, reward_id=reward.pk, source="integration", idempotency_scope="integration",
        idempotency_key=f"r{i}"))
    outcome = codes(results)
    assert outcome.count("ok") == 5 and outcome.count("insufficient_points") == 95
    assert Member.objects.get(pk=member.pk).points_balance == 0
    assert Redemption.objects.count() == Voucher.objects.count() == 5
    assert LedgerEntry.objects.filter(kind="redeem").count() == 5
    call_command("check_ledger")


def test_200_members_racing_for_a_stock_of_10_over_http(integration_token):
    reward = RewardFactory(cost_points=10, stock=10)
    members = [ShopMemberFactory() for _ in range(200)]
    for m in members:
        fund(m, 100)

    def post(i):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {integration_token[1]}")
        response = client.post("/api/v1/redemptions/", {"member": members[i].pk, "reward": reward.pk},
                               format="json", HTTP_IDEMPOTENCY_KEY=f"race-{i}")
        return response.status_code, response.json().get("code")

    results = threaded(200, post)
    assert sorted(set(results)) == [(201, None), (409, "out_of_stock")]
    assert results.count((201, None)) == 10
    assert Reward.objects.get(pk=reward.pk).stock == 0
    assert Voucher.objects.count() == 10
    assert not Member.objects.filter(points_balance__lt=0).exists()
    assert sum(Member.objects.filter(pk__in=[m.pk for m in members]).values_list("points_balance", flat=True)) \
        == 200 * 100 - 10 * 10
    call_command("check_ledger")


def test_the_same_idempotency_key_from_concurrent_requests_redeems_once():
    member = ShopMemberFactory()
    reward = RewardFactory(cost_points=100)
    fund(member, 10_000)
    results = threaded(20, lambda i: reward_redeem(
        member_id=member.pk, reward_id=reward.pk, source="integration", idempotency_scope="integration",
        idempotency_key="the-one-key"))
    assert all(not isinstance(r, Exception) for r in results)
    assert len({redemption.pk for redemption, _ in results}) == 1
    assert [created for _, created in results].count(True) == 1
    assert Redemption.objects.count() == 1
    assert Member.objects.get(pk=member.pk).points_balance == 9_900


def test_a_voucher_used_concurrently_for_different_orders_is_used_once():
    member = ShopMemberFactory()
    reward = RewardFactory(cost_points=10)
    fund(member, 100)
    redemption, _ = reward_redeem(member_id=member.pk, reward_id=reward.pk, source="integration",
                                  idempotency_scope="integration", idempotency_key="v")
    code = redemption.voucher.code
    results = threaded(20, lambda i: voucher_use(code=code, order_id=f"ORDER-{i}"))
    outcome = codes(results)
    assert outcome.count("ok") == 1 and outcome.count("voucher_used") == 19
    assert Voucher.objects.get(code=code).status == "used"
