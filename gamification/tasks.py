"""Periodic gamification jobs. Each calls one service that is safe to run twice."""

from celery import shared_task
from django.utils import timezone

from gamification.services import leaderboards


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def leaderboards_rebuild() -> dict:
    return leaderboards.boards_rebuild(now=timezone.now())
