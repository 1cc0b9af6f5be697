"""Newsletters: audience, rendering (no injected HTML, escaped placeholders), exactly-once sending across
interruptions, one-click unsubscribe, stats, permissions."""

from __future__ import annotations

import base64
import smtplib
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core import mail, signing
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from backoffice.models import MemberScore, Newsletter, NewsletterDelivery
from backoffice.roles import PROGRAM_MANAGER, SUPPORT_AGENT
from backoffice.services import newsletters, staff_groups_sync
from loyalty import ledger
from members.models import Member
from tests.factories import MemberFactory, RewardFactory, ShopMemberFactory, TierFactory, UserFactory

pytestmark = pytest.mark.django_db


def consenting(n: int, **fields) -> list[Member]:
    members = [ShopMemberFactory() for _ in range(n)]
    Member.objects.filter(pk__in=[m.pk for m in members]).update(marketing_consent=True, **fields)
    return list(Member.objects.filter(pk__in=[m.pk for m in members]).order_by("pk"))


def newsletter_make(**fields) -> Newsletter:
    fields.setdefault("subject", "News for {first_name}")
    fields.setdefault("body_markdown", "Hello **{first_name}**, you have {balance} points.")
    return Newsletter.objects.create(**fields)


def send_all(newsletter: Newsletter, **kwargs) -> newsletters.SendResult:
    newsletters.newsletter_schedule(newsletter=newsletter, when=timezone.now())
    return newsletters.newsletter_send_run(newsletter_id=newsletter.pk, **kwargs)


# ----------------------------------------------------------------------------------------------- audience
def test_audience_is_only_consenting_members_with_an_email():
    yes = consenting(2)
    ShopMemberFactory()  # no consent
    blank = consenting(1)[0]
    Member.objects.filter(pk=blank.pk).update(email="")
    assert set(newsletters.newsletter_audience_qs(audience={}).values_list("pk", flat=True)) == {m.pk for m in yes}


def test_audience_by_tier_segment_churn_risk_and_expiring_points():
    bronze, gold = TierFactory(name="Bronze", rank=1), TierFactory(name="Gold", rank=3)
    a, b, c, d = consenting(4)
    Member.objects.filter(pk__in=[a.pk, b.pk]).update(tier=gold)
    Member.objects.filter(pk__in=[c.pk, d.pk]).update(tier=bronze)
    today = timezone.localdate()
    MemberScore.objects.create(member=a, as_of=today, segment="at_risk", p_alive=0.2)
    MemberScore.objects.create(member=c, as_of=today, segment="champions", p_alive=0.9)
    ledger.points_credit(member=d, points=40, kind="bonus", description="x", idempotency_key="exp-d",
                         expires_at=timezone.now() + timedelta(days=5))
    ledger.points_credit(member=b, points=40, kind="bonus", description="x", idempotency_key="exp-b",
                         expires_at=timezone.now() + timedelta(days=300))

    def ids(audience):
        return set(newsletters.newsletter_audience_qs(audience=audience).values_list("pk", flat=True))

    assert ids({"tiers": [gold.pk]}) == {a.pk, b.pk}
    assert ids({"segments": ["at_risk", "champions"]}) == {a.pk, c.pk}
    assert ids({"p_alive_below": 0.5}) == {a.pk}  # members without a score are not "at risk"
    assert ids({"expiring_points": True}) == {d.pk}
    assert ids({"tiers": [bronze.pk], "segments": ["champions"]}) == {c.pk}  # criteria combine with AND
    Member.objects.filter(pk=a.pk).update(marketing_consent=False)
    assert ids({"segments": ["at_risk"]}) == set()
    with pytest.raises(newsletters.DomainError):
        newsletters.audience_validate({"segments": ["nope"]})


def test_materialise_is_one_row_per_member_and_idempotent():
    consenting(3)
    newsletter = newsletter_make()
    assert newsletters.newsletter_deliveries_materialise(newsletter=newsletter) == 3
    assert newsletters.newsletter_deliveries_materialise(newsletter=newsletter) == 0
    assert NewsletterDelivery.objects.filter(newsletter=newsletter, status="pending").count() == 3


