"""Tiers rise at once and fall one step at period end; referrals pay both sides once."""

from datetime import timedelta

import pytest
from django.core import mail

from config.exceptions import Conflict, DomainError, NotFound
from loyalty.models import LedgerEntry
from loyalty.selectors import qualifying_figures, tier_progress_get
from loyalty.services import purchase_return, purchases_confirm_due, tiers_close_due
from members.models import Member
from members.services import referral_apply
from tests.factories import MemberFactory, ShopMemberFactory
from tests.loyalty.conftest import T0, buy

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


def fresh(member):
    return Member.objects.select_related("tier").get(pk=member.pk)


def test_new_members_start_in_the_entry_tier(tiers):
    assert fresh(MemberFactory()).tier == tiers["Bronze"]


def test_upgrade_happens_at_once_when_the_threshold_is_crossed(tiers):
    member = MemberFactory()
    buy(member, "999")
    assert fresh(member).tier.name == "Bronze"
    buy(member, "1", at=T0 + DAY)  # pending points count: no need to wait for the return window
    m = fresh(member)
    assert m.tier.name == "Silver"
    assert m.tier_period_end.date() == (T0 + DAY + timedelta(days=365)).date()


def test_top_tier_posts_do_not_aggregate_the_history(tiers):
    """Only a member who can still move up pays for the qualifying aggregate (it grows with the history)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    member = MemberFactory()
    with CaptureQueriesContext(connection) as below_top:
        buy(member, "3000")
    assert fresh(member).tier.name == "Gold"
    with CaptureQueriesContext(connection) as at_top:
        buy(member, "10", at=T0 + DAY)
    assert any("SUM(" in q["sql"] for q in below_top.captured_queries)
    assert not any("SUM(" in q["sql"] for q in at_top.captured_queries)
    assert len(at_top.captured_queries) <= 2  # the member lock, the insert (with its pending points)
    assert fresh(member).pending_points == 3000 * 1 + int(10 * 1.5)


def test_posts_out_of_reach_of_every_higher_tier_do_not_aggregate_the_history(tiers):
    """No window holds more purchase points than the member's lifetime and pending points plus the new post's:
    while that bound stays below Silver's 1,000, no post reads the tier figures; the post that could cross it
    does, and upgrades."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    member = MemberFactory()
    with CaptureQueriesContext(connection) as far:
        for day in range(9):
            buy(member, "100", at=T0 + day * DAY)  # 900 pending points
    assert not any("SUM(" in q["sql"] for q in far.captured_queries)
    with CaptureQueriesContext(connection) as near:
        buy(member, "100", at=T0 + 9 * DAY)  # 1,000 within reach
    assert any("SUM(" in q["sql"] for q in near.captured_queries)
    assert fresh(member).tier.name == "Silver"


def test_qualifying_figures_ignore_the_balance_and_count_returns(tiers):
    member = MemberFactory()
    purchase = buy(member, "800")
    purchase_return(order_id=purchase.order_id, return_id="R1", amount=member and purchase.amount / 2, now=T0)
    assert qualifying_figures(member_id=member.pk, now=T0) == {12: 400}
    progress = tier_progress_get(member=fresh(member), now=T0)
    assert (progress["next_tier"], progress["needed"]) == ("Silver", 600)


def test_window_is_rolling(tiers):
    member = MemberFactory()
    buy(member, "600", at=T0)
    buy(member, "600", at=T0 + 400 * DAY)  # the first purchase has left the 12-month window
    assert fresh(member).tier.name == "Bronze"


