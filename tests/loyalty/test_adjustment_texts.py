"""Staff adjustments: members (portal and API) and integrations read "Adjustment by our team: …", never the
staff member's e-mail — also for entries written before the text changed; staff still see the author."""

import pytest

from loyalty import ledger
from loyalty.models import LedgerEntry
from loyalty.services import points_adjust
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return UserFactory(email="ops.lead@staff.fidelio.test", is_staff=True, is_superuser=True)


@pytest.fixture
def adjusted(member, staff):
    """One adjustment the way points_adjust writes it now, one the way it used to (the ledger keeps it)."""
    new = points_adjust(member=member, points=30, reason="Late parcel", author=staff)
    old = ledger.points_credit(member=member, points=20, kind=LedgerEntry.Kind.ADJUST,
                               description=f"Adjustment by {staff}: Broken voucher", idempotency_key="adjust:old-1",
                               author=staff, reference="staff")
    return new, old


def test_points_adjust_does_not_write_the_author_into_the_description(adjusted, staff):
    new, _ = adjusted
    assert new.description == "Adjustment by our team: Late parcel"
    assert new.author == staff


def test_portal_points_history_names_no_staff_member(client, member, adjusted, staff):
    client.force_login(member.user)
    response = client.get("/points/")
    assert response.status_code == 200
    body = response.content.decode()
    assert staff.email not in body and "ops.lead" not in body
    assert "Adjustment by our team: Late parcel" in body
    assert "Adjustment by our team: Broken voucher" in body


def test_me_ledger_api_names_no_staff_member(api_client, adjusted, staff):
    response = api_client.get("/api/v1/me/ledger/")
    assert response.status_code == 200
    assert staff.email not in response.content.decode()
    texts = {row["description"] for row in response.json()["results"]}
    assert {"Adjustment by our team: Late parcel", "Adjustment by our team: Broken voucher"} <= texts


def test_integration_ledger_shows_the_member_facing_text(token_client, member, adjusted, staff):
    response = token_client.get(f"/api/v1/members/{member.pk}/ledger/")
    assert response.status_code == 200
    assert staff.email not in response.content.decode()
    assert "Adjustment by our team: Broken voucher" in response.content.decode()


def test_other_entries_keep_their_text(api_client, member):
    ledger.points_credit(member=member, points=5, kind=LedgerEntry.Kind.BONUS,
                         description="Adjustment by hand: not a staff adjustment", idempotency_key="bonus:x")
    texts = [row["description"] for row in api_client.get("/api/v1/me/ledger/").json()["results"]]
    assert "Adjustment by hand: not a staff adjustment" in texts


def test_staff_ledger_admin_still_shows_the_author(client, adjusted, staff):
    new, _ = adjusted
    client.force_login(UserFactory(email="another.manager@staff.fidelio.test", is_staff=True, is_superuser=True))
    response = client.get("/admin/loyalty/ledgerentry/", {"q": new.idempotency_key})  # only the new entry
    assert response.status_code == 200
    body = response.content.decode()
    assert "Adjustment by our team: Late parcel" in body
    assert staff.email in body  # the author column
