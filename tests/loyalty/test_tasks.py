"""The Celery tasks call their services; running each twice changes nothing the second time."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from loyalty import tasks
from loyalty.models import LedgerEntry
from members.models import Member
from tests.factories import ShopMemberFactory
from tests.loyalty.conftest import buy

pytestmark = pytest.mark.django_db


def test_confirm_expire_notify_and_tier_tasks_are_idempotent(tiers, token_client):
    member = ShopMemberFactory()
    start = timezone.now()
    buy(member, "1500", at=start, now=start)
    with time_machine.travel(start + timedelta(days=15), tick=False):
        assert tasks.purchases_confirm_due.apply().get() == 1
        assert tasks.purchases_confirm_due.apply().get() == 0
    with time_machine.travel(start + timedelta(days=340), tick=False):
        assert tasks.expiry_notices_daily.apply().get() == 1
        assert tasks.expiry_notices_daily.apply().get() == 0
    with time_machine.travel(start + timedelta(days=367), tick=False):
        assert tasks.points_expire_daily.apply().get() == 1
        assert tasks.points_expire_daily.apply().get() == 0
        assert tasks.tiers_close_daily.apply().get() == {"downgraded": 1}
        assert tasks.tiers_close_daily.apply().get() == {}
    m = Member.objects.select_related("tier").get(pk=member.pk)
    assert m.points_balance == 0 and m.tier.name == "Bronze"
    assert list(LedgerEntry.objects.filter(member=member).values_list("kind", flat=True).order_by("pk")) == [
        "earn", "expire"]


def test_member_detail_reports_progress_in_whole_points(tiers, token_client):
    member = ShopMemberFactory()
    buy(member, "250", now=timezone.now(), at=timezone.now())
    progress = token_client.get(f"/api/v1/members/{member.pk}/").json()["tier_progress"]
    assert progress["qualifying"] == 250 and progress["needed"] == 750 and progress["next_tier"] == "Silver"
