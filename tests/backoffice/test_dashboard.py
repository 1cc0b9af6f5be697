"""Staff metrics dashboard (issue 7): tiles, CSV exports, segment pages, permissions and constant query counts.

Data: the fixed data set of test_metrics (rollup day 2025-03-31); see the figures worked out there.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backoffice.roles import PROGRAM_MANAGER, SUPPORT_AGENT
from backoffice.services import metrics_rollup
from loyalty.models import Purchase
from tests.backoffice.test_metrics import AS_OF, at, data  # noqa: F401 (the `data` fixture)
from tests.factories import ShopMemberFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = "/admin/dashboard/"


def _staff(group: str | None = None, **kwargs):
    user = UserFactory(is_staff=True, **kwargs)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def manager_client(client):
    client.force_login(_staff(PROGRAM_MANAGER))
    return client


@pytest.fixture
def rolled_up(data):  # noqa: F811
    metrics_rollup(as_of=AS_OF)
    return data


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(body.decode())))


def test_empty_state_links_to_the_rollup_button(manager_client):
    page = manager_client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "the rollup has not run" in html
    assert "/admin/backoffice/metricsnapshot/" in html


def test_the_tiles_open_on_the_last_complete_month(manager_client, data):  # noqa: F811
    """A rollup on the first of April: April is one day old, so the tiles show March against February (the
    April snapshot is in the charts only)."""
    metrics_rollup(as_of=AS_OF + timedelta(days=1))
    page = manager_client.get(URL)
    current = page.context["current"]
    assert current.period_start == date(2025, 3, 1)
    tiles = {t["key"]: t for t in page.context["tiles"]}
    assert (tiles["revenue"]["value"], tiles["revenue"]["previous"]) == ("40.00", "230.00")
    assert any(row["period_start"] == "2025-04-01" for row in page.context["series"])


def test_program_manager_sees_tiles_and_charts(manager_client, rolled_up):
    page = manager_client.get(URL)
    assert page.status_code == 200
    tiles = {t["key"]: t for t in page.context["tiles"]}
    # latest complete month = March (40.00 from A 30 + D 10) vs February (230.00): -82.6 %
    assert (tiles["revenue"]["value"], tiles["revenue"]["previous"]) == ("40.00", "230.00")
    assert tiles["revenue"]["change"]["text"] == "-82.6 %"
    assert tiles["customers"]["change"] == {"text": "+0.0 %", "direction": "flat"}  # 2 vs 2
    # retention is known up to February (0.5) vs January (0.5)
    assert (tiles["retention_rate"]["value"], tiles["retention_rate"]["change"]["text"]) == ("0.5000", "+0.0 pts")
    assert tiles["points_outstanding"]["value"] == 120 and tiles["liability"]["value"] == "0.75"
    assert tiles["nps"]["display"] == "—"
    html = page.content.decode()
    assert 'id="dashboard-data" type="application/json"' in html
    assert "vendor/chartjs/chart.umd.min.js" in html and "js/dashboard.js" in html
    assert "cdn" not in html.lower()
    # default range: the last 12 months up to the rollup day — October 2024 to March 2025 exist
    assert [row["period_start"] for row in page.context["series"]] == [
        "2024-10-01", "2024-11-01", "2024-12-01", "2025-01-01", "2025-02-01", "2025-03-01"]


def test_superuser_sees_it_and_the_admin_index_links_to_it(client, rolled_up):
    client.force_login(_staff(is_superuser=True))
    assert client.get(URL).status_code == 200
    index = client.get("/admin/")
    assert 'href="/admin/dashboard/"' in index.content.decode()


def test_customer_and_support_agent_are_refused(client, rolled_up, member):
    customer = client.get(URL)
    assert customer.status_code == 302 and "/admin/login/" in customer["Location"]
    client.force_login(member.user)
    assert client.get(URL).status_code == 302
    assert client.get(URL + "segments/loyal/").status_code == 302
    client.force_login(_staff(SUPPORT_AGENT))
    assert client.get(URL).status_code == 403
    assert client.get(URL + "segments/loyal/").status_code == 403
    assert client.get(URL, {"format": "csv", "table": "series"}).status_code == 403
    assert 'href="/admin/dashboard/"' not in client.get("/admin/").content.decode()


def test_csv_exports(manager_client, rolled_up):
    rows = _csv(manager_client.get(URL, {"format": "csv", "table": "series", "from": "2025-02-01",
                                         "to": "2025-03-31"}))
    assert rows[0][:7] == ["period_start", "period_end", "as_of", "customers", "orders", "revenue", "aov"]
    assert [(r[0], r[5]) for r in rows[1:]] == [("2025-02-01", "230.00"), ("2025-03-01", "40.00")]
    cohorts = _csv(manager_client.get(URL, {"format": "csv", "table": "cohorts"}))
    # January cohort {A, B}: both in +0, A in +1 and +2; February {C}; March {D}
    assert cohorts == [["cohort_month", "months_since", "customers", "active", "share"],
                       ["2025-01-01", "0", "2", "2", "1.0000"], ["2025-01-01", "1", "2", "1", "0.5000"],
                       ["2025-01-01", "2", "2", "1", "0.5000"], ["2025-02-01", "0", "1", "1", "1.0000"],
                       ["2025-03-01", "0", "1", "1", "1.0000"]]
    segments = _csv(manager_client.get(URL, {"format": "csv", "table": "segments"}))
    assert segments[0] == ["segment", "label", "members"]
    assert {r[0]: r[2] for r in segments[1:] if r[2] != "0"} == {"loyal": "1", "lost": "1", "at_risk": "1",
                                                                  "promising": "1"}
    tiers = _csv(manager_client.get(URL, {"format": "csv", "table": "tiers"}))
    assert tiers[0] == ["tier", "rank", "members"] and sum(int(r[2]) for r in tiers[1:]) == 5
    clv = _csv(manager_client.get(URL, {"format": "csv", "table": "clv"}))
    # historic CLV: A 160, B 80, C 200, D 10 → 0–50: 1, 50–100: 1, 100–250: 2
    assert [r[1] for r in clv[1:]] == ["1", "1", "2", "0", "0", "0", "0"]
    tiles = _csv(manager_client.get(URL, {"format": "csv", "table": "tiles"}))
    assert tiles[0] == ["metric", "value", "previous", "change"] and len(tiles) == 14
    assert manager_client.get(URL, {"format": "csv", "table": "nope"}).status_code == 404


def test_bad_dates_fall_back_to_the_default(manager_client, rolled_up):
    page = manager_client.get(URL, {"from": "yesterday", "to": "2025-03-31"})
    assert page.status_code == 200 and page.context["errors"]
    assert len(page.context["series"]) == 6


def test_segment_page_lists_its_members(manager_client, rolled_up):
    page = manager_client.get(URL + "segments/loyal/")
    assert page.status_code == 200
    numbers = [score.member.member_number for score in page.context["page"]]
    assert numbers == [rolled_up["A"].member_number]
    assert rolled_up["B"].member_number not in page.content.decode()
    rows = _csv(manager_client.get(URL + "segments/lost/", {"format": "csv"}))
    assert rows[0][:4] == ["member_number", "first_name", "last_name", "email"]
    assert [r[0] for r in rows[1:]] == [rolled_up["B"].member_number]
    assert manager_client.get(URL + "segments/nope/").status_code == 404


def test_query_count_does_not_grow_with_the_data(manager_client, rolled_up):
    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert manager_client.get(url).status_code == 200
        return len(queries)

    before = count(URL), count(URL + "segments/loyal/")
    for i in range(6):
        member = ShopMemberFactory()
        for k, day in enumerate(("2025-01-12", "2025-02-12", "2025-03-12")):
            Purchase.objects.create(member=member, source="shop", order_id=f"extra{i}-{k}", amount=Decimal("90.00"),
                                    currency="EUR", occurred_at=at(day), confirm_after=at(day))
    metrics_rollup(as_of=AS_OF)
    after = count(URL), count(URL + "segments/loyal/")
    assert after == before
    assert before[0] <= 15
