from __future__ import annotations

from datetime import date

import pytest

from backoffice.models import MetricSnapshot
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def snapshots(db):
    MetricSnapshot.objects.create(as_of=date(2025, 3, 31), period="all", period_start=date(2025, 1, 1),
                                  period_end=date(2025, 4, 1), metrics={"customers": 4, "revenue": "450.00"})
    MetricSnapshot.objects.create(as_of=date(2025, 2, 28), period="all", period_start=date(2025, 1, 1),
                                  period_end=date(2025, 3, 1), metrics={"customers": 3, "revenue": "410.00"})
    for as_of, customers in ((date(2025, 2, 28), 1), (date(2025, 3, 31), 2)):
        MetricSnapshot.objects.create(as_of=as_of, period="month", period_start=date(2025, 2, 1),
                                      period_end=date(2025, 3, 1), metrics={"customers": customers, "nps": 10.0})


def test_summary_for_token_latest_on_or_before(token_client, snapshots):
    body = token_client.get("/api/v1/metrics/summary/").json()
    assert (body["as_of"], body["customers"], body["revenue"]) == ("2025-03-31", 4, "450.00")
    body = token_client.get("/api/v1/metrics/summary/?as_of=2025-03-15").json()
    assert (body["as_of"], body["customers"]) == ("2025-02-28", 3)
    assert token_client.get("/api/v1/metrics/summary/?as_of=2024-01-01").status_code == 404


def test_customer_session_is_refused(api_client, snapshots):
    assert api_client.get("/api/v1/metrics/summary/").status_code == 403
    assert api_client.get("/api/v1/metrics/periods/").status_code == 403


def test_anonymous_is_refused(anon_client, snapshots):
    assert anon_client.get("/api/v1/metrics/summary/").status_code in (401, 403)


def test_staff_session_reads_periods(client, snapshots):
    from django.contrib.auth.models import Permission

    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    # Staff need the dashboard's permission (issue 11: any staff user used to read revenue and liability).
    assert client.get("/api/v1/metrics/periods/?period=month").status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_metricsnapshot"))
    client.force_login(type(staff).objects.get(pk=staff.pk))
    body = client.get("/api/v1/metrics/periods/?period=month&from=2025-01-01&to=2025-03-31").json()
    # the February row from the latest rollup that holds it (as of 03-31: 2 customers)
    assert [(r["period_start"], r["customers"], r["as_of"], r["nps"]) for r in body["results"]] == [
        ("2025-02-01", 2, "2025-03-31", 10.0)]


@pytest.mark.parametrize("query, code", [
    ("period=year", "invalid_period"), ("period=month&from=2025-13-01", "invalid_date"),
    ("period=month&from=2025-03-01&to=2025-01-01", "invalid_range"),
])
def test_bad_parameters_are_400(token_client, query, code):
    response = token_client.get(f"/api/v1/metrics/periods/?{query}")
    assert response.status_code == 400 and response.json()["code"] == code


def test_summary_bad_date(token_client):
    response = token_client.get("/api/v1/metrics/summary/?as_of=yesterday")
    assert response.status_code == 400 and response.json()["code"] == "invalid_date"
