"""Portal points pages, invitation links, and the back-office adjustment form, through HTTP."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from loyalty import ledger
from loyalty.models import EarningRule, LedgerEntry
from loyalty.rules import earning_rules_active
from members.models import Member, User
from tests.factories import MemberFactory, UserFactory
from tests.loyalty.conftest import buy

pytestmark = pytest.mark.django_db


def test_points_history_lists_own_entries_and_pending(client, member):
    buy(member, "42", at=timezone.now() - timedelta(days=30), now=timezone.now())
    buy(member, "9", at=timezone.now(), now=timezone.now(), order_id="PENDING-1")
    other = MemberFactory()
    ledger.points_credit(member=other, points=7, kind="bonus", description="someone else's gift",
                         idempotency_key="other")
    client.force_login(member.user)
    html = client.get("/points/").content.decode()
    assert "+42" in html and "PENDING-1" in html
    assert "someone else&#x27;s gift" not in html and "someone else's gift" not in html


def test_points_history_empty_state(client, member):
    client.force_login(member.user)
    assert "No points yet" in client.get("/points/").content.decode()


def test_points_history_needs_login(client):
    response = client.get("/points/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_invitation_link_applies_the_code_at_sign_up(client):
    referrer = MemberFactory()
    response = client.get(f"/r/{referrer.referral_code.lower()}/", follow=True)
    assert "A friend invited you" in response.content.decode()
    client.post("/accounts/signup/", {"email": "friend@example.test", "password1": "a-long-secret-phrase",
                                      "password2": "a-long-secret-phrase"})
    assert not Member.objects.filter(user__email="friend@example.test").exists()  # not before verification
    _verify_last_mail(client)
    assert Member.objects.get(user__email="friend@example.test").referred_by == referrer


def test_sign_up_with_a_typed_referral_code_and_a_wrong_one(client):
    referrer = MemberFactory()
    bad = client.post("/accounts/signup/", {"email": "x@example.test", "password1": "a-long-secret-phrase",
                                            "password2": "a-long-secret-phrase", "referral_code": "WRONGCODE"})
    assert bad.status_code == 200 and "No member has this referral code" in bad.content.decode()
    assert not User.objects.filter(email="x@example.test").exists()
    client.post("/accounts/signup/", {"email": "y@example.test", "password1": "a-long-secret-phrase",
                                      "password2": "a-long-secret-phrase", "referral_code": referrer.referral_code})
    assert re.search(r"confirm-email", mail.outbox[-1].body)
    _verify_last_mail(client)
    assert Member.objects.get(user__email="y@example.test").referred_by == referrer


def _verify_last_mail(client):
    link = re.search(r"http://testserver(/accounts/confirm-email/[^\s]+)", mail.outbox[-1].body).group(1)
    assert client.post(link).status_code == 302


def test_program_manager_adjusts_points_with_a_reason(client, member):
    call_command("seed_demo", "--force")
    manager = User.objects.get(email="programme@demo.fidelio.test")
    client.force_login(manager)
    url = "/admin/loyalty/ledgerentry/adjust/"
    assert client.get(url).status_code == 200
    missing = client.post(url, {"member": member.pk, "points": 30, "reason": ""})
    assert missing.status_code == 200 and not LedgerEntry.objects.filter(kind="adjust").exists()
    done = client.post(url, {"member": member.pk, "points": 30, "reason": "Parcel arrived late"})
    assert done.status_code == 302
    entry = LedgerEntry.objects.get(kind="adjust")
    assert entry.author == manager and entry.points == 30
    overdraw = client.post(url, {"member": member.pk, "points": -100000, "reason": "oops"})
    assert overdraw.status_code == 200 and "points" in overdraw.content.decode()
    assert LedgerEntry.objects.filter(kind="adjust").count() == 1


def test_support_agent_cannot_adjust_points_or_edit_rules(client, member):
    call_command("seed_demo", "--force")
    agent = User.objects.get(email="support@demo.fidelio.test")
    client.force_login(agent)
    assert client.get("/admin/loyalty/ledgerentry/adjust/").status_code == 403
    assert client.post("/admin/loyalty/ledgerentry/adjust/", {"member": member.pk, "points": 5,
                                                              "reason": "x"}).status_code == 403
    assert client.get("/admin/loyalty/earningrule/add/").status_code == 403
    # Issue 11: agents read the ledger (to answer "where are my points?") but change nothing there.
    listing = client.get("/admin/loyalty/ledgerentry/")
    assert listing.status_code == 200 and "Adjust points" not in listing.content.decode()


def test_ledger_has_no_change_or_delete_in_the_admin(client, member):
    entry = ledger.points_credit(member=member, points=5, kind="bonus", description="x", idempotency_key="x")
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get(f"/admin/loyalty/ledgerentry/{entry.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert client.post(f"/admin/loyalty/ledgerentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


def test_editing_a_rule_in_the_admin_takes_effect_at_once(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert earning_rules_active() == []
    response = client.post("/admin/loyalty/earningrule/add/", {
        "name": "Triple Tuesday", "rule_type": "multiplier", "is_active": "on", "scope": "all", "scope_value": "",
        "rate": "3", "bonus_points": "0", "min_amount": "0", "weekdays": "1",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    assert [r.name for r in earning_rules_active()] == ["Triple Tuesday"]
    assert EarningRule.objects.get().weekdays == "1"


def test_seed_demo_has_purchase_history_and_a_consistent_ledger(capsys):
    call_command("seed_demo", "--force")
    call_command("seed_demo", "--force")
    call_command("check_ledger")
    assert "consistent" in capsys.readouterr().out
    from loyalty.models import Purchase

    assert Purchase.objects.count() >= 100
    assert Member.objects.exclude(tier__name="Bronze").exists()