def test_downgrade_only_at_period_end_one_tier_at_a_time(tiers, django_capture_on_commit_callbacks):
    member = MemberFactory()
    buy(member, "3000")
    assert fresh(member).tier.name == "Gold"
    period_end = fresh(member).tier_period_end
    assert tiers_close_due(now=period_end - DAY) == {}  # not yet
    with django_capture_on_commit_callbacks(execute=True):
        assert tiers_close_due(now=period_end) == {"downgraded": 1}
    m = fresh(member)
    assert m.tier.name == "Silver"  # one step, although nothing qualifies any more
    assert "Your tier is now Silver" in mail.outbox[-1].subject
    assert tiers_close_due(now=period_end + DAY) == {}  # idempotent: the next period has begun
    with django_capture_on_commit_callbacks(execute=True):
        tiers_close_due(now=m.tier_period_end)
    m = fresh(member)
    assert m.tier.name == "Bronze" and m.tier_period_end is None


def test_tier_is_kept_when_the_member_still_qualifies(tiers):
    member = MemberFactory()
    buy(member, "1000")
    end = fresh(member).tier_period_end
    buy(member, "1000", at=end - 30 * DAY)
    assert tiers_close_due(now=end) == {"kept": 1}
    m = fresh(member)
    assert m.tier.name == "Silver" and m.tier_period_end > end


def test_spend_basis(tiers, settings):
    settings.FIDELIO_TIER_BASIS = "spend"
    for name, spend in (("Silver", 500), ("Gold", 2000)):
        tiers[name].threshold_spend = spend
        tiers[name].save()
    member = MemberFactory()
    buy(member, "499.99")
    assert fresh(member).tier.name == "Bronze"
    buy(member, "0.01", at=T0 + DAY)
    assert fresh(member).tier.name == "Silver"


# ------------------------------------------------------------------------------------------------ referrals
def test_both_get_the_bonus_when_the_first_purchase_is_confirmed():
    referrer = MemberFactory()
    friend = MemberFactory()
    referral_apply(member=friend, code=referrer.referral_code.lower())
    buy(friend, "10")
    assert not LedgerEntry.objects.filter(kind="referral").exists()  # pending: not yet
    purchases_confirm_due(now=T0 + 15 * DAY)
    assert fresh(referrer).points_balance == 200
    assert fresh(friend).points_balance == 10 + 100
    assert LedgerEntry.objects.filter(kind="referral", reference=f"referral:{friend.member_number}").count() == 2
    buy(friend, "10", at=T0 + 20 * DAY)
    purchases_confirm_due(now=T0 + 40 * DAY)
    assert LedgerEntry.objects.filter(kind="referral").count() == 2  # once only


def test_a_fully_returned_first_purchase_pays_no_referral():
    referrer, friend = MemberFactory(), MemberFactory()
    referral_apply(member=friend, code=referrer.referral_code)
    purchase = buy(friend, "10")
    purchase_return(order_id=purchase.order_id, return_id="R", amount=purchase.amount, now=T0 + DAY)
    purchases_confirm_due(now=T0 + 15 * DAY)
    assert not LedgerEntry.objects.filter(kind="referral").exists()


def test_self_referral_second_referrer_and_loops_are_refused():
    a, b, c = MemberFactory(), MemberFactory(), MemberFactory()
    with pytest.raises(DomainError) as exc:
        referral_apply(member=a, code=a.referral_code)
    assert exc.value.code == "self_referral"
    referral_apply(member=b, code=a.referral_code)  # a → b
    referral_apply(member=b, code=a.referral_code)  # the same link again is fine
    with pytest.raises(Conflict) as exc:
        referral_apply(member=b, code=c.referral_code)
    assert exc.value.code == "already_referred"
    referral_apply(member=c, code=b.referral_code)  # a → b → c
    with pytest.raises(DomainError) as exc:
        referral_apply(member=a, code=c.referral_code)  # c → a would close the loop
    assert exc.value.code == "referral_loop"
    with pytest.raises(NotFound):
        referral_apply(member=a, code="NOSUCHCODE")
    assert fresh(a).referred_by is None


def test_referral_code_at_member_creation():
    referrer = ShopMemberFactory()
    from members.services import member_create

    friend = member_create(email="friend@example.test", referral_code=referrer.referral_code, via="api")
    assert fresh(friend).referred_by == referrer
