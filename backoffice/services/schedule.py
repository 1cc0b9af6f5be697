"""Back-office write operations: heartbeat, staff groups, periodic-task schedule."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from backoffice.models import Heartbeat
from backoffice.roles import GROUP_PERMISSIONS


def heartbeat_record(*, name: str = "celery", worker: str = "") -> Heartbeat:
    now = timezone.now()
    with transaction.atomic():
        updated = Heartbeat.objects.filter(name=name).update(last_run_at=now, worker=worker, runs=F("runs") + 1)
        if not updated:
            try:
                with transaction.atomic():
                    Heartbeat.objects.create(name=name, last_run_at=now, worker=worker, runs=1)
            except IntegrityError:  # another worker created it in between
                Heartbeat.objects.filter(name=name).update(last_run_at=now, worker=worker, runs=F("runs") + 1)
    return Heartbeat.objects.get(name=name)


@transaction.atomic
def staff_groups_sync() -> dict[str, int]:
    """Give each staff group exactly the permissions in backoffice.roles (missing ones are skipped)."""
    result = {}
    for group_name, perm_names in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        perms = []
        for dotted in perm_names:
            app_label, codename = dotted.split(".", 1)
            perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if perm is not None:
                perms.append(perm)
        group.permissions.set(perms)
        result[group_name] = len(perms)
    return result


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
