"""Newsletter unsubscribe links: the page never shows the e-mail address, links work for a year (then a
friendly 410 page), the RFC 8058 one-click POST works for fresh links, altered links are still refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from backoffice.services import newsletters
from members.models import Member
from tests.backoffice.test_newsletters import consenting, newsletter_make, send_all

pytestmark = pytest.mark.django_db
ONE_CLICK = {"data": "List-Unsubscribe=One-Click", "content_type": "application/x-www-form-urlencoded"}


@pytest.fixture
def recipient() -> Member:
    member = consenting(1)[0]
    Member.objects.filter(pk=member.pk).update(email="jane.private@example.test")
    member.refresh_from_db()
    return member


def link(member: Member, *, days_ago: int = 0) -> str:
    newsletter = newsletter_make()
    with time_machine.travel(timezone.now() - timedelta(days=days_ago)):
        token = newsletters.unsubscribe_token_make(member_id=member.pk, newsletter_id=newsletter.pk)
    return reverse("newsletter-unsubscribe", kwargs={"token": token})


def consent(member: Member) -> bool:
    member.refresh_from_db()
    return member.marketing_consent


def test_the_pages_do_not_show_the_address(recipient):
    send_all(newsletter_make())
    url = mail.outbox[0].extra_headers["List-Unsubscribe"].strip("<>")
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    client = Client()
    page = client.get(path)
    assert page.status_code == 200 and b"unsubscribe-confirm" in page.content
    assert b"jane.private" not in page.content
    done = client.post(path, **ONE_CLICK)
    assert done.status_code == 200 and b"unsubscribed" in done.content
    assert b"jane.private" not in done.content
    assert not consent(recipient)


def test_a_link_signed_364_days_ago_still_works(recipient):
    path = link(recipient, days_ago=364)
    client = Client()
    assert client.get(path).status_code == 200
    response = client.post(path, **ONE_CLICK)
    assert response.status_code == 200 and b"unsubscribed" in response.content
    assert not consent(recipient)


def test_a_link_signed_366_days_ago_is_refused_with_a_friendly_410(recipient):
    path = link(recipient, days_ago=366)
    client = Client()
    for response in (client.get(path), client.post(path, **ONE_CLICK)):
        assert response.status_code == 410
        body = response.content.decode()
        assert 'data-code="link_expired"' in body and "expired" in body
        assert reverse("portal:feedback") in body and reverse("account_login") in body  # how to stop them
        assert "jane.private" not in body
    assert consent(recipient)  # nothing changed


def test_an_altered_old_link_is_invalid_not_expired(recipient):
    path = link(recipient, days_ago=400)
    token = path.rstrip("/").rsplit("/", 1)[1]
    bad = reverse("newsletter-unsubscribe", kwargs={"token": token[:-2] + ("xx" if not token.endswith("xx") else "yy")})
    response = Client().post(bad, **ONE_CLICK)
    assert response.status_code in (400, 404)
    assert b'data-code="link_expired"' not in response.content
    assert consent(recipient)