# ---------------------------------------------------------------------------------------------- rendering
def test_markdown_cannot_inject_html_or_script_links():
    out = newsletters.markdown_to_html('Hi <script>alert(1)</script> [x](javascript:alert(2)) '
                                       '<img src=x onerror=alert(3)> [ok](https://shop.test/a)\n\n# Title')
    assert "<script" not in out and "<img" not in out
    assert "javascript:" not in out
    assert 'href="https://shop.test/a"' in out
    assert "<h1>Title</h1>" in out


def test_placeholders_are_filled_per_member_and_escaped_in_html():
    tier = TierFactory(name="Gold", rank=3)
    member = consenting(1, first_name="<b>Ann</b>", tier=tier)[0]
    ledger.points_credit(member=member, points=700, kind="bonus", description="x", idempotency_key="p-1",
                         expires_at=timezone.now() + timedelta(days=3))
    RewardFactory(name="Mug", cost_points=300)
    RewardFactory(name="Tote bag", cost_points=650)
    RewardFactory(name="Bike", cost_points=90000)
    member.refresh_from_db()
    newsletter = newsletter_make(
        body_markdown="Hi {first_name}: {balance} points, tier {tier}, {points_expiring} expiring, "
                      "try the {recommended_reward}. {unknown} stays.")
    send_all(newsletter)
    [message] = mail.outbox
    html = message.alternatives[0][0]
    balance = f"{member.points_balance:,}"
    assert message.subject == "News for <b>Ann</b>"
    assert f"Hi <b>Ann</b>: {balance} points, tier Gold, 700 expiring, try the Tote bag. {{unknown}} stays." \
        in message.body
    assert "Hi &lt;b&gt;Ann&lt;/b&gt;" in html and "<b>Ann</b>" not in html
    assert "Tote bag" in html
    from loyalty.selectors import points_expiring_get

    assert newsletters.points_expiring_many(member_ids=[member.pk]) == {
        member.pk: points_expiring_get(member_id=member.pk)["points"]}


# ------------------------------------------------------------------------------------------------ sending
def test_send_once_to_each_consenting_member_with_unsubscribe_headers():
    members = consenting(5)
    ShopMemberFactory()  # no consent: nothing
    newsletter = newsletter_make()
    result = send_all(newsletter, batch_size=2)
    assert result.sent == 5
    assert sorted(m.to[0] for m in mail.outbox) == sorted(m.email for m in members)
    message = mail.outbox[0]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert url.startswith("http") and "/newsletters/unsubscribe/" in url
    assert url in message.body and url in message.alternatives[0][0]
    newsletter.refresh_from_db()
    assert newsletter.status == "sent" and newsletter.sent_at is not None
    assert set(NewsletterDelivery.objects.values_list("status", flat=True)) == {"sent"}
    # run again: nothing more
    again = newsletters.newsletter_send_run(newsletter_id=newsletter.pk)
    assert again.sent == 0 and len(mail.outbox) == 5


class FlakyBackend(LocmemBackend):
    """Accepts `budget` messages, then the server goes away (as a crashing SMTP connection would)."""

    budget: int | None = None

    def send_messages(self, messages):
        if FlakyBackend.budget is not None:
            if FlakyBackend.budget <= 0:
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
            FlakyBackend.budget -= 1
        return super().send_messages(messages)


class RefusingBackend(LocmemBackend):
    def send_messages(self, messages):
        if messages[0].to[0].startswith("bad"):
            raise smtplib.SMTPRecipientsRefused({messages[0].to[0]: (550, b"no such user")})
        return super().send_messages(messages)


