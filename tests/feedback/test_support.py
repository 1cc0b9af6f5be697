"""Support feedback: agents record and resolve through the admin, deadlines, goodwill within a daily cap,
reminders once an hour, the member's "My feedback" and the integration API."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone

from backoffice.roles import SUPPORT_AGENT
from feedback.models import FeedbackRecord, ResponseTime
from feedback.services import (
    GoodwillCapReached,
    feedback_goodwill,
    feedback_overdue_remind,
    feedback_record,
    feedback_status_change,
)
from loyalty.models import LedgerEntry
from members.models import Member
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(db):
    from backoffice.services import staff_groups_sync

    staff_groups_sync()
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=SUPPORT_AGENT))
    return user


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


def add_form(member=None, **overrides):
    data = {"member": member.pk if member else "", "channel": "phone", "kind": "complaint", "category": "delivery",
            "sentiment": "negative", "text": "Parcel arrived <b>crushed</b>", "order_id": "W-9", "assignee": "",
            "status": "open", "resolution_note": "", "notify_member": "on", "give_goodwill": ""}
    data.update(overrides)
    return data


def test_an_agent_records_and_resolves_feedback_in_the_admin(agent_client, agent, member):
    balance = Member.objects.get(pk=member.pk).points_balance
    ResponseTime.objects.create(category="delivery", hours=8)
    before = timezone.now()
    response = agent_client.post("/admin/feedback/feedbackrecord/add/", add_form(member, assignee=agent.pk))
    assert response.status_code == 302, response.content.decode()[:3000]
    record = FeedbackRecord.objects.get()
    assert record.created_by == agent and record.status == "open"
    assert timedelta(hours=8) <= record.due_at - before < timedelta(hours=8, minutes=1)
    listing = agent_client.get("/admin/feedback/feedbackrecord/").content.decode()
    assert "Parcel arrived &lt;b&gt;crushed&lt;/b&gt;" in listing
    assert "<b>crushed</b>" not in listing
    no_note = agent_client.post(f"/admin/feedback/feedbackrecord/{record.pk}/change/",
                                add_form(member, assignee=agent.pk, status="resolved"))
    assert no_note.status_code == 200 and "Say what was done" in no_note.content.decode()
    done = agent_client.post(f"/admin/feedback/feedbackrecord/{record.pk}/change/",
                             add_form(member, assignee=agent.pk, status="resolved",
                                      resolution_note="Sent a new one", give_goodwill="50"))
    assert done.status_code == 302
    record.refresh_from_db()
    assert record.status == "resolved" and record.resolved_at and record.goodwill_points == 50
    entry = LedgerEntry.objects.get(pk=record.goodwill_entry_id)
    assert (entry.author, entry.points, entry.kind) == (agent, 50, "adjust")
    assert Member.objects.get(pk=member.pk).points_balance == balance + 50


def test_agent_permissions_through_the_admin(agent_client):
    for url in ("/admin/rewards/reward/", "/admin/loyalty/earningrule/", "/admin/loyalty/ledgerentry/adjust/",
                "/admin/members/tier/add/", "/admin/members/user/", "/admin/gamification/challenge/"):
        assert agent_client.get(url).status_code == 403, url
    assert agent_client.get("/admin/loyalty/ledgerentry/").status_code == 200  # read-only (issue 11)
    assert agent_client.get("/admin/feedback/feedbackrecord/").status_code == 200
    assert agent_client.get("/admin/feedback/feedbackrecord/add/").status_code == 200
    assert agent_client.get("/admin/members/member/").status_code == 200


def test_resolution_mail_and_transitions(member, django_capture_on_commit_callbacks):
    record, _ = feedback_record(member=member, channel="email", category="product", text="Zip broke")
    with django_capture_on_commit_callbacks(execute=True):
        feedback_status_change(record_id=record.pk, status="resolved", note="Replaced the jacket")
    assert "You told us, we acted" in mail.outbox[-1].subject and "Replaced the jacket" in mail.outbox[-1].body
    from config.exceptions import DomainError

    with pytest.raises(DomainError):
        feedback_status_change(record_id=record.pk, status="open")


def test_goodwill_is_capped_per_agent_per_day(member, agent, settings):
    settings.FIDELIO_GOODWILL_DAILY_CAP = 100
    records = [feedback_record(member=member, channel="phone", category="service", text=f"t{i}")[0]
               for i in range(3)]
    feedback_goodwill(record_id=records[0].pk, points=60, agent=agent)
    with pytest.raises(GoodwillCapReached):
        feedback_goodwill(record_id=records[1].pk, points=50, agent=agent)
    feedback_goodwill(record_id=records[1].pk, points=40, agent=agent)
    tomorrow = timezone.now() + timedelta(days=1)
    feedback_goodwill(record_id=records[2].pk, points=100, agent=agent, now=tomorrow)  # a new day
    assert LedgerEntry.objects.filter(author=agent).count() == 3


def test_overdue_reminders_once_an_hour(member, agent):
    agent.email = "agent@example.test"
    agent.save()
    now = timezone.now()
    for i in range(2):
        feedback_record(member=member, channel="chat", category="website", text=f"x{i}", assignee=agent,
                        now=now - timedelta(hours=30))
    assert feedback_overdue_remind(now=now) == 1
    assert "2 overdue" in mail.outbox[-1].subject
    assert feedback_overdue_remind(now=now + timedelta(minutes=10)) == 0
    assert feedback_overdue_remind(now=now + timedelta(hours=1)) == 1


def test_members_send_and_follow_feedback_in_the_portal(client, member, other_member):
    client.force_login(member.user)
    assert "Nothing yet" in client.get("/feedback/").content.decode()
    response = client.post("/feedback/", {"kind": "suggestion", "category": "website", "order_id": "",
                                          "text": "<script>alert(1)</script> add dark mode"}, follow=True)
    page = response.content.decode()
    assert "Thank you" in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    feedback_record(member=other_member, channel="phone", category="price", text="not mine")
    assert "not mine" not in client.get("/feedback/").content.decode()
    too_long = client.post("/feedback/", {"kind": "complaint", "category": "other", "text": "x" * 5001})
    assert too_long.status_code == 200 and FeedbackRecord.objects.filter(member=member).count() == 1


def test_integration_api(token_client, member, api_client):
    body = {"member": member.pk, "channel": "chat", "category": "delivery", "text": "Where is my parcel?"}
    first = token_client.post("/api/v1/feedback/", body, format="json", HTTP_IDEMPOTENCY_KEY="chat-1")
    assert first.status_code == 201 and first.json()["status"] == "open"
    again = token_client.post("/api/v1/feedback/", body, format="json", HTTP_IDEMPOTENCY_KEY="chat-1")
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    for bad, code in (({**body, "text": "x" * 5001}, "invalid"), ({**body, "category": "weather"}, "invalid"),
                      ({**body, "member": 999999}, "member_not_found")):
        response = token_client.post("/api/v1/feedback/", bad, format="json")
        assert response.status_code == 400 and response.json()["code"] == code
    assert FeedbackRecord.objects.count() == 1
    assert api_client.post("/api/v1/feedback/", body, format="json").status_code == 403
