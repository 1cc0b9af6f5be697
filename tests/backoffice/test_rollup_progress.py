"""The on-demand rollup from the admin shows its progress on the snapshots page."""

import pytest

from backoffice.services import ROLLUP_STEPS, rollup_progress_get
from backoffice.tasks import metrics_rollup_daily

pytestmark = pytest.mark.django_db


def test_progress_is_reported_while_queued_and_when_finished(client, staff_user):
    client.force_login(staff_user)
    response = client.post("/admin/backoffice/metricsnapshot/run/", follow=True)
    page = response.content.decode()
    assert "queued" in page and f"0 of {ROLLUP_STEPS} steps done (queued)" in page
    metrics_rollup_daily(as_of="2026-11-20")  # what the worker runs
    progress = rollup_progress_get()
    assert (progress["step"], progress["done"], progress["as_of"]) == ("finished", ROLLUP_STEPS, "2026-11-20")
    page = client.get("/admin/backoffice/metricsnapshot/").content.decode()
    assert "Last rollup (for 2026-11-20) finished in" in page
