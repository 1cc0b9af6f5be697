"""The three health endpoints: /healthz/live (the process), /healthz/ready (database and cache: what a load
balancer uses) and /healthz (everything, with the worker and beat heartbeats apart: for monitoring)."""

import socket
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.backends.postgresql.base import DatabaseWrapper
from django.test import override_settings
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import ModelEntry

from backoffice.models import Heartbeat
from backoffice.selectors import health as selectors
from backoffice.services import heartbeat_record
from backoffice.tasks import heartbeat
from config.celery import app as celery_app
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HOST = "celery@db-host-7.internal"
NO_SOCKET = "unix:///nonexistent/fidelio-health/redis.sock"


def beat_sends_heartbeat() -> None:
    """What django-celery-beat's DatabaseScheduler does when it sends the heartbeat task: advance the entry
    (ModelEntry.__next__ sets last_run_at and total_run_count) and write it at the sync."""
    model = PeriodicTask.objects.get(task=selectors.HEARTBEAT_TASK)
    next(ModelEntry(model, app=celery_app)).save()


def all_fresh(worker: str = HOST) -> None:
    beat_sends_heartbeat()
    heartbeat_record(name="celery", worker=worker)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


@pytest.fixture
def database_unreachable(monkeypatch):
    """Point the database check at a PostgreSQL address where nothing listens (a real connection attempt)."""
    settings_dict = {**connection.settings_dict, "HOST": "127.0.0.1", "PORT": str(closed_port()),
                     "OPTIONS": {**connection.settings_dict.get("OPTIONS", {}), "connect_timeout": 2}}
    unreachable = DatabaseWrapper(settings_dict, alias="default")
    monkeypatch.setattr(selectors, "connection", unreachable)
    yield
    unreachable.close()


@pytest.fixture
def cache_unreachable(settings):
    """Point the cache (and so its check) at a Redis socket that does not exist."""
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": NO_SOCKET}}


# ------------------------------------------------------------------------------------------------- live
def test_live_answers_without_touching_the_database(client, django_db_blocker, django_assert_num_queries):
    with django_assert_num_queries(0), django_db_blocker.block():
        response = client.get("/healthz/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"].startswith("max-age=0")


def test_live_stays_up_when_database_and_cache_are_down(client, database_unreachable, cache_unreachable):
    assert client.get("/healthz/live").status_code == 200


# ------------------------------------------------------------------------------------------------ ready
def test_ready_when_database_and_cache_answer(client):
    response = client.get("/healthz/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": {"ok": True}, "cache": {"ok": True}}}


def test_ready_stays_200_when_heartbeats_are_stale_or_missing(client, settings):
    settings.HEALTH_HEARTBEAT_MAX_AGE = 180
    assert client.get("/healthz/ready").status_code == 200  # no heartbeat at all yet
    with time_machine.travel(timezone.now() - timedelta(hours=1)):
        all_fresh()
    assert client.get("/healthz").status_code == 503
    assert client.get("/healthz/ready").status_code == 200


