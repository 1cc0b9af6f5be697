"""Staff permissions hold on every page (issue 11): import/export checks the model's permissions, the metrics API
needs the dashboard's permission, support agents see what they need to answer "where are my points?" and change
nothing but feedback, the assignee list offers support staff, unassigned overdue records reach the support group,
and no agent gives goodwill to their own account."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from backoffice.models import MetricSnapshot
from backoffice.roles import PROGRAM_MANAGER, SUPPORT_AGENT
from backoffice.services import staff_groups_sync
from config.exceptions import DomainError
from feedback.services import feedback_goodwill, feedback_overdue_remind, feedback_record
from loyalty.models import LedgerEntry
from loyalty.services import points_adjust
from members.services import member_create_for_user
from rewards.models import Reward
from rewards.services import reward_redeem
from tests.factories import MemberFactory, RewardFactory, UserFactory

pytestmark = pytest.mark.django_db


def _staff(group: str | None, **kw):
    staff_groups_sync()
    user = UserFactory(is_staff=True, **kw)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def agent():
    return _staff(SUPPORT_AGENT)


@pytest.fixture
def manager():
    return _staff(PROGRAM_MANAGER)


def _csv(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("rewards.csv", text.encode(), content_type="text/csv")


CSV = "name,description,kind,value,cost_points,stock,is_active\nCheap,,fixed_discount,5.00,1,,1\n"


def test_support_agent_cannot_import_or_export_rewards(client, agent):
    client.force_login(agent)
    assert client.get("/admin/rewards/reward/import/").status_code == 403
    response = client.post("/admin/rewards/reward/import/", {"format": "0", "resource": "0",
                                                              "import_file": _csv(CSV)})
    assert response.status_code == 403
    assert not Reward.objects.filter(name="Cheap").exists()
    assert client.get("/admin/rewards/reward/export/").status_code == 403


def test_program_manager_imports_and_exports_with_formulae_escaped(client, manager):
    client.force_login(manager)
    assert client.get("/admin/rewards/reward/import/").status_code == 200
    RewardFactory(name='=HYPERLINK("http://evil.test")', cost_points=100)
    export = client.post("/admin/rewards/reward/export/", {"format": "0", "resource": "0",
                                                            "rewardresource_name": "on",
                                                            "rewardresource_cost_points": "on"})
    assert export.status_code == 200 and export["Content-Disposition"].startswith("attachment")
    body = export.content.decode()
    assert 'HYPERLINK(""http://evil.test"")' in body or "HYPERLINK(" in body
    assert "=HYPERLINK" not in body.replace("'=HYPERLINK", "")  # a spreadsheet would run it
    RewardFactory(name="@SUM(1+1)", cost_points=100)
    RewardFactory(name="+1+cmd", cost_points=100)
    body = client.post("/admin/rewards/reward/export/", {"format": "0", "resource": "0", "rewardresource_name": "on"}
                       ).content.decode()
    assert "'@SUM(1+1)" in body and "'+1+cmd" in body
    assert "\n@SUM" not in body and "\n+1+cmd" not in body


def test_import_uploads_are_capped(client, manager, settings):
    settings.FIDELIO_IMPORT_MAX_BYTES = 100
    client.force_login(manager)
    big = CSV + "".join(f"Row {i},,fixed_discount,5.00,10,,1\n" for i in range(20))
    response = client.post("/admin/rewards/reward/import/", {"format": "0", "resource": "0", "import_file": _csv(big)})
    assert response.status_code == 200
    assert "can be imported at once" in response.content.decode()
    assert not Reward.objects.filter(name="Cheap").exists()


def test_metrics_api_needs_the_dashboard_permission(client, agent, manager):
    MetricSnapshot.objects.create(period=MetricSnapshot.Period.ALL, as_of=timezone.now().date(),
                                  period_start=timezone.now().date(), period_end=timezone.now().date(),
                                  metrics={"revenue": "100.00", "liability": "5.00"})
    client.force_login(agent)
    refused = client.get("/api/v1/metrics/summary/")
    assert refused.status_code == 403 and "revenue" not in refused.content.decode()
    assert client.get("/api/v1/metrics/periods/").status_code == 403
    client.force_login(manager)
    assert client.get("/api/v1/metrics/summary/").status_code == 200


def test_support_agent_sees_points_history_vouchers_redemptions_and_purchases_read_only(client, agent, manager):
    member = MemberFactory()
    points_adjust(member=member, points=700, reason="Opening balance", author=manager)
    reward = RewardFactory(name="Coffee", cost_points=500)
    redemption, _ = reward_redeem(member_id=member.pk, reward_id=reward.pk, source="portal",
                                  idempotency_scope=f"member:{member.pk}", idempotency_key="k1")
    feedback_record(member=member, channel="phone", category="service", text="Where are my points?")
    client.force_login(agent)
    page = client.get(f"/admin/members/member/{member.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    for title in ("Points history", "Vouchers", "Redemptions", "Purchases", "Feedback", "Survey answers"):
        assert title in html, title
    assert "Opening balance" in html and "Coffee" in html and "Where are my points?" in html
    # The full lists, filtered on the member, open read-only.
    for url in ("/admin/loyalty/ledgerentry/", "/admin/rewards/voucher/", "/admin/rewards/redemption/",
                "/admin/loyalty/purchase/"):
        listing = client.get(url, {"member__id__exact": member.pk})
        assert listing.status_code == 200, url
    voucher = redemption.voucher
    assert client.get(f"/admin/rewards/voucher/{voucher.pk}/change/").status_code == 200
    # ... and nothing changes: no adjustment, no voucher cancel, no catalog.
    assert client.get("/admin/loyalty/ledgerentry/adjust/").status_code == 403
    assert client.post("/admin/loyalty/ledgerentry/adjust/", {"member": member.pk, "points": 50,
                                                               "reason": "x"}).status_code == 403
    cancel = client.post("/admin/rewards/voucher/", {"action": "cancel_vouchers", "_selected_action": [voucher.pk],
                                                      "apply": "1", "reason": "no"})
    voucher.refresh_from_db()
    assert voucher.status == "issued" and cancel.status_code in (200, 302, 403)
    assert client.get("/admin/rewards/reward/").status_code == 403
    assert client.get("/admin/loyalty/earningrule/").status_code == 403
    assert client.get("/admin/members/integrationtoken/").status_code == 403
    change = client.post(f"/admin/members/member/{member.pk}/change/", {"first_name": "Changed"})
    assert change.status_code == 403


def test_feedback_assignee_list_offers_support_staff_only(client, agent, manager):
    customer = MemberFactory()
    client.force_login(agent)
    html = client.get("/admin/feedback/feedbackrecord/add/").content.decode()
    assert agent.email in html
    assert manager.email not in html and customer.user.email not in html


def test_unassigned_overdue_records_go_to_the_whole_support_group(agent):
    second = _staff(SUPPORT_AGENT)
    _staff(PROGRAM_MANAGER)
    member = MemberFactory()
    record, _ = feedback_record(member=member, channel="portal", category="service", text="Nobody answered me.",
                                now=timezone.now() - timedelta(days=3))
    assert record.assignee_id is None
    mail.outbox.clear()
    assert feedback_overdue_remind() == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([agent.email, second.email])
    assert "not assigned to anyone" in mail.outbox[0].subject and "Nobody answered me." in mail.outbox[0].body
    assert feedback_overdue_remind() == 0  # once an hour at most


def test_an_agent_cannot_give_goodwill_to_their_own_member_account(agent):
    from allauth.account.models import EmailAddress

    EmailAddress.objects.get_or_create(user=agent, email=agent.email, defaults={"verified": True, "primary": True})
    own, _ = member_create_for_user(user=agent)  # staff logins can hold a member too (created directly here)
    record, _ = feedback_record(member=own, channel="phone", category="service", text="Please add points.")
    with pytest.raises(DomainError) as refused:
        feedback_goodwill(record_id=record.pk, points=50, agent=agent)
    assert refused.value.code == "own_account"
    assert not LedgerEntry.objects.filter(member=own, kind=LedgerEntry.Kind.ADJUST).exists()


def test_the_admin_form_refuses_own_account_goodwill(client, agent):
    own, _ = member_create_for_user(user=agent)
    client.force_login(agent)
    response = client.post("/admin/feedback/feedbackrecord/add/", {
        "member": own.pk, "channel": "phone", "kind": "complaint", "category": "service", "sentiment": "negative",
        "text": "Mine", "order_id": "", "assignee": agent.pk, "status": "open", "resolution_note": "",
        "notify_member": "on", "give_goodwill": "100"}, follow=True)
    assert "own member account" in response.content.decode()
    assert not LedgerEntry.objects.filter(member=own, kind="adjust").exists()
