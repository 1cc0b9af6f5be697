from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from backoffice.models import Heartbeat
from backoffice.services import heartbeat_record
from backoffice.tasks import heartbeat

pytestmark = pytest.mark.django_db


def test_healthy_when_database_broker_and_heartbeat_are_fine(client):
    heartbeat_record(name="celery", worker="w1")
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]
    assert body["checks"]["heartbeat"]["worker"] == "w1"


def test_unhealthy_without_any_heartbeat(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["heartbeat"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


def test_unhealthy_when_heartbeat_is_stale(client, settings):
    Heartbeat.objects.create(name="celery", last_run_at=timezone.now() - timedelta(minutes=10), runs=1)
    settings.HEALTH_HEARTBEAT_MAX_AGE = 180
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["heartbeat"]["age_seconds"] >= 600


@override_settings(CELERY_BROKER_URL="redis+socket:///nonexistent/redis.sock")
def test_unhealthy_when_broker_is_unreachable(client):
    heartbeat_record(name="celery")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == {"ok": False, "error": "ConnectionError"}


def test_heartbeat_task_counts_runs():
    heartbeat.apply()
    heartbeat.apply()
    beat = Heartbeat.objects.get(name="celery")
    assert beat.runs == 2


def test_healthz_only_answers_get(client):
    assert client.post("/healthz").status_code == 405
