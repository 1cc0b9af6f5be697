"""Rewards API through HTTP: catalog, redemptions (member and integration), vouchers, checkout."""

from datetime import timedelta

import pytest
from django.utils import timezone

from loyalty.models import LedgerEntry
from members.models import Member
from rewards.models import Redemption, Reward, Voucher
from rewards.services import reward_redeem, voucher_cancel
from tests.factories import MemberFactory, RewardFactory, TierFactory
from tests.rewards.conftest import fund

pytestmark = pytest.mark.django_db


def written():
    return Redemption.objects.count(), Voucher.objects.count(), LedgerEntry.objects.count()


def issue(member, reward, key="seed"):
    redemption, _ = reward_redeem(member_id=member.pk, reward_id=reward.pk, source="portal",
                                  idempotency_scope=f"member:{member.pk}", idempotency_key=key)
    return redemption.voucher


# ------------------------------------------------------------------------------------------------ catalog
def test_catalog_is_public_without_member_fields(anon_client, reward):
    RewardFactory(name="Hidden", is_active=False)
    RewardFactory(name="Later", available_from=timezone.now() + timedelta(days=1))
    body = anon_client.get("/api/v1/rewards/").json()
    assert [r["name"] for r in body["results"]] == [reward.name]
    item = body["results"][0]
    assert item["cost_points"] == 500 and item["value"] == "5.00" and item["currency"] == "EUR"
    assert item["in_stock"] is True and item["stock"] is None
    assert "affordable" not in item and "eligible" not in item


def test_catalog_tells_a_member_what_they_can_redeem_and_why_not(api_client, member, django_assert_max_num_queries):
    gold = TierFactory(name="Gold", rank=3, threshold_points=3000)
    cheap = RewardFactory(name="Cheap", cost_points=100)
    dear = RewardFactory(name="Dear", cost_points=10_000)
    gated = RewardFactory(name="Gated", cost_points=100, minimum_tier=gold)
    gone = RewardFactory(name="Gone", cost_points=100, stock=0)
    once = RewardFactory(name="Once", cost_points=100, limit_per_member=1)
    for i in range(10):
        RewardFactory(name=f"Filler {i}", cost_points=50 + i, limit_per_member=3)
    fund(member, 1000)
    issue(member, once)
    with django_assert_max_num_queries(8):  # constant: session, member, count, page, limits
        body = api_client.get("/api/v1/rewards/", {"page_size": 50}).json()
    by_name = {r["name"]: r for r in body["results"]}
    assert (by_name["Cheap"]["affordable"], by_name["Cheap"]["eligible"], by_name["Cheap"]["reason"]) == \
        (True, True, None)
    assert by_name["Dear"]["reason"] == "insufficient_points" and by_name["Dear"]["affordable"] is False
    assert by_name["Gated"]["reason"] == "tier_required"
    assert by_name["Gone"]["reason"] == "out_of_stock" and by_name["Gone"]["in_stock"] is False
    assert by_name["Once"]["reason"] == "limit_reached"
    assert cheap.pk and dear.pk and gated.pk and gone.pk


def test_catalog_filters(api_client, member, anon_client):
    fund(member, 300)
    RewardFactory(name="Ship", kind=Reward.Kind.FREE_SHIPPING, value=None, cost_points=200)
    RewardFactory(name="Big", cost_points=5000)
    assert [r["name"] for r in api_client.get("/api/v1/rewards/?kind=free_shipping").json()["results"]] == ["Ship"]
    assert [r["name"] for r in api_client.get("/api/v1/rewards/?affordable=true").json()["results"]] == ["Ship"]
    assert [r["name"] for r in api_client.get("/api/v1/rewards/?affordable=false").json()["results"]] == ["Big"]
    for bad in ("?kind=cash", "?affordable=maybe"):
        response = api_client.get(f"/api/v1/rewards/{bad}")
        assert response.status_code == 400 and response.json()["code"] == "invalid_filter"
    assert anon_client.get("/api/v1/rewards/?affordable=true").json()["code"] == "invalid_filter"


# -------------------------------------------------------------------------------------------- redemptions
def test_member_redeems_with_an_idempotency_key(api_client, member, reward):
    fund(member, 1200)
    first = api_client.post("/api/v1/me/redemptions/", {"reward": reward.pk}, format="json",
                            HTTP_IDEMPOTENCY_KEY="key-1")
    assert first.status_code == 201
    body = first.json()
    assert set(body) >= {"id", "voucher_code", "points_spent", "balance", "expires_at"}
    assert (body["points_spent"], body["balance"]) == (500, 700)
    assert len(body["voucher_code"]) == 14 and body["voucher_code"][4] == "-"
    again = api_client.post("/api/v1/me/redemptions/", {"reward": reward.pk}, format="json",
                            HTTP_IDEMPOTENCY_KEY="key-1")
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    other = RewardFactory(cost_points=10)
    conflict = api_client.post("/api/v1/me/redemptions/", {"reward": other.pk}, format="json",
                               HTTP_IDEMPOTENCY_KEY="key-1")
    assert conflict.status_code == 409 and conflict.json()["code"] == "idempotency_conflict"
    assert Member.objects.get(pk=member.pk).points_balance == 700


