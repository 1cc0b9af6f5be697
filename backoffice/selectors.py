"""Back-office read queries: platform health."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.utils import timezone

from backoffice.models import Heartbeat


def _check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True}


def _check_broker() -> dict:
    import redis

    url = settings.CELERY_BROKER_URL
    if url.startswith("redis+socket://"):
        url = "unix://" + url[len("redis+socket://"):]
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
        client.close()
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True}


def _check_heartbeat() -> dict:
    try:
        beat = Heartbeat.objects.filter(name="celery").first()
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    if beat is None:
        return {"ok": False, "error": "no heartbeat recorded yet", "last_run_at": None}
    age = (timezone.now() - beat.last_run_at).total_seconds()
    return {
        "ok": age <= settings.HEALTH_HEARTBEAT_MAX_AGE,
        "last_run_at": beat.last_run_at.isoformat(),
        "age_seconds": round(age, 1),
        "max_age_seconds": settings.HEALTH_HEARTBEAT_MAX_AGE,
        "worker": beat.worker,
    }


def health_get() -> dict:
    checks = {"database": _check_database(), "broker": _check_broker()}
    checks["heartbeat"] = (
        _check_heartbeat() if checks["database"]["ok"] else {"ok": False, "error": "database unavailable"}
    )
    healthy = all(c["ok"] for c in checks.values())
    return {"status": "healthy" if healthy else "unhealthy", "checks": checks, "time": timezone.now().isoformat()}
