"""Back-office write operations: periodic-task schedule."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import transaction


@transaction.atomic
def periodic_tasks_ensure(*, reset: bool = False) -> list[str]:
    """Load settings.FIDELIO_PERIODIC_TASKS into django-celery-beat.

    Missing tasks are created; existing ones (maybe edited in the admin) are left alone unless `reset`.
    Returns the names created or reset.
    """
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    changed = []
    for name, spec in settings.FIDELIO_PERIODIC_TASKS.items():
        existing = PeriodicTask.objects.filter(name=name).first()
        if existing and not reset:
            continue
        fields = {"task": spec["task"], "description": spec.get("description", ""), "enabled": True,
                  "kwargs": json.dumps(spec.get("kwargs", {})), "interval": None, "crontab": None}
        if "every_seconds" in spec:
            fields["interval"], _ = IntervalSchedule.objects.get_or_create(
                every=spec["every_seconds"], period=IntervalSchedule.SECONDS
            )
        else:
            cron = spec["crontab"]
            fields["crontab"], _ = CrontabSchedule.objects.get_or_create(
                minute=cron.get("minute", "*"), hour=cron.get("hour", "*"),
                day_of_week=cron.get("day_of_week", "*"), day_of_month=cron.get("day_of_month", "*"),
                month_of_year=cron.get("month_of_year", "*"),
                timezone=cron.get("timezone", settings.FIDELIO_TIME_ZONE),
            )
        PeriodicTask.objects.update_or_create(name=name, defaults=fields)
        changed.append(name)
    return changed
