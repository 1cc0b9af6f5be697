"""Back-office write operations: heartbeat."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from backoffice.models import Heartbeat


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
