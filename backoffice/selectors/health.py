"""Back-office read queries: platform health.

Three depths (README "Running in production", docs/decisions.md "Three health endpoints"):
live (the process answers; no I/O, so no function here), ready (`health_ready_get`: what this web process
needs to serve requests — the database and the cache) and the full report (`health_get`: also the broker
and the Celery worker and beat heartbeats, for monitoring; never for a load balancer, because a dead beat
would fail every web node at once).

Nothing here returns host names or exception messages unless asked to: failed checks name only the
exception class, and the worker's host name is added only with `include_hosts` (staff who may view
heartbeats).
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from backoffice.models import Heartbeat

HEARTBEAT_NAME = "celery"  # the row backoffice.tasks.heartbeat writes (in the worker that runs it)
HEARTBEAT_TASK = "backoffice.tasks.heartbeat"  # the task beat sends every minute (FIDELIO_PERIODIC_TASKS)
_TIMEOUT = 1  # seconds for each Redis probe: a probe must answer faster than the load balancer gives up


def _failed(exc: Exception) -> dict:
    # The class name only: messages can carry host names, addresses or user names.
    return {"ok": False, "error": type(exc).__name__}


def _check_database() -> dict:
    """SELECT 1 on this process's own connection (the module-level `connection` is the check's target)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return _failed(exc)
    return {"ok": True}


def _redis_ping(url: str) -> dict:
    import redis

    if url.startswith("redis+socket://"):  # kombu's spelling of a Unix socket
        url = "unix://" + url[len("redis+socket://"):]
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=_TIMEOUT, socket_timeout=_TIMEOUT)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:
        return _failed(exc)
    return {"ok": True}


def _check_cache() -> dict:
    """PING the Redis server of the default cache (settings.CACHES["default"]["LOCATION"])."""
    location = settings.CACHES["default"]["LOCATION"]
    if isinstance(location, (list, tuple)):
        location = location[0]
    return _redis_ping(str(location).split(",")[0])  # the first (primary) server of a list


def _check_broker() -> dict:
    return _redis_ping(settings.CELERY_BROKER_URL)


def _age(moment: datetime, now: datetime) -> dict:
    age = (now - moment).total_seconds()
    return {
        "ok": age <= settings.HEALTH_HEARTBEAT_MAX_AGE,
        "last_run_at": moment.isoformat(),
        "age_seconds": round(age, 1),
        "max_age_seconds": settings.HEALTH_HEARTBEAT_MAX_AGE,
    }


def _check_worker(*, now: datetime, include_hosts: bool) -> dict:
    """A worker ran the heartbeat task lately: the Heartbeat row is written by the worker that runs it."""
    try:
        row = Heartbeat.objects.filter(name=HEARTBEAT_NAME).values("last_run_at", "worker", "runs").first()
    except Exception as exc:
        return _failed(exc)
    if row is None:
        return {"ok": False, "error": "no heartbeat recorded yet", "last_run_at": None}
    report = {**_age(row["last_run_at"], now), "runs": row["runs"]}
    if include_hosts:
        report["hostname"] = row["worker"]
    return report


def _check_beat(*, now: datetime) -> dict:
    """Beat sent the heartbeat task lately. django-celery-beat's DatabaseScheduler sets the periodic task's
    `last_run_at` and `total_run_count` when it sends it (ModelEntry.__next__) and writes them at its next
    sync, which CELERY_BEAT_SYNC_EVERY = 1 makes every send. Independent of any worker."""
    try:
        row = (PeriodicTask.objects.filter(task=HEARTBEAT_TASK, enabled=True)
               .order_by(F("last_run_at").desc(nulls_last=True))
               .values("last_run_at", "total_run_count").first())
    except Exception as exc:
        return _failed(exc)
    if row is None:
        return {"ok": False, "error": "the heartbeat is not scheduled (or disabled)", "last_run_at": None}
    if row["last_run_at"] is None:
        return {"ok": False, "error": "beat has not sent the heartbeat yet", "last_run_at": None}
    return {**_age(row["last_run_at"], now), "runs": row["total_run_count"]}


def health_ready_get() -> dict:
    """Can this process serve requests: database and cache reachable. Heartbeats play no part."""
    checks = {"database": _check_database(), "cache": _check_cache()}
    ready = all(c["ok"] for c in checks.values())
    return {"status": "ok" if ready else "unavailable", "checks": checks}


def health_get(*, include_hosts: bool = False) -> dict:
    """Everything: database, cache, broker, and the worker and beat heartbeats, each on its own."""
    now = timezone.now()
    checks = {"database": _check_database(), "cache": _check_cache(), "broker": _check_broker()}
    if checks["database"]["ok"]:
        checks["worker"] = _check_worker(now=now, include_hosts=include_hosts)
        checks["beat"] = _check_beat(now=now)
    else:
        checks["worker"] = {"ok": False, "error": "database unavailable"}
        checks["beat"] = {"ok": False, "error": "database unavailable"}
    healthy = all(c["ok"] for c in checks.values())
    return {"status": "healthy" if healthy else "unhealthy", "checks": checks, "time": now.isoformat()}
