"""The points history can be narrowed to a kind of entry and to days; bad filters are form errors in the
member's language, with the whole history shown and nothing written; the pager keeps the filters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from config.periods import local_date
from loyalty import ledger
from loyalty.models import LedgerEntry
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(settings):
    settings.FIDELIO_WELCOME_BONUS = 0
    member = MemberFactory()
    now = timezone.now()
    ledger.points_credit_many(now=now - timedelta(days=40), credits=[
        ledger.Credit(member_id=member.pk, points=5, kind="bonus", description="old bonus", idempotency_key=f"o{i}")
        for i in range(30)])
    ledger.points_credit(member=member, points=200, kind="referral", description="Referral", idempotency_key="ref",
                         now=now - timedelta(days=2))
    return member, now


def test_filter_by_kind_and_days(client, history):
    member, now = history
    client.force_login(member.user)
    page = client.get("/points/", {"kind": "referral"})
    assert page.status_code == 200
    assert len(page.context["page"].object_list) == 1
    old = local_date(now - timedelta(days=40)).isoformat()  # days in program time, as the filter reads them
    page = client.get("/points/", {"since": old, "until": old, "kind": "bonus"})
    assert page.context["page"].paginator.count == 30
    assert "page=2&amp;kind=bonus&amp;since=" in page.content.decode()  # the pager keeps the filters
    recent = local_date(now - timedelta(days=5)).isoformat()
    page = client.get("/points/", {"since": recent, "kind": "bonus"})
    assert 'data-testid="no-match"' in page.content.decode()


@pytest.mark.parametrize("params", [{"kind": "nonsense"}, {"since": "2026-13-45"},
                                    {"since": "2026-05-02", "until": "2026-05-01"}])
def test_bad_filters_are_form_errors_in_the_members_language(client, history, params):
    member, _now = history
    client.force_login(member.user)
    before = LedgerEntry.objects.count()
    page = client.get("/points/", params, HTTP_ACCEPT_LANGUAGE="pl")
    assert page.status_code == 200
    assert page.context["form"].errors
    assert page.context["page"].paginator.count == 31  # the whole history
    assert 'lang="pl"' in page.content.decode() and 'class="errorlist"' in page.content.decode()
    assert LedgerEntry.objects.count() == before
