"""No account claim before the e-mail address is verified (issue 11), through HTTP as a person would.

The attack this pins: sign up with the e-mail of a customer the shop already knows, with one's own referral
code, and never verify. Before the fix the shop's member was linked to the stranger's login at once and the
referral applied, so the victim's first purchase paid both bonuses."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from loyalty.models import LedgerEntry
from loyalty.services import PurchaseIn, purchase_record, purchases_confirm_due
from members.models import Member, User
from members.services import referral_apply
from tests.factories import MemberFactory, ShopMemberFactory

pytestmark = pytest.mark.django_db

SIGNUP = "/accounts/signup/"
PASSWORD = "a-long-secret-phrase"


def _signup(client, email, referral_code=""):
    return client.post(SIGNUP, {"email": email, "password1": PASSWORD, "password2": PASSWORD,
                                "referral_code": referral_code})


def _confirm_link(to: str) -> str:
    for message in reversed(mail.outbox):
        if to in message.to:
            found = re.search(r"http://testserver(/accounts/confirm-email/[^\s]+)", message.body)
            if found:
                return found.group(1)
    raise AssertionError(f"no confirmation mail to {to}")


def _buy(member: Member, order: str, *, confirmed: bool) -> None:
    purchase_record(data=PurchaseIn(member_id=member.pk, order_id=order, amount=Decimal("40.00"),
                                    occurred_at=timezone.now() - timedelta(days=30 if confirmed else 0)))
    if confirmed:
        purchases_confirm_due(now=timezone.now() + timedelta(days=60))


def test_signing_up_with_a_known_email_claims_nothing_until_verified(client):
    victim = ShopMemberFactory(email="victim@example.test")
    attacker = MemberFactory()
    response = _signup(client, "victim@example.test", attacker.referral_code)
    assert response.status_code == 302

    victim.refresh_from_db()
    assert victim.user_id is None and victim.referred_by_id is None  # the member is unchanged
    stranger = User.objects.get(email="victim@example.test")
    assert not Member.objects.filter(user=stranger).exists()  # and the new login has no member
    assert Member.objects.count() == 2

    # The victim's purchases pay no referral bonus to anyone while the address is unverified.
    attacker.refresh_from_db()
    balance_before = attacker.points_balance
    _buy(victim, "A-1", confirmed=True)
    attacker.refresh_from_db()
    assert attacker.points_balance == balance_before
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.REFERRAL).exists()


def test_verifying_claims_the_member_and_applies_the_code_only_while_allowed(client):
    shop = ShopMemberFactory(email="walkin@example.test")
    friend = MemberFactory()
    assert _signup(client, "Walkin@example.test", friend.referral_code).status_code == 302
    assert client.post(_confirm_link("walkin@example.test")).status_code == 302

    shop.refresh_from_db()
    login = User.objects.get(email__iexact="walkin@example.test")
    assert shop.user_id == login.pk  # claimed by the verified login
    assert shop.referred_by_id == friend.pk  # no confirmed purchase, no referrer: the code applies
    login.refresh_from_db()
    assert login.signup_referral_code == ""  # used once


def test_claim_after_a_confirmed_purchase_keeps_the_member_but_not_the_code(client):
    shop = ShopMemberFactory(email="regular@example.test")
    _buy(shop, "R-1", confirmed=True)
    friend = MemberFactory()
    assert _signup(client, "regular@example.test", friend.referral_code).status_code == 302
    response = client.post(_confirm_link("regular@example.test"), follow=True)
    assert response.status_code == 200
    shop.refresh_from_db()
    assert shop.user.email == "regular@example.test"  # claimed all the same
    assert shop.referred_by_id is None  # but too late for a referral
    assert "referral code was not applied" in response.content.decode()


def test_claim_keeps_an_existing_referrer(client):
    first, second = MemberFactory(), MemberFactory()
    shop = ShopMemberFactory(email="linked@example.test")
    referral_apply(member=shop, code=first.referral_code)
    _signup(client, "linked@example.test", second.referral_code)
    client.post(_confirm_link("linked@example.test"))
    shop.refresh_from_db()
    assert shop.user is not None and shop.referred_by_id == first.pk


def test_the_owner_gets_in_through_a_password_reset_and_the_strangers_code_is_dropped(client):
    """A stranger signed up with the owner's address and never verified: the owner cannot sign up ("exists"),
    resets the password from the mailbox, logs in, verifies — and gets the member, without the stranger's code."""
    owner_member = ShopMemberFactory(email="owner@example.test")
    attacker = MemberFactory()
    _signup(client, "owner@example.test", attacker.referral_code)
    client.logout()

    taken = _signup(client, "owner@example.test")
    assert taken.status_code == 200 and "reset the password" in taken.content.decode()

    assert client.post("/accounts/password/reset/", {"email": "owner@example.test"}).status_code == 302
    link = re.search(r"http://testserver(/accounts/password/reset/key/[^\s]+)", mail.outbox[-1].body).group(1)
    response = client.get(link, follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link
    assert client.post(form_url, {"password1": "the-owners-new-secret", "password2": "the-owners-new-secret"}
                       ).status_code == 302
    assert User.objects.get(email="owner@example.test").signup_referral_code == ""

    client.post("/accounts/login/", {"login": "owner@example.test", "password": "the-owners-new-secret"})
    assert client.post(_confirm_link("owner@example.test")).status_code == 302
    owner_member.refresh_from_db()
    assert owner_member.user.email == "owner@example.test"
    assert owner_member.referred_by_id is None  # the stranger's code never applied


def test_a_new_address_gets_a_member_with_the_welcome_bonus_only_on_verification(client, settings):
    _signup(client, "fresh@example.test")
    assert not Member.objects.filter(email="fresh@example.test").exists()
    client.post(_confirm_link("fresh@example.test"))
    member = Member.objects.get(user__email="fresh@example.test")
    assert member.points_balance == settings.FIDELIO_WELCOME_BONUS


def test_referral_apply_refuses_after_the_first_confirmed_purchase_whoever_calls_it():
    member, friend = MemberFactory(), MemberFactory()
    _buy(member, "F-1", confirmed=True)
    from config.exceptions import Conflict

    with pytest.raises(Conflict) as refused:
        referral_apply(member=member, code=friend.referral_code)
    assert refused.value.code == "referral_too_late"
    member.refresh_from_db()
    assert member.referred_by_id is None


def test_a_pending_purchase_does_not_close_the_referral_window():
    member, friend = MemberFactory(), MemberFactory()
    _buy(member, "P-1", confirmed=False)
    assert referral_apply(member=member, code=friend.referral_code).referred_by_id == friend.pk


def test_referral_api_refuses_after_a_confirmed_purchase(api_client, member):
    friend = MemberFactory()
    _buy(member, "API-1", confirmed=True)
    response = api_client.post("/api/v1/me/referral/", {"referral_code": friend.referral_code}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "referral_too_late"


def test_verifying_an_address_another_members_contact_holds_does_not_fail(client):
    """Login A's member keeps A's old address as its contact after A changed the login's e-mail; B signs up
    with that old address and verifies it: B gets a member of their own (no contact address), no error."""
    first = MemberFactory()
    old = first.user.email
    User.objects.filter(pk=first.user_id).update(email="moved@example.test")
    from allauth.account.models import EmailAddress

    EmailAddress.objects.filter(user_id=first.user_id).update(email="moved@example.test")
    assert _signup(client, old).status_code == 302
    assert client.post(_confirm_link(old)).status_code == 302
    newcomer = Member.objects.get(user__email=old)
    assert newcomer.pk != first.pk and newcomer.email == ""
    first.refresh_from_db()
    assert first.user.email == "moved@example.test" and first.email == old
