"""Transactional e-mail: every message is a template set, rendered in the recipient's language, branded.

A message named ``feedback/resolved`` is ``templates/email/feedback/resolved_subject.txt``, ``…_message.txt``
and ``…_message.html`` (allauth's own messages, ``account/email/…``, follow the same convention and are
overridden under ``templates/account/email/``). The text and HTML bodies extend ``email/base_message.*``, which
carry the program's name and the portal's address. `MESSAGES` lists every message with a sample context, so
the back office can preview each one in each language (backoffice/views/emails.py) and a test renders them all.

Two ways out:
- `mail_queue`: rendered now, in the recipient's language, and handed after commit to the Celery task
  `members.tasks.mail_deliver`, which sends each key once (a retried task does not mail twice). For mail caused
  by a request (a staff member resolving feedback, sign-up, password reset, consent confirmation).
- `mail_send`: rendered and sent at once, for jobs that already run in a Celery worker and record what they sent
  in their own rows (expiry notices, birthday gifts, tier changes, survey invitations, staff digests).
With ``FIDELIO_MAIL_VIA_CELERY`` off (the test settings), `mail_queue` sends at once in the process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

log = logging.getLogger(__name__)

SENT_KEY_TTL = 30 * 24 * 3600  # a key is remembered this long: longer than any retry


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Message:
    name: str
    title: str | Promise
    audience: str  # "member" or "staff"
    sample: Callable[[], dict[str, Any]] = field(default=dict)


def _sample_now() -> datetime:
    return timezone.now().replace(microsecond=0)


MESSAGES: dict[str, Message] = {m.name: m for m in [
    Message("account/email/email_confirmation_signup", _("Confirm your e-mail address (sign-up)"), "member",
            lambda: {"activate_url": f"{settings.FIDELIO_PUBLIC_URL}/accounts/confirm-email/SAMPLE/",
                     "key": "SAMPLE", "user_display": "anna@example.com"}),
    Message("account/email/email_confirmation", _("Confirm your e-mail address"), "member",
            lambda: {"activate_url": f"{settings.FIDELIO_PUBLIC_URL}/accounts/confirm-email/SAMPLE/",
                     "key": "SAMPLE", "user_display": "anna@example.com", "email": "anna@example.com"}),
    Message("account/email/password_reset_key", _("Password reset"), "member",
            lambda: {"password_reset_url": f"{settings.FIDELIO_PUBLIC_URL}/accounts/password/reset/key/SAMPLE/",
                     "user_display": "anna@example.com", "username": ""}),
    Message("account/email/unknown_account", _("Password reset for an unknown address"), "member",
            lambda: {"email": "anna@example.com", "signup_url": f"{settings.FIDELIO_PUBLIC_URL}/accounts/signup/"}),
    Message("members/consent_confirm", _("Confirm marketing consent (double opt-in)"), "member",
            lambda: {"first_name": "Anna", "confirm_url": f"{settings.FIDELIO_PUBLIC_URL}/profile/consent/SAMPLE/"}),
    Message("loyalty/points_expiring", _("Points expire soon"), "member",
            lambda: {"first_name": "Anna", "points": 1250, "first_expiry": _sample_now() + timedelta(days=21)}),
    Message("members/tier_changed", _("Tier changed"), "member",
            lambda: {"first_name": "Anna", "old_tier": "Gold", "new_tier": "Silver"}),
    Message("rewards/birthday_gift", _("Birthday gift"), "member",
            lambda: {"first_name": "Anna", "reward_name": "Free coffee", "voucher_code": "BDAY-7K2M-Q9XP",
                     "expires_at": _sample_now() + timedelta(days=30)}),
    Message("feedback/survey_invitation", _("Survey invitation"), "member",
            lambda: {"first_name": "Anna", "survey_title": "How was your last visit?", "bonus_points": 50,
                     "url": f"{settings.FIDELIO_PUBLIC_URL}/surveys/answer/SAMPLE/",
                     "expires_at": _sample_now() + timedelta(days=14)}),
    Message("feedback/resolved", _("Feedback resolved"), "member",
            lambda: {"first_name": "Anna", "feedback_text": "The card reader at the till did not work.",
                     "resolution_note": "We replaced the reader and added 100 points to your account."}),
    Message("feedback/overdue_digest", _("Overdue feedback (to support agents)"), "staff",
            lambda: {"records": [{"id": 42, "category": "Complaint", "due_at": _sample_now() - timedelta(hours=3),
                                  "text": "The card reader at the till did not work."}],
                     "assigned_to_you": True}),
]}


def mail_language(language: str | None) -> str:
    """A language we have catalogues for; anything else (empty, unknown) is the program's default."""
    codes = {code for code, _name in settings.LANGUAGES}
    return language if language in codes else settings.LANGUAGE_CODE


