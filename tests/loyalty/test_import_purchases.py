import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from loyalty.models import LedgerEntry, Purchase
from loyalty.selectors import ledger_mismatches
from members.models import Member
from tests.factories import ShopMemberFactory

pytestmark = pytest.mark.django_db

OLD = (timezone.now() - timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
RECENT = (timezone.now() - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
FUTURE = (timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S+00:00")

CSV = f"""customer_id,customer_email,order_id,occurred_at,amount,currency
C1,ann@example.test,O-1,{OLD},10.50,EUR
C1,ann@example.test,O-2,{RECENT},20.00,
C2,,O-3,{OLD},5.00,EUR
,bob@example.test,O-4,{OLD},7.25,EUR
C3,carl@example.test,O-5,{OLD},-1.00,EUR
C3,carl@example.test,O-6,{OLD},1.005,EUR
C3,carl@example.test,O-7,not-a-date,1.00,EUR
C3,carl@example.test,O-8,{OLD},1.00,USD
C3,carl@example.test,,{OLD},1.00,EUR
C3,carl@example.test,O-9,{FUTURE},1.00,EUR
,,O-10,{OLD},1.00,EUR
C1,ann@example.test,O-1,{OLD},10.50,EUR
"""


def run(tmp_path, text, *args):
    path = tmp_path / "history.csv"
    path.write_text(text)
    out, err = io.StringIO(), io.StringIO()
    call_command("import_purchases", str(path), "--quiet", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_without_points_creates_members_reports_rejects_and_is_idempotent(tmp_path):
    existing = ShopMemberFactory(email="bob@example.test")
    out, err = run(tmp_path, CSV, "--no-points")
    assert "12 rows: 4 purchases created, 1 already there, 7 rejected; 2 members created." in out
    for line, reason in [(6, "greater than zero"), (7, "2 decimal places"), (8, "ISO 8601"), (9, "currency USD"),
                         (10, "order_id is required"), (11, "in the future"), (12, "customer_id or customer_email")]:
        assert f"line {line}: " in err and reason in err.split(f"line {line}: ")[1].splitlines()[0]
    ann = Member.objects.get(external_id="C1")
    assert ann.email == "ann@example.test"
    assert Member.objects.get(external_id="C2").email == ""
    assert Purchase.objects.get(order_id="O-4").member == existing
    assert not LedgerEntry.objects.exists()
    assert set(Purchase.objects.values_list("awards_points", "points_earned")) == {(False, 0)}

    again, _ = run(tmp_path, CSV, "--no-points")
    assert "0 purchases created, 5 already there" in again and "0 members created" in again
    assert Purchase.objects.count() == 4


def test_import_with_points_follows_the_rules(tmp_path, settings):
    settings.FIDELIO_WELCOME_BONUS = 0
    out, _ = run(tmp_path, CSV)
    assert "4 purchases created" in out
    ann = Member.objects.get(external_id="C1")
    assert ann.points_balance == 10  # the old order is past its window: confirmed at once, rounded down
    assert ann.pending_points == 20  # the recent one waits for its return window
    assert ledger_mismatches() == {"members": [], "lots": []}
    again, _ = run(tmp_path, CSV)
    assert "0 purchases created" in again
    assert Member.objects.get(pk=ann.pk).points_balance == 10


def test_changed_history_is_reported_not_overwritten(tmp_path):
    run(tmp_path, CSV, "--no-points")
    changed = CSV.replace(f"O-3,{OLD},5.00", f"O-3,{OLD},6.00")
    _, err = run(tmp_path, changed, "--no-points")
    assert "order O-3 exists with different details" in err
    assert Purchase.objects.get(order_id="O-3").amount == 5


def test_a_header_without_the_needed_columns_is_refused(tmp_path):
    with pytest.raises(CommandError, match="header lacks"):
        run(tmp_path, "who,what\n1,2\n")


def test_missing_file_is_a_clear_error():
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_purchases", "/nonexistent/history.csv", "--quiet")
