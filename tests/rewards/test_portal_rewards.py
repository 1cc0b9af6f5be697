"""Portal pages for rewards through Django's test client (the browser tests drive the same flows in Chromium)."""

import re

import pytest

from members.models import Member
from rewards.models import Redemption, Voucher
from rewards.services import reward_redeem
from tests.factories import MemberFactory, RewardFactory
from tests.rewards.conftest import fund

pytestmark = pytest.mark.django_db


@pytest.fixture
def portal(client, member):
    client.force_login(member.user)
    return client


def test_catalog_filters_and_empty_states(portal, member):
    assert "The catalog is empty" in portal.get("/rewards/").content.decode()
    fund(member, 300)
    RewardFactory(name="Mug", kind="free_product", value=None, cost_points=200)
    RewardFactory(name="Hotel night", kind="gift", value=None, cost_points=9000)
    page = portal.get("/rewards/").content.decode()
    assert "Mug" in page and "Hotel night" in page and "8700 more points needed" in page
    affordable = portal.get("/rewards/?affordable=1").content.decode()
    assert "Mug" in affordable and "Hotel night" not in affordable
    gifts = portal.get("/rewards/?kind=gift").content.decode()
    assert "Hotel night" in gifts and "Mug" not in gifts
    none = portal.get("/rewards/?kind=free_shipping").content.decode()
    assert "No rewards match these filters" in none


def test_redeem_with_confirmation_then_voucher_with_qr(portal, member):
    fund(member, 1000)
    reward = RewardFactory(name="Free coffee", cost_points=300)
    confirm = portal.get(f"/rewards/{reward.pk}/redeem/").content.decode()
    assert "Redeem Free coffee?" in confirm and ">700<" in confirm
    key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', confirm).group(1)
    assert not Redemption.objects.exists()  # the confirmation page writes nothing
    done = portal.post(f"/rewards/{reward.pk}/redeem/", {"idempotency_key": key})
    voucher = Voucher.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/vouchers/{voucher.pk}/"
    again = portal.post(f"/rewards/{reward.pk}/redeem/", {"idempotency_key": key})  # double submit
    assert again["Location"] == f"/vouchers/{voucher.pk}/" and Voucher.objects.count() == 1
    page = portal.get(f"/vouchers/{voucher.pk}/").content.decode()
    assert voucher.code_display in page and "<svg" in page and "valid until" in page
    assert Member.objects.get(pk=member.pk).points_balance == 700
    listing = portal.get("/vouchers/").content.decode()
    assert voucher.code_display in listing and "Free coffee" in listing


def test_refusal_is_shown_and_nothing_is_written(portal, member):
    fund(member, 100)
    reward = RewardFactory(name="Dear", cost_points=500)
    response = portal.post(f"/rewards/{reward.pk}/redeem/", {"idempotency_key": "a" * 32}, follow=True)
    assert "Dear costs 500 points; the balance is 100." in response.content.decode()
    assert not Redemption.objects.exists()
    bad_key = portal.post(f"/rewards/{reward.pk}/redeem/", {"idempotency_key": ""}, follow=True)
    assert "Idempotency-Key" in bad_key.content.decode() and not Redemption.objects.exists()


def test_cancel_from_the_portal(portal, member):
    fund(member, 500)
    reward = RewardFactory(cost_points=200)
    voucher = reward_redeem(member_id=member.pk, reward_id=reward.pk, source="portal",
                            idempotency_scope=f"member:{member.pk}", idempotency_key="x")[0].voucher
    assert "Cancel this voucher?" in portal.get(f"/vouchers/{voucher.pk}/cancel/").content.decode()
    response = portal.post(f"/vouchers/{voucher.pk}/cancel/", follow=True)
    assert "The voucher is cancelled" in response.content.decode()
    assert Voucher.objects.get(pk=voucher.pk).status == "cancelled"
    assert Member.objects.get(pk=member.pk).points_balance == 500


def test_other_members_vouchers_are_not_found(portal):
    other = MemberFactory()
    fund(other, 500)
    reward = RewardFactory(cost_points=200)
    voucher = reward_redeem(member_id=other.pk, reward_id=reward.pk, source="portal",
                            idempotency_scope=f"member:{other.pk}", idempotency_key="x")[0].voucher
    assert portal.get(f"/vouchers/{voucher.pk}/").status_code == 404
    assert portal.post(f"/vouchers/{voucher.pk}/cancel/").status_code == 404
    assert Voucher.objects.get(pk=voucher.pk).status == "issued"


def test_pages_need_a_login_and_escape_names(client, member):
    assert client.get("/rewards/").status_code == 302
    assert client.get("/vouchers/").status_code == 302
    client.force_login(member.user)
    RewardFactory(name="<script>alert(1)</script>", cost_points=10)
    page = client.get("/rewards/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_inactive_rewards_have_no_pages(portal):
    reward = RewardFactory(is_active=False)
    assert portal.get(f"/rewards/{reward.pk}/").status_code == 404
    assert portal.get(f"/rewards/{reward.pk}/redeem/").status_code == 404