@pytest.mark.parametrize(("setup", "code"), [
    ({"cost_points": 5000}, "insufficient_points"),
    ({"stock": 0}, "out_of_stock"),
    ({"is_active": False}, "not_available"),
    ({"limit_per_member": 1}, "limit_reached"),
])
def test_member_refusals_are_409_with_a_code_and_write_nothing(api_client, member, setup, code):
    fund(member, 1000)
    reward = RewardFactory(**{"cost_points": 100, **{k: v for k, v in setup.items() if k != "limit_per_member"}})
    if "limit_per_member" in setup:
        reward.limit_per_member = 1
        reward.save()
        issue(member, reward)
    before = written()
    response = api_client.post("/api/v1/me/redemptions/", {"reward": reward.pk}, format="json",
                               HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 409 and response.json()["code"] == code and response.json()["detail"]
    assert written() == before


def test_tier_gate(api_client, member):
    gold = TierFactory(name="Gold", rank=3, threshold_points=3000)
    fund(member, 1000)
    reward = RewardFactory(cost_points=100, minimum_tier=gold)
    response = api_client.post("/api/v1/me/redemptions/", {"reward": reward.pk}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "tier_required"


@pytest.mark.parametrize(("body", "headers", "status", "code"), [
    ({"reward": 999999}, {}, 404, "reward_not_found"),
    ({"reward": "abc"}, {}, 400, None),
    ({}, {}, 400, None),
    ({"reward": "REWARD"}, {"HTTP_IDEMPOTENCY_KEY": "x" * 256}, 400, "invalid_idempotency_key"),
    ({"reward": "REWARD"}, {"HTTP_IDEMPOTENCY_KEY": "bad key\twith tab"}, 400, "invalid_idempotency_key"),
])
def test_member_bad_input(api_client, member, reward, body, headers, status, code):
    fund(member, 1000)
    body = {k: (reward.pk if v == "REWARD" else v) for k, v in body.items()}
    before = written()
    response = api_client.post("/api/v1/me/redemptions/", body, format="json", **headers)
    assert response.status_code == status
    assert "code" in response.json() and "detail" in response.json()
    if code:
        assert response.json()["code"] == code
    assert written() == before


def test_integration_redemption_requires_a_key_and_names_the_member(token_client, member, reward):
    fund(member, 600)
    missing = token_client.post("/api/v1/redemptions/", {"member": member.pk, "reward": reward.pk}, format="json")
    assert missing.status_code == 400 and missing.json()["code"] == "idempotency_key_required"
    unknown = token_client.post("/api/v1/redemptions/", {"member": 999_999, "reward": reward.pk}, format="json",
                                HTTP_IDEMPOTENCY_KEY="a")
    assert unknown.status_code == 400 and unknown.json()["field"] == "member"
    assert unknown.json()["code"] == "member_not_found"
    ok = token_client.post("/api/v1/redemptions/", {"member": member.pk, "reward": reward.pk}, format="json",
                           HTTP_IDEMPOTENCY_KEY="b")
    assert ok.status_code == 201 and ok.json()["balance"] == 100 and ok.json()["member"] == member.pk
    other = MemberFactory()
    fund(other, 600)
    conflict = token_client.post("/api/v1/redemptions/", {"member": other.pk, "reward": reward.pk}, format="json",
                                 HTTP_IDEMPOTENCY_KEY="b")
    assert conflict.status_code == 409 and conflict.json()["code"] == "idempotency_conflict"


def test_who_may_call_what(anon_client, api_client, token_client, member, reward):
    fund(member, 5000)
    body = {"reward": reward.pk}
    assert anon_client.post("/api/v1/me/redemptions/", body, format="json").status_code == 401
    assert token_client.post("/api/v1/me/redemptions/", body, format="json").status_code == 403
    assert token_client.get("/api/v1/me/vouchers/").status_code == 403
    integration_body = {"member": member.pk, "reward": reward.pk}
    assert api_client.post("/api/v1/redemptions/", integration_body, format="json",
                           HTTP_IDEMPOTENCY_KEY="k").status_code == 403
    assert anon_client.post("/api/v1/redemptions/", integration_body, format="json",
                            HTTP_IDEMPOTENCY_KEY="k").status_code in (401, 403)
    code = issue(member, reward).code
    assert api_client.post(f"/api/v1/vouchers/{code}/use/", {"order_id": "A"}, format="json").status_code == 403
    assert anon_client.get(f"/api/v1/vouchers/{code}/").status_code in (401, 403)
    assert Voucher.objects.get(code=code).status == "issued"


# ----------------------------------------------------------------------------------------------- vouchers
def test_members_see_and_cancel_only_their_own_vouchers(api_client, member, reward):
    other = MemberFactory()
    fund(member, 1000)
    fund(other, 1000)
    mine = issue(member, reward)
    theirs = issue(other, reward)
    listed = api_client.get("/api/v1/me/vouchers/").json()
    assert [v["id"] for v in listed["results"]] == [mine.pk]
    assert listed["results"][0]["code"] == mine.code_display and listed["results"][0]["status"] == "issued"
    assert api_client.get("/api/v1/me/vouchers/?status=cancelled").json()["results"] == []
    assert api_client.get("/api/v1/me/vouchers/?status=nope").status_code == 400
    response = api_client.post(f"/api/v1/me/vouchers/{theirs.pk}/cancel/", {}, format="json")
    assert response.status_code == 404 and response.json()["code"] == "voucher_not_found"
    assert Voucher.objects.get(pk=theirs.pk).status == "issued"
    response = api_client.post(f"/api/v1/me/vouchers/{mine.pk}/cancel/", {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert Member.objects.get(pk=member.pk).points_balance == 1000


def test_checkout_use(token_client, member, reward):
    fund(member, 2000)
    voucher = issue(member, reward)
    code = voucher.code_display
    checked = token_client.get(f"/api/v1/vouchers/{code}/")
    assert checked.status_code == 200 and checked.json()["status"] == "issued"
    used = token_client.post(f"/api/v1/vouchers/{code}/use/", {"order_id": "W-1"}, format="json")
    assert used.status_code == 200
    assert (used.json()["kind"], used.json()["value"], used.json()["status"]) == ("fixed_discount", "5.00", "used")
    assert token_client.post(f"/api/v1/vouchers/{code.lower()}/use/", {"order_id": "W-1"}, format="json"
                             ).status_code == 200
    again = token_client.post(f"/api/v1/vouchers/{code}/use/", {"order_id": "W-2"}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "voucher_used"
    assert Voucher.objects.get(pk=voucher.pk).used_order_id == "W-1"


def test_checkout_refusals(token_client, member, reward):
    fund(member, 3000)
    expired = issue(member, reward, key="e")
    Voucher.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    cancelled = issue(member, reward, key="c")
    voucher_cancel(voucher_id=cancelled.pk, member_id=member.pk, reason="")
    near = expired.code[:-1] + ("A" if expired.code[-1] != "A" else "B")
    cases = [
        (expired.code, 410, "voucher_expired"),
        (cancelled.code, 409, "voucher_cancelled"),
        ("ZZZZ-ZZZZ-ZZZZ", 404, "voucher_not_found"),
        (near, 404, "voucher_not_found"),
        ("abc$def", 400, "invalid_voucher_code"),
        ("A" * 65, 400, "invalid_voucher_code"),
    ]
    details = set()
    for code, status, error in cases:
        response = token_client.post(f"/api/v1/vouchers/{code}/use/", {"order_id": "X"}, format="json")
        assert (response.status_code, response.json()["code"]) == (status, error), code
        if status == 404:
            details.add(response.json()["detail"])
    assert len(details) == 1  # a near miss reads exactly like a code that never existed
    missing_order = token_client.post(f"/api/v1/vouchers/{expired.code}/use/", {}, format="json")
    assert missing_order.status_code == 400 and missing_order.json()["field"] == "order_id"
    assert Voucher.objects.filter(status="used").count() == 0


def test_a_redemption_is_a_constant_handful_of_queries(token_client, member, django_assert_max_num_queries):
    """The reward and the key in one query, the member's row lock, then one statement for the redemption,
    the voucher and the debit (lots, draws, entry, balance) — whatever the member's number of lots."""
    reward = RewardFactory(cost_points=10)
    for _ in range(30):
        fund(member, 1)
    fund(member, 1000)
    token_client.post("/api/v1/redemptions/", {"member": member.pk, "reward": reward.pk}, format="json",
                      HTTP_IDEMPOTENCY_KEY="warm-up")
    with django_assert_max_num_queries(5):  # savepoint, member lock with reward and key, debit, issue, release
        response = token_client.post("/api/v1/redemptions/", {"member": member.pk, "reward": reward.pk},
                                     format="json", HTTP_IDEMPOTENCY_KEY="measured")
    assert response.status_code == 201 and response.json()["balance"] == 1030 - 20


def test_a_replay_answers_exactly_as_the_first_call(token_client, member, reward):
    fund(member, 1000)
    headers = {"HTTP_IDEMPOTENCY_KEY": "pin"}
    first = token_client.post("/api/v1/redemptions/", {"member": member.pk, "reward": reward.pk}, format="json",
                              **headers)
    fund(member, 5)  # the balance moves on; the replay still tells the balance right after the redemption
    again = token_client.post("/api/v1/redemptions/", {"member": member.pk, "reward": reward.pk}, format="json",
                              **headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    from rewards.api import RedemptionOutSerializer

    assert set(first.json()) == set(RedemptionOutSerializer().fields)


@pytest.mark.parametrize("body", [{"member": True, "reward": 1}, {"member": "1", "reward": "x"},
                                  {"member": 2**40, "reward": 1}, {"member": 0, "reward": 1}, ["member"]])
def test_odd_ids_are_refused_by_the_serializer(token_client, body):
    response = token_client.post("/api/v1/redemptions/", body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 400 and response.json()["code"] == "invalid"
