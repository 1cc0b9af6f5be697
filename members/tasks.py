"""Celery tasks of the members app: delivering queued transactional e-mail (members.mail)."""

from __future__ import annotations

import smtplib

from celery import shared_task

from members.mail import mail_deliver_once


@shared_task(bind=True, autoretry_for=(smtplib.SMTPException, OSError), retry_backoff=30, retry_backoff_max=3600,
             retry_jitter=True, max_retries=8)
def mail_deliver(self, *, key: str, to: list[str], subject: str, text: str, html: str) -> bool:
    """Send one rendered message once per key: a retry after a lost acknowledgement does not mail twice; a send
    that failed forgets its key, so the retry sends it."""
    return mail_deliver_once(key=key, to=to, subject=subject, text=text, html=html)
