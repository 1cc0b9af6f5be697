"""Transactional e-mail as templates (members.mail): every message renders in every language, branded; members
get theirs in their language; a queued message is handed to Celery only after commit and is sent once per key;
staff preview each one in each language."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core import mail
from django.utils import timezone

from backoffice.roles import PROGRAM_MANAGER, SUPPORT_AGENT
from loyalty import ledger
from loyalty.services import expiry_notices_send
from members.mail import MESSAGES, mail_deliver_once, mail_queue, mail_render, preview_context
from members.models import Member
from tests.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db
LANGUAGES = [code for code, _name in settings.LANGUAGES]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_every_message_renders_in_every_language(name, language):
    rendered = mail_render(name, preview_context(name), language=language)
    assert rendered.subject.startswith(f"[{settings.FIDELIO_PROGRAM_NAME}] ")
    assert "\n" not in rendered.subject and len(rendered.subject) > len(settings.FIDELIO_PROGRAM_NAME) + 4
    for part in (rendered.subject, rendered.text, rendered.html):
        assert "{{" not in part and "{%" not in part
        assert "127.0.0.1" not in part and "example.com/" not in part
    assert settings.FIDELIO_PROGRAM_NAME in rendered.text
    assert f'<html lang="{language}">' in rendered.html
    assert settings.FIDELIO_PROGRAM_NAME in rendered.html


def test_an_unknown_language_falls_back_to_the_default():
    rendered = mail_render("feedback/resolved", preview_context("feedback/resolved"), language="xx")
    assert f'<html lang="{settings.LANGUAGE_CODE}">' in rendered.html


def test_the_expiry_notice_goes_out_in_the_members_language(django_capture_on_commit_callbacks):
    member = MemberFactory()
    Member.objects.filter(pk=member.pk).update(language="el", first_name="Eleni")
    now = timezone.now()
    ledger.points_credit(member=member, points=1234, kind="bonus", description="x", idempotency_key="mail-x",
                         now=now, expires_at=now + timedelta(days=10))
    with django_capture_on_commit_callbacks(execute=True):
        assert expiry_notices_send(now=now) == 1
    [message] = mail.outbox
    assert message.to == [member.email]
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and '<html lang="el">' in html
    assert "1.234" in message.body  # the number as Greek writes it
    assert "Eleni" in message.body


def test_sign_up_mail_is_branded_and_in_the_browsers_language(client):
    client.post("/accounts/signup/", {"email": "nowak@example.test", "password1": "a-long-secret-phrase",
                                      "password2": "a-long-secret-phrase"}, HTTP_ACCEPT_LANGUAGE="pl")
    [message] = mail.outbox
    assert message.subject.startswith(f"[{settings.FIDELIO_PROGRAM_NAME}] ")
    assert "Hello from" not in message.body and "testserver!" not in message.body
    assert "/accounts/confirm-email/" in message.body
    assert '<html lang="pl">' in message.alternatives[0][0]


def test_a_password_reset_mail_follows_the_members_language_not_the_page(client):
    user = UserFactory(email="petrova@example.test")
    member = MemberFactory(user=user)
    Member.objects.filter(pk=member.pk).update(language="ru")
    client.post("/accounts/password/reset/", {"email": user.email}, HTTP_ACCEPT_LANGUAGE="en")
    [message] = mail.outbox
    assert '<html lang="ru">' in message.alternatives[0][0]
    assert "/accounts/password/reset/key/" in message.body


def test_a_queued_message_waits_for_the_commit(settings, django_capture_on_commit_callbacks):
    settings.FIDELIO_MAIL_VIA_CELERY = True
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        mail_queue("feedback/resolved", to="a@example.test", context=preview_context("feedback/resolved"),
                   language="cs", key="test-queue-1")
    assert len(callbacks) == 1 and mail.outbox == []  # nothing leaves before the transaction commits


def test_a_key_is_sent_once_and_a_failed_send_can_be_retried(monkeypatch):
    rendered = mail_render("feedback/resolved", preview_context("feedback/resolved"), language="en")
    payload = {"key": "test-once-1", "to": ["a@example.test"], "subject": rendered.subject, "text": rendered.text,
               "html": rendered.html}
    assert mail_deliver_once(**payload) is True
    assert mail_deliver_once(**payload) is False  # a retried task: no second mail
    assert len(mail.outbox) == 1

    from django.core.mail import EmailMultiAlternatives

    def down(self, *args, **kwargs):
        raise OSError("SMTP down")

    monkeypatch.setattr(EmailMultiAlternatives, "send", down)
    with pytest.raises(OSError):
        mail_deliver_once(**{**payload, "key": "test-once-2"})
    monkeypatch.undo()
    assert mail_deliver_once(**{**payload, "key": "test-once-2"}) is True  # the retry sends it
    assert len(mail.outbox) == 2


def _staff_client(client, group):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return client


def test_staff_preview_every_message_in_every_language(client):
    client = _staff_client(client, PROGRAM_MANAGER)
    index = client.get("/admin/dashboard/emails/")
    assert index.status_code == 200
    for name in MESSAGES:
        for language in LANGUAGES:
            assert f"/admin/dashboard/emails/{language}/{name}/" in index.content.decode()
    page = client.get("/admin/dashboard/emails/cs/feedback/resolved/")
    assert page.status_code == 200 and f"[{settings.FIDELIO_PROGRAM_NAME}]" in page.content.decode()
    html = client.get("/admin/dashboard/emails/cs/feedback/resolved/html/")
    assert html.status_code == 200 and '<html lang="cs">' in html.content.decode()
    assert client.get("/admin/dashboard/emails/xx/feedback/resolved/").status_code == 404
    assert client.get("/admin/dashboard/emails/pl/no/such/").status_code == 404


def test_support_agents_do_not_see_the_previews(client):
    client = _staff_client(client, SUPPORT_AGENT)
    assert client.get("/admin/dashboard/emails/").status_code == 403