def test_interrupted_send_then_restart_delivers_exactly_one_copy(settings):
    settings.EMAIL_BACKEND = "tests.backoffice.test_newsletters.FlakyBackend"
    members = consenting(12)
    refusers = [ShopMemberFactory() for _ in range(3)]  # no consent
    newsletter = newsletter_make()
    FlakyBackend.budget = 7  # the server dies mid-batch (batch of 5: after two full batches and 2 messages)
    try:
        with pytest.raises(newsletters.NewsletterSendInterrupted):
            send_all(newsletter, batch_size=5)
        assert len(mail.outbox) == 7
        assert NewsletterDelivery.objects.filter(status="sent").count() == 7
        assert NewsletterDelivery.objects.filter(status="pending").count() == 5
        # A consenting member unsubscribes from elsewhere meanwhile: they get nothing now.
        late = NewsletterDelivery.objects.filter(status="pending").order_by("pk").last()
        Member.objects.filter(pk=late.member_id).update(marketing_consent=False)
        FlakyBackend.budget = None  # the server is back; the retry resumes
        result = newsletters.newsletter_send_run(newsletter_id=newsletter.pk, batch_size=5)
    finally:
        FlakyBackend.budget = None
    assert result.sent == 4 and result.failed == 1
    received = [m.to[0] for m in mail.outbox]
    assert len(received) == len(set(received)) == 11
    assert set(received) == {m.email for m in members} - {Member.objects.get(pk=late.member_id).email}
    assert not set(received) & {m.email for m in refusers}
    newsletter.refresh_from_db()
    assert newsletter.status == "sent"


def test_killed_between_batches_then_restarted_sends_the_rest_once():
    consenting(9)
    newsletter = newsletter_make()
    first = send_all(newsletter, batch_size=4, max_batches=1)  # the worker stops after one batch
    assert first.sent == 4 and first.more
    newsletter.refresh_from_db()
    assert newsletter.status == "sent" or newsletter.status == "sending"
    newsletters.newsletter_send_run(newsletter_id=newsletter.pk, batch_size=4)
    newsletters.newsletter_send_run(newsletter_id=newsletter.pk, batch_size=4)  # a duplicate retry
    received = [m.to[0] for m in mail.outbox]
    assert len(received) == len(set(received)) == 9
    assert NewsletterDelivery.objects.filter(newsletter=newsletter).count() == 9  # audience fixed once


def test_refused_recipient_is_recorded_as_failed(settings):
    settings.EMAIL_BACKEND = "tests.backoffice.test_newsletters.RefusingBackend"
    consenting(2)
    bad = consenting(1)[0]
    Member.objects.filter(pk=bad.pk).update(email="bad@example.test")
    newsletter = newsletter_make()
    result = send_all(newsletter)
    assert (result.sent, result.failed) == (2, 1)
    row = NewsletterDelivery.objects.get(member=bad)
    assert row.status == "failed" and "550" in row.error and row.sent_at is None


def test_scheduled_newsletters_start_when_due(django_capture_on_commit_callbacks):
    from backoffice import tasks

    consenting(2)
    later = newsletter_make(scheduled_at=timezone.now() + timedelta(hours=1))
    newsletters.newsletter_schedule(newsletter=later)
    assert newsletters.newsletters_due_ids() == []
    assert newsletters.newsletter_send_run(newsletter_id=later.pk).skipped  # not due: nothing happens
    Newsletter.objects.filter(pk=later.pk).update(scheduled_at=timezone.now() - timedelta(minutes=1))
    assert newsletters.newsletters_due_ids() == [later.pk]
    assert tasks.newsletter_send(newsletter_id=later.pk) == 2
    assert len(mail.outbox) == 2
    assert newsletters.newsletters_due_ids() == []
    with django_capture_on_commit_callbacks() as callbacks:
        newsletters.newsletter_send_start(newsletter=newsletter_make(subject="Now"))
    assert len(callbacks) == 1


def test_preview_goes_to_the_staff_user_only():
    consenting(3)
    staff = UserFactory(is_staff=True, email="boss@example.test")
    newsletter = newsletter_make()
    newsletters.newsletter_preview_send(newsletter=newsletter, user=staff)
    [message] = mail.outbox
    assert message.to == ["boss@example.test"] and message.subject.startswith("[Preview]")
    assert "Alex" in message.body  # sample values for a staff user without a membership
    assert not NewsletterDelivery.objects.exists()


