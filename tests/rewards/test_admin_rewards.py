"""The rewards back office: validation (form and database), images, bulk actions, CSV, low stock, cancel."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from PIL import Image

from loyalty.models import LedgerEntry
from members.models import Member
from rewards.admin import RewardResource
from rewards.models import Reward, Voucher
from rewards.services import reward_redeem
from tests.factories import RewardFactory
from tests.rewards.conftest import fund

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, staff_user):
    client.force_login(staff_user)
    return client


def form(**overrides):
    # Texts per language (modeltranslation): English is required, the others optional.
    data = {"name_en": "Coffee", "description_en": "", "kind": "free_product", "value": "", "cost_points": "150",
            "is_active": "on", "sort_order": "0", "stock": "", "minimum_tier": "", "available_from_0": "",
            "available_from_1": "", "available_until_0": "", "available_until_1": "", "limit_per_member": "",
            "limit_period_days": "", "voucher_valid_days": "90"}
    data.update(overrides)
    return data


def png(size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_staff_create_a_reward(admin_client):
    response = admin_client.post("/admin/rewards/reward/add/", form())
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Reward.objects.get(name="Coffee").cost_points == 150


@pytest.mark.parametrize(("field", "value", "message"), [
    ("cost_points", "0", "at least 1 point"),
    ("cost_points", "-5", "greater than or equal to 0"),
    ("stock", "0", "units available"),
    ("stock", "-1", "greater than or equal to 0"),
    ("kind", "percent_discount", "needs a value"),
])
def test_bad_rewards_are_refused_by_the_form(admin_client, field, value, message):
    response = admin_client.post("/admin/rewards/reward/add/", form(**{field: value}))
    assert response.status_code == 200 and message in response.content.decode()
    assert not Reward.objects.exists()


@pytest.mark.parametrize("values", [{"cost_points": 0}, {"stock": -1}, {"value": -1},
                                    {"kind": "percent_discount", "value": 150}])
def test_the_database_refuses_them_too(values):
    with pytest.raises(IntegrityError), transaction.atomic():
        Reward.objects.create(name="Bad", **{"cost_points": 10, **values})


def test_image_upload_is_checked_and_served_safely(admin_client, client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("My Photo.PNG", png(), content_type="image/png")
    response = admin_client.post("/admin/rewards/reward/add/", form(image=upload))
    assert response.status_code == 302
    reward = Reward.objects.get()
    assert reward.image.name.startswith("rewards/") and "My Photo" not in reward.image.name
    served = client.get(reward.image.url)
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff" and "sandbox" in served["Content-Security-Policy"]
    assert b"".join(served.streaming_content) == png()
    assert client.get("/media/rewards/../../config/settings.py").status_code == 404
    assert client.get("/media/rewards/" + "0" * 32 + ".png").status_code == 404


@pytest.mark.parametrize(("name", "content", "message"), [
    ("evil.png", b"<svg onload=alert(1)>", "Upload a valid image"),
    ("evil.svg", b"<svg onload=alert(1)></svg>", "Upload a valid image"),
    ("huge.png", None, "the limit is"),
])
def test_non_images_and_large_files_are_refused(admin_client, settings, tmp_path, name, content, message):
    settings.MEDIA_ROOT = tmp_path
    if content is None:
        settings.FIDELIO_REWARD_IMAGE_MAX_BYTES = 100
        content = png()
    response = admin_client.post("/admin/rewards/reward/add/",
                                 form(image=SimpleUploadedFile(name, content, content_type="image/png")))
    assert response.status_code == 200 and message in response.content.decode()
    assert not Reward.objects.exists()


def test_bulk_activate_and_deactivate(admin_client):
    rewards = [RewardFactory(is_active=False) for _ in range(3)]
    ids = [r.pk for r in rewards]
    admin_client.post("/admin/rewards/reward/", {"action": "activate", "_selected_action": ids})
    assert Reward.objects.filter(is_active=True).count() == 3
    admin_client.post("/admin/rewards/reward/", {"action": "deactivate", "_selected_action": ids[:2]})
    assert list(Reward.objects.filter(is_active=True).values_list("pk", flat=True)) == ids[2:]


def test_low_stock_warning_and_filter(admin_client, settings):
    settings.FIDELIO_LOW_STOCK = 5
    RewardFactory(name="Nearly gone", stock=2)
    RewardFactory(name="Plenty", stock=100)
    RewardFactory(name="Sold out", stock=0)
    page = admin_client.get("/admin/rewards/reward/").content.decode()
    assert "Low or no stock: " in page and "Nearly gone (2)" in page and "Sold out (0)" in page
    assert "Plenty (100)" not in page
    low = admin_client.get("/admin/rewards/reward/?stock=low").content.decode()
    assert "Nearly gone" in low and "Plenty</a>" not in low


def test_csv_export_and_import_round_trip(admin_client):
    from tests.factories import TierFactory

    TierFactory(name="Gold", rank=3, threshold_points=3000)
    RewardFactory(name="Tote bag", kind="gift", value=None, cost_points=900, stock=12)
    exported = admin_client.post("/admin/rewards/reward/export/", {"format": "0", "resource": "0",
                                                                   "rewardresource_name": "on",
                                                                   "rewardresource_cost_points": "on"})
    assert exported.status_code == 200
    assert "Tote bag" in exported.content.decode()
    assert admin_client.get("/admin/rewards/reward/import/").status_code == 200
    import tablib

    data = tablib.Dataset(headers=["name", "kind", "value", "cost_points", "stock", "minimum_tier", "is_active",
                                   "sort_order", "voucher_valid_days"])
    data.append(["Tote bag", "gift", "", "950", "12", "", "1", "0", "90"])
    data.append(["VIP lounge", "gift", "", "5000", "", "Gold", "1", "1", "30"])
    data.append(["Broken", "gift", "", "0", "", "", "1", "2", "30"])
    result = RewardResource().import_data(data, dry_run=True)
    assert result.has_validation_errors()  # the zero-cost row is refused; a dry run writes nothing
    data.pop()
    result = RewardResource().import_data(data, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert Reward.objects.get(name="Tote bag").cost_points == 950
    assert Reward.objects.get(name="VIP lounge").minimum_tier.name == "Gold"


def test_staff_cancel_vouchers_with_a_reason(admin_client, member, staff_user):
    reward = RewardFactory(cost_points=100, stock=5)
    fund(member, 300)
    voucher = reward_redeem(member_id=member.pk, reward_id=reward.pk, source="portal",
                            idempotency_scope="test", idempotency_key="a")[0].voucher
    ask = admin_client.post("/admin/rewards/voucher/", {"action": "cancel_vouchers",
                                                        "_selected_action": [voucher.pk]})
    assert ask.status_code == 200 and "Cancel vouchers" in ask.content.decode()
    missing_reason = admin_client.post("/admin/rewards/voucher/", {"action": "cancel_vouchers", "apply": "1",
                                                                   "_selected_action": [voucher.pk], "reason": ""})
    assert missing_reason.status_code == 200 and Voucher.objects.get(pk=voucher.pk).status == "issued"
    done = admin_client.post("/admin/rewards/voucher/", {"action": "cancel_vouchers", "apply": "1",
                                                         "_selected_action": [voucher.pk],
                                                         "reason": "Member called: wrong reward"})
    assert done.status_code == 302
    voucher.refresh_from_db()
    assert voucher.status == "cancelled" and voucher.cancel_reason == "Member called: wrong reward"
    assert voucher.cancelled_by == staff_user
    assert Member.objects.get(pk=member.pk).points_balance == 300
    assert Reward.objects.get(pk=reward.pk).stock == 5
    assert LedgerEntry.objects.get(kind="reversal").author == staff_user


def test_voucher_search_accepts_printed_codes_and_pages_render(admin_client, member):
    reward = RewardFactory(cost_points=10)
    fund(member, 100)
    voucher = reward_redeem(member_id=member.pk, reward_id=reward.pk, source="portal",
                            idempotency_scope="test", idempotency_key="a")[0].voucher
    page = admin_client.get("/admin/rewards/voucher/", {"q": voucher.code_display}).content.decode()
    assert voucher.code_display in page
    assert admin_client.get("/admin/rewards/redemption/").status_code == 200
    assert admin_client.get(f"/admin/rewards/voucher/{voucher.pk}/change/").status_code == 200