def mail_context(context: dict[str, Any]) -> dict[str, Any]:
    return {"program_name": settings.FIDELIO_PROGRAM_NAME, "portal_url": settings.FIDELIO_PUBLIC_URL,
            "currency": settings.FIDELIO_CURRENCY, **context}


def mail_render(name: str, context: dict[str, Any], *, language: str | None) -> Rendered:
    """The message in `language`: subject (one line, prefixed with the program's name), text and HTML."""
    ctx = mail_context(context)
    prefix = name if name.startswith("account/") else f"email/{name}"
    with translation.override(mail_language(language)), timezone.override(settings.FIDELIO_TIME_ZONE):
        subject = " ".join(render_to_string(f"{prefix}_subject.txt", ctx).split())
        text = render_to_string(f"{prefix}_message.txt", ctx).strip() + "\n"
        html = render_to_string(f"{prefix}_message.html", ctx)
    return Rendered(subject=f"[{settings.FIDELIO_PROGRAM_NAME}] {subject}", text=text, html=html)


def _message(rendered: Rendered, to: list[str]) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(subject=rendered.subject, body=rendered.text, to=to)
    message.attach_alternative(rendered.html, "text/html")
    return message


def mail_send(name: str, *, to: str | list[str], context: dict[str, Any], language: str | None) -> None:
    """Render and send now (inside a Celery job that records what it sent)."""
    recipients = [to] if isinstance(to, str) else list(to)
    _message(mail_render(name, context, language=language), recipients).send()


def mail_queue(name: str, *, to: str | list[str], context: dict[str, Any], language: str | None,
               key: str) -> None:
    """Render now, deliver after commit through Celery, once per `key` (e.g. "feedback-resolved:42")."""
    rendered = mail_render(name, context, language=language)
    payload = {"key": key, "to": [to] if isinstance(to, str) else list(to), "subject": rendered.subject,
               "text": rendered.text, "html": rendered.html}
    if settings.FIDELIO_MAIL_VIA_CELERY:
        from members.tasks import mail_deliver

        transaction.on_commit(lambda: mail_deliver.delay(**payload))
    else:  # no worker to hand it to (the test settings): sent at once, as Django would
        mail_deliver_once(**payload)


def mail_deliver_once(*, key: str, to: list[str], subject: str, text: str, html: str) -> bool:
    """Send unless this key was sent before; a failed send forgets the key so a retry sends it."""
    cache_key = f"mail-sent:{key}"
    if not cache.add(cache_key, timezone.now().isoformat(), timeout=SENT_KEY_TTL):
        log.info("mail %s already sent", key)
        return False
    try:
        _message(Rendered(subject=subject, text=text, html=html), to).send()
    except Exception:
        cache.delete(cache_key)
        raise
    return True


def preview_context(name: str) -> dict[str, Any]:
    return MESSAGES[name].sample()


__all__ = ["MESSAGES", "Rendered", "mail_deliver_once", "mail_language", "mail_queue", "mail_render",
           "mail_send", "preview_context"]
