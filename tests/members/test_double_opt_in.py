"""Double opt-in (FIDELIO_DOUBLE_OPT_IN): consent given in the profile counts only once the member confirms it
from the mail, with the time and wording recorded; a tampered, expired or stale link is refused and writes
nothing; a mail scanner's GET confirms nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from members.models import Member
from members.services import member_profile_update
from members.services.consent import consent_token_make
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def double_opt_in(settings):
    settings.FIDELIO_DOUBLE_OPT_IN = True


def _link() -> str:
    [message] = mail.outbox
    return re.search(r"https?://[^/\s]+(/profile/consent/[^\s]+/)", message.body).group(1)


def test_consent_counts_only_after_the_link_is_confirmed(client, double_opt_in):
    member = MemberFactory()
    Member.objects.filter(pk=member.pk).update(language="cs")
    member.refresh_from_db()
    member_profile_update(member=member, marketing_consent=True)
    member.refresh_from_db()
    assert not member.marketing_consent and member.marketing_consent_at is None
    assert '<html lang="cs">' in mail.outbox[0].alternatives[0][0]
    link = _link()
    assert client.get(link).status_code == 200  # asking, not confirming (mail scanners follow links)
    member.refresh_from_db()
    assert not member.marketing_consent
    response = client.post(link)
    assert response.status_code == 200 and 'data-testid="consent-confirmed"' in response.content.decode()
    member.refresh_from_db()
    assert member.marketing_consent and member.marketing_consent_at is not None
    assert member.marketing_consent_wording.startswith("Yes, send me offers")
    at = member.marketing_consent_at
    assert client.post(link).status_code == 200  # twice: nothing changes
    member.refresh_from_db()
    assert member.marketing_consent_at == at


def test_the_profile_says_a_mail_is_on_its_way(client, double_opt_in):
    member = MemberFactory()
    client.force_login(member.user)
    response = client.post("/profile/", {"first_name": "", "last_name": "", "display_name": "",
                                         "leaderboard_visibility": member.leaderboard_visibility,
                                         "language": "en", "marketing_consent": "on"}, follow=True)
    assert "confirm there that you want our news" in response.content.decode()
    member.refresh_from_db()
    assert not member.marketing_consent and len(mail.outbox) == 1


def test_without_double_opt_in_consent_counts_at_once():
    member = MemberFactory()
    member_profile_update(member=member, marketing_consent=True)
    member.refresh_from_db()
    assert member.marketing_consent and mail.outbox == []


@pytest.mark.parametrize("spoil", ["tamper", "expire", "address changed"])
def test_bad_links_are_refused_and_write_nothing(client, double_opt_in, spoil):
    member = MemberFactory()
    token = consent_token_make(member=member, wording="Yes")
    if spoil == "tamper":
        token = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    if spoil == "address changed":
        Member.objects.filter(pk=member.pk).update(email="someone.else@example.test")
    url = f"/profile/consent/{token}/"
    if spoil == "expire":
        with time_machine.travel(timezone.now() + timedelta(days=8)):
            response = client.post(url)
    else:
        response = client.post(url)
    assert response.status_code == 400
    member.refresh_from_db()
    assert not member.marketing_consent
