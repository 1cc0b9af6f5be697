"""Periodic rewards jobs. Each calls one service that is safe to run twice."""

from celery import shared_task
from django.utils import timezone

from rewards import services


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900)
def vouchers_expire_daily() -> int:
    return services.vouchers_expire_due(now=timezone.now())


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900)
def birthday_rewards_daily() -> dict:
    return services.birthday_rewards_issue(now=timezone.now())
