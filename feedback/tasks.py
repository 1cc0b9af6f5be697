"""Periodic feedback jobs. Each calls one service that is safe to run twice."""

from celery import shared_task
from django.utils import timezone

from feedback.services import support, surveys


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def feedback_overdue_reminders() -> int:
    return support.feedback_overdue_remind(now=timezone.now())


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900)
def survey_invitations_send_due() -> int:
    return surveys.survey_invitations_create_due(now=timezone.now())
