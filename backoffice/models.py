"""Back-office state. For now: the heartbeat that proves beat and a worker are alive."""

from __future__ import annotations

from django.db import models


class Heartbeat(models.Model):
    """One row per heartbeat name, updated by the periodic `heartbeat` task."""

    name = models.CharField(max_length=40, unique=True)
    last_run_at = models.DateTimeField()
    worker = models.CharField(max_length=200, blank=True, help_text="Host name of the worker that ran it.")
    runs = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_run_at:%Y-%m-%d %H:%M:%S}"