# ---------------------------------------------------------------------------------------------- unsubscribe
def test_unsubscribe_link_get_confirms_post_withdraws_consent():
    member = consenting(1)[0]
    newsletter = newsletter_make()
    send_all(newsletter)
    url = mail.outbox[0].extra_headers["List-Unsubscribe"].strip("<>")
    path = url.split("://", 1)[1].split("/", 1)[1]
    client = Client()
    response = client.get(f"/{path}")
    assert response.status_code == 200 and b"unsubscribe-confirm" in response.content
    member.refresh_from_db()
    assert member.marketing_consent  # GET alone changes nothing
    response = client.post(f"/{path}", data="List-Unsubscribe=One-Click",
                           content_type="application/x-www-form-urlencoded")  # RFC 8058, no CSRF token
    assert response.status_code == 200 and b"unsubscribed" in response.content
    member.refresh_from_db()
    assert not member.marketing_consent
    delivery = NewsletterDelivery.objects.get(member=member)
    assert delivery.unsubscribed_at is not None
    assert client.post(f"/{path}").status_code == 200  # again: still fine, nothing changes
    stats = newsletters.newsletter_stats_annotate(Newsletter.objects.filter(pk=newsletter.pk)).get()
    assert (stats.n_recipients, stats.n_sent, stats.n_failed, stats.n_unsubscribed) == (1, 1, 0, 1)


def test_tampered_unsubscribe_link_is_refused():
    member = consenting(1)[0]
    newsletter = newsletter_make()
    token = newsletters.unsubscribe_token_make(member_id=member.pk, newsletter_id=newsletter.pk)
    client = Client()
    forged = signing.dumps({"m": member.pk, "n": newsletter.pk}, salt="another.salt", compress=False)
    _payload, rest = token.split(":", 1)
    other_member = base64.urlsafe_b64encode(f'{{"m":{member.pk + 1},"n":{newsletter.pk}}}'.encode()).decode()
    for bad in (token[:-2] + "xx", "nonsense", forged, f"{other_member.rstrip('=')}:{rest}"):
        response = client.post(reverse("newsletter-unsubscribe", kwargs={"token": bad}))
        assert response.status_code in (400, 404)
    member.refresh_from_db()
    assert member.marketing_consent


# ------------------------------------------------------------------------------------------- admin, roles
def test_admin_list_shows_stats_in_one_query(django_assert_max_num_queries):
    consenting(3)
    for n in range(3):
        send_all(newsletter_make(subject=f"N{n}"))
    admin_user = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin_user)
    response = client.get("/admin/backoffice/newsletter/")
    assert response.status_code == 200
    assert response.context["cl"].result_list[0].n_sent == 3
    with django_assert_max_num_queries(12):
        client.get("/admin/backoffice/newsletter/")


def test_admin_compose_and_actions():
    tier = TierFactory(name="Gold", rank=3)
    consenting(2, tier=tier)
    admin_user = UserFactory(is_staff=True, is_superuser=True, email="me@example.test")
    client = Client()
    client.force_login(admin_user)
    response = client.post("/admin/backoffice/newsletter/add/", {
        "subject_en": "Hello {first_name}", "body_markdown_en": "Body", "audience_tiers": [tier.pk],
        "audience_segments": ["at_risk"], "audience_p_alive_below": "0.4",
    })
    assert response.status_code == 302, response.content[:2000]
    newsletter = Newsletter.objects.get()
    assert newsletter.audience == {"tiers": [tier.pk], "segments": ["at_risk"], "p_alive_below": 0.4}
    assert newsletter.created_by == admin_user
    assert client.get(f"/admin/backoffice/newsletter/{newsletter.pk}/change/").status_code == 200
    client.post("/admin/backoffice/newsletter/", {"action": "preview_to_me", "_selected_action": [newsletter.pk]})
    assert mail.outbox[-1].to == ["me@example.test"]


def test_program_managers_manage_newsletters_support_agents_do_not():
    staff_groups_sync()
    manager = MemberFactory().user
    agent = UserFactory(is_staff=True)
    manager.is_staff = True
    manager.save()
    manager.groups.add(Group.objects.get(name=PROGRAM_MANAGER))
    agent.groups.add(Group.objects.get(name=SUPPORT_AGENT))
    for perm in ("add_newsletter", "change_newsletter", "view_newsletter"):
        assert manager.has_perm(f"backoffice.{perm}")
        assert not agent.has_perm(f"backoffice.{perm}")
    assert not manager.has_perm("backoffice.delete_newsletter")