def test_ready_is_503_when_the_database_is_unreachable(client, database_unreachable):
    response = client.get("/healthz/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == {"ok": False, "error": "OperationalError"}
    assert body["checks"]["cache"] == {"ok": True}


def test_ready_is_503_when_redis_is_unreachable(client, cache_unreachable):
    response = client.get("/healthz/ready")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": {"ok": True}, "cache": {"ok": False, "error": "ConnectionError"}}


# ------------------------------------------------------------------------------------------------- full
def test_healthy_when_everything_is_fine(client):
    all_fresh()
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    checks = body["checks"]
    assert set(checks) == {"database", "cache", "broker", "worker", "beat"}
    assert all(check["ok"] for check in checks.values())
    assert checks["worker"]["runs"] == 1 and checks["beat"]["runs"] >= 1
    assert checks["beat"]["age_seconds"] < 60 and checks["worker"]["age_seconds"] < 60


def test_unhealthy_without_any_heartbeat(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["worker"]["ok"] is False and body["checks"]["beat"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


def test_stale_worker_with_a_live_beat(client, settings):
    """Beat keeps sending, no worker runs the task: only the worker is reported."""
    settings.HEALTH_HEARTBEAT_MAX_AGE = 180
    Heartbeat.objects.create(name="celery", last_run_at=timezone.now() - timedelta(minutes=10), runs=1)
    beat_sends_heartbeat()
    response = client.get("/healthz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["beat"]["ok"] is True
    assert checks["worker"]["ok"] is False and checks["worker"]["age_seconds"] >= 600


def test_stale_beat_with_a_live_worker(client, settings):
    """The worker ran the task lately (sent by hand, say), but beat has sent nothing for ten minutes."""
    settings.HEALTH_HEARTBEAT_MAX_AGE = 180
    with time_machine.travel(timezone.now() - timedelta(minutes=10)):
        beat_sends_heartbeat()
    heartbeat.apply()
    response = client.get("/healthz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["worker"]["ok"] is True
    assert checks["beat"]["ok"] is False and checks["beat"]["age_seconds"] >= 600


def test_beat_not_scheduled_is_reported(client):
    heartbeat_record(name="celery")
    PeriodicTask.objects.filter(task=selectors.HEARTBEAT_TASK).update(enabled=False)
    beat = client.get("/healthz").json()["checks"]["beat"]
    assert beat["ok"] is False and "not scheduled" in beat["error"]


def test_beat_writes_what_it_sends_at_once():
    """The beat check relies on the scheduler writing last_run_at after each send, not every 3 minutes."""
    assert celery_app.conf.beat_sync_every == 1


@override_settings(CELERY_BROKER_URL="redis+socket:///nonexistent/redis.sock")
def test_unhealthy_when_broker_is_unreachable(client):
    all_fresh()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == {"ok": False, "error": "ConnectionError"}


def test_unhealthy_when_the_database_is_unreachable(client, database_unreachable):
    response = client.get("/healthz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"] == {"ok": False, "error": "OperationalError"}
    assert checks["worker"] == checks["beat"] == {"ok": False, "error": "database unavailable"}


def test_unhealthy_when_the_cache_is_unreachable(client, cache_unreachable):
    all_fresh()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == {"ok": False, "error": "ConnectionError"}


# -------------------------------------------------------------------------------------------- host names
def test_anonymous_answers_name_no_host(client, database_unreachable):
    all_fresh()
    for path in ("/healthz", "/healthz/ready", "/healthz/live"):
        body = client.get(path).content.decode()
        assert "db-host-7" not in body and "127.0.0.1" not in body and "hostname" not in body


def test_anonymous_full_report_hides_the_worker_name(client):
    all_fresh()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert "db-host-7" not in response.content.decode()
    assert "hostname" not in response.json()["checks"]["worker"]


def test_staff_without_the_heartbeat_permission_see_no_host(client):
    all_fresh()
    client.force_login(UserFactory(is_staff=True))
    assert "db-host-7" not in client.get("/healthz").content.decode()


def test_staff_who_may_view_heartbeats_see_the_worker_name(client):
    all_fresh()
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(content_type__app_label="backoffice", codename="view_heartbeat"))
    client.force_login(staff)
    assert client.get("/healthz").json()["checks"]["worker"]["hostname"] == HOST
    assert "db-host-7" not in client.get("/healthz/ready").content.decode()


def test_a_customer_sees_no_host(client, member):
    all_fresh()
    client.force_login(member.user)
    assert "db-host-7" not in client.get("/healthz").content.decode()


# ---------------------------------------------------------------------------------------------- plumbing
def test_heartbeat_task_counts_runs():
    heartbeat.apply()
    heartbeat.apply()
    beat = Heartbeat.objects.get(name="celery")
    assert beat.runs == 2


@pytest.mark.parametrize("path", ["/healthz", "/healthz/live", "/healthz/ready"])
def test_health_endpoints_only_answer_get_and_head(client, path):
    assert client.post(path).status_code == 405
    assert client.head(path).status_code in (200, 503)


def test_unknown_health_path_answers_json(client):
    response = client.get("/healthz/nothing")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_health_paths_are_exempt_from_the_production_https_redirect(client):
    """Load balancers probe over plain HTTP: with the production settings the health paths answer, the rest
    redirects to HTTPS."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "FIDELIO_"))}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", DATABASE_URL="postgresql://u:p@db.internal/fidelio",
               REDIS_URL="redis://cache.internal:6379/0", DJANGO_SECRET_KEY="s" * 60,
               DJANGO_ALLOWED_HOSTS="loyalty.example.com", FIDELIO_PUBLIC_URL="https://loyalty.example.com")
    code = ("import json, django; django.setup(); from django.conf import settings as s; "
            "print(json.dumps(s.SECURE_REDIRECT_EXEMPT))")
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=Path(__file__).resolve().parents[2],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    exempt = json.loads(done.stdout.strip().splitlines()[-1])
    with override_settings(SECURE_SSL_REDIRECT=True, SECURE_REDIRECT_EXEMPT=exempt):
        for path in ("/healthz", "/healthz/live", "/healthz/ready"):
            assert client.get(path).status_code in (200, 503), path
        assert client.get("/healthz/live/").status_code == 301  # anything else still goes to HTTPS
        assert client.get("/api/v1/rewards/").status_code == 301
