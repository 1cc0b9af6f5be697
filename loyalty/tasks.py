"""Periodic points-engine jobs. Each calls one service that is safe to run twice."""

from celery import shared_task
from django.utils import timezone

from loyalty import services


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900)
def purchases_confirm_due() -> int:
    return services.purchases_confirm_due(now=timezone.now())


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900)
def points_expire_daily() -> int:
    return services.lots_expire_due(now=timezone.now())


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900)
def expiry_notices_daily() -> int:
    return services.expiry_notices_send(now=timezone.now())


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900)
def tiers_close_daily() -> dict:
    return services.tiers_close_due(now=timezone.now())
