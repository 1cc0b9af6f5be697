"""Redeeming rewards, vouchers at checkout, cancelling and expiring them, birthday rewards (services)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from loyalty.models import LedgerEntry, PointsLot
from members.models import Member
from rewards.exceptions import (
    IdempotencyConflict,
    InsufficientPoints,
    InvalidVoucherCode,
    LimitReached,
    NotAvailable,
    OutOfStock,
    RewardNotFound,
    TierRequired,
    VoucherCancelled,
    VoucherExpired,
    VoucherNotFound,
    VoucherUsed,
)
from rewards.models import CODE_ALPHABET, Redemption, Reward, Voucher
from rewards.services import (
    birthday_rewards_issue,
    reward_redeem,
    voucher_cancel,
    voucher_use,
    vouchers_expire_due,
)
from tests.factories import MemberFactory, RewardFactory, TierFactory
from tests.rewards.conftest import fund

pytestmark = pytest.mark.django_db


def redeem(member, reward, key="k1", **kw):
    return reward_redeem(member_id=member.pk, reward_id=reward.pk, source=Redemption.Source.PORTAL,
                         idempotency_scope=f"member:{member.pk}", idempotency_key=key, **kw)


def balance(member):
    return Member.objects.get(pk=member.pk).points_balance


def nothing_written(before):
    return (Redemption.objects.count(), Voucher.objects.count(), LedgerEntry.objects.count()) == before


def counts():
    return Redemption.objects.count(), Voucher.objects.count(), LedgerEntry.objects.count()


def test_redeem_spends_points_and_issues_a_voucher(member, reward):
    fund(member, 800)
    reward.stock = 3
    reward.save()
    now = timezone.now()
    redemption, created = redeem(member, reward, now=now)
    assert created and redemption.points_spent == 500
    assert balance(member) == 300
    voucher = Voucher.objects.get(redemption=redemption)
    assert len(voucher.code) == 12 and set(voucher.code) <= set(CODE_ALPHABET)
    assert voucher.status == "issued" and voucher.value == reward.value and voucher.kind == reward.kind
    assert voucher.expires_at == now + timedelta(days=90)
    assert Reward.objects.get(pk=reward.pk).stock == 2
    entry = redemption.ledger_entry
    assert (entry.kind, entry.points, entry.balance_after) == ("redeem", -500, 300)
    call_command("check_ledger")


def test_codes_are_unique_and_unguessable(member):
    reward = RewardFactory(cost_points=1)
    fund(member, 200)
    codes = {Voucher.objects.get(redemption=redeem(member, reward, key=f"k{i}")[0]).code for i in range(200)}
    assert len(codes) == 200


def test_same_key_replays_and_a_different_body_conflicts(member, reward):
    fund(member, 2000)
    first, created = redeem(member, reward)
    again, created_again = redeem(member, reward)
    assert created and not created_again and again.pk == first.pk
    assert balance(member) == 1500
    other = RewardFactory(cost_points=100)
    before = counts()
    with pytest.raises(IdempotencyConflict):
        redeem(member, other)
    assert counts() == before


@pytest.mark.parametrize("case", ["insufficient", "out_of_stock", "tier", "inactive", "future", "past", "unknown"])
def test_refusals_write_nothing(member, reward, case):
    fund(member, 600)
    expected = {"insufficient": InsufficientPoints, "out_of_stock": OutOfStock, "tier": TierRequired,
                "inactive": NotAvailable, "future": NotAvailable, "past": NotAvailable, "unknown": RewardNotFound}
    now = timezone.now()
    if case == "insufficient":
        reward.cost_points = 601
    elif case == "out_of_stock":
        reward.stock = 0
    elif case == "tier":
        reward.minimum_tier = TierFactory(name="Gold", rank=3, threshold_points=3000)
    elif case == "inactive":
        reward.is_active = False
    elif case == "future":
        reward.available_from = now + timedelta(hours=1)
    elif case == "past":
        reward.available_until = now - timedelta(seconds=1)
    reward.save()
    before = counts()
    with pytest.raises(expected[case]) as refused:
        reward_redeem(member_id=member.pk, reward_id=999_999 if case == "unknown" else reward.pk, source="portal",
                      idempotency_scope=f"member:{member.pk}", idempotency_key="k", now=now)
    assert refused.value.code in {"insufficient_points", "out_of_stock", "tier_required", "not_available",
                                  "reward_not_found"}
    assert counts() == before and balance(member) == 600


def test_per_member_limit_counts_uncancelled_redemptions_in_the_period(member):
    reward = RewardFactory(cost_points=10, limit_per_member=2, limit_period_days=30)
    fund(member, 1000)
    t0 = timezone.now()
    redeem(member, reward, key="a", now=t0)
    second, _ = redeem(member, reward, key="b", now=t0)
    with pytest.raises(LimitReached):
        redeem(member, reward, key="c", now=t0)
    voucher_cancel(voucher_id=second.voucher.pk, member_id=member.pk, reason="", now=t0)
    redeem(member, reward, key="d", now=t0)  # a cancelled one does not count
    with pytest.raises(LimitReached):
        redeem(member, reward, key="e", now=t0 + timedelta(days=29))
    redeem(member, reward, key="f", now=t0 + timedelta(days=31))  # the period has moved on


def test_points_come_from_the_soonest_expiring_lots_and_cancel_puts_them_back(member, reward):
    now = timezone.now()
    late = fund(member, 400, expires_in_days=300, now=now)
    early = fund(member, 300, expires_in_days=10, now=now)
    redemption, _ = redeem(member, reward, now=now)  # 500 = all 300 of the early lot + 200 of the late one
    lots = {lot.entry_id: lot for lot in PointsLot.objects.filter(member=member)}
    assert (lots[early.pk].remaining, lots[late.pk].remaining) == (0, 200)
    voucher_cancel(voucher_id=redemption.voucher.pk, member_id=member.pk, reason="changed my mind",
                   now=now + timedelta(days=1))
    lots = {lot.entry_id: lot for lot in PointsLot.objects.filter(member=member)}
    assert (lots[early.pk].remaining, lots[late.pk].remaining) == (300, 400)  # same lots, same expiry dates
    assert PointsLot.objects.filter(member=member).count() == 2
    assert balance(member) == 700
    reversal = LedgerEntry.objects.get(reverses=redemption.ledger_entry)
    assert (reversal.kind, reversal.points) == ("reversal", 500)
    call_command("check_ledger")


def test_cancel_after_a_lot_expired_returns_only_the_points_still_valid(member, reward):
    now = timezone.now()
    fund(member, 300, expires_in_days=10, now=now)
    fund(member, 400, expires_in_days=300, now=now)
    redemption, _ = redeem(member, reward, now=now)
    voucher = Voucher.objects.get(redemption=redemption)
    voucher.expires_at = None  # keep the voucher valid: only the first lot expires
    voucher.save()
    voucher_cancel(voucher_id=voucher.pk, member_id=member.pk, reason="", now=now + timedelta(days=11))
    assert balance(member) == 400  # the 300 from the expired lot are not handed back
    reversal = LedgerEntry.objects.get(reverses=redemption.ledger_entry)
    assert reversal.points == 200 and "300 points not returned" in reversal.description
    call_command("check_ledger")


def test_expired_unprocessed_lots_are_never_spent(member, reward):
    now = timezone.now()
    fund(member, 500, expires_in_days=1, now=now)
    later = now + timedelta(days=2)  # the lot is past its date, the daily task has not run yet
    with pytest.raises(InsufficientPoints):
        redeem(member, reward, now=later)
    assert not LedgerEntry.objects.filter(kind="expire").exists()  # the refusal wrote nothing
    fresh_lot = fund(member, 600, now=later)
    redeem(member, reward, key="k2", now=later)  # paid from the fresh lot only
    assert PointsLot.objects.get(entry=fresh_lot).remaining == 100
    assert PointsLot.objects.exclude(entry=fresh_lot).get().remaining == 500  # untouched, left to the daily task
    from loyalty.services import lots_expire_due

    lots_expire_due(now=later)
    assert balance(member) == 100
    assert LedgerEntry.objects.filter(member=member, kind="expire", points=-500).count() == 1
    call_command("check_ledger")


def test_points_past_their_date_do_not_count_for_a_redemption(member, reward):
    now = timezone.now()
    fund(member, 300, expires_in_days=1, now=now)
    fund(member, 400, expires_in_days=300, now=now)
    later = now + timedelta(days=2)
    with pytest.raises(InsufficientPoints) as refused:  # 700 on the balance, but only 400 still valid
        redeem(member, reward, now=later)
    assert "400 of the balance are still valid" in refused.value.detail
    assert balance(member) == 700 and not LedgerEntry.objects.filter(kind__in=["expire", "redeem"]).exists()
    call_command("check_ledger")


def test_cancel_restores_stock_and_is_idempotent(member, reward):
    fund(member, 500)
    reward.stock = 1
    reward.save()
    redemption, _ = redeem(member, reward)
    assert Reward.objects.get(pk=reward.pk).stock == 0
    voucher_cancel(voucher_id=redemption.voucher.pk, member_id=member.pk, reason="")
    voucher_cancel(voucher_id=redemption.voucher.pk, member_id=member.pk, reason="")
    assert Reward.objects.get(pk=reward.pk).stock == 1
    assert balance(member) == 500
    assert LedgerEntry.objects.filter(kind="reversal").count() == 1
    assert Voucher.objects.get(pk=redemption.voucher.pk).status == "cancelled"


def test_a_member_cannot_cancel_someone_elses_voucher_and_used_ones_stay(member, other_member, reward):
    fund(member, 1000)
    redemption, _ = redeem(member, reward)
    with pytest.raises(VoucherNotFound):
        voucher_cancel(voucher_id=redemption.voucher.pk, member_id=other_member.pk, reason="")
    voucher_use(code=redemption.voucher.code, order_id="A-1")
    with pytest.raises(VoucherUsed):
        voucher_cancel(voucher_id=redemption.voucher.pk, member_id=member.pk, reason="")
    assert balance(member) == 500


def test_staff_cancel_records_the_author_and_reason(member, reward, staff_user):
    fund(member, 500)
    redemption, _ = redeem(member, reward)
    voucher = voucher_cancel(voucher_id=redemption.voucher.pk, reason="Printed twice", by=staff_user)
    assert (voucher.cancelled_by, voucher.cancel_reason) == (staff_user, "Printed twice")
    assert LedgerEntry.objects.get(kind="reversal").author == staff_user


def test_voucher_use_at_checkout(member, reward):
    fund(member, 2000)
    code = redeem(member, reward)[0].voucher.code
    pretty = f"{code[:4]}-{code[4:8]}-{code[8:]}".lower()
    voucher, created = voucher_use(code=pretty, order_id="ORDER-1")
    assert created and voucher.status == "used" and voucher.used_order_id == "ORDER-1"
    assert voucher_use(code=code, order_id="ORDER-1")[1] is False  # the same order again: fine
    with pytest.raises(VoucherUsed):
        voucher_use(code=code, order_id="ORDER-2")
    with pytest.raises(VoucherNotFound):
        voucher_use(code=code[:-1] + ("A" if code[-1] != "A" else "B"), order_id="ORDER-3")
    with pytest.raises(InvalidVoucherCode):
        voucher_use(code="<script>", order_id="ORDER-3")
    with pytest.raises(InvalidVoucherCode):
        voucher_use(code="A" * 65, order_id="ORDER-3")


def test_expired_and_cancelled_vouchers_are_refused(member, reward):
    fund(member, 2000)
    now = timezone.now()
    expired = redeem(member, reward, key="a", now=now)[0].voucher
    cancelled = redeem(member, reward, key="b", now=now)[0].voucher
    voucher_cancel(voucher_id=cancelled.pk, member_id=member.pk, reason="")
    with pytest.raises(VoucherExpired):
        voucher_use(code=expired.code, order_id="X", now=now + timedelta(days=91))
    with pytest.raises(VoucherCancelled):
        voucher_use(code=cancelled.code, order_id="X")
    with pytest.raises(VoucherExpired):
        voucher_cancel(voucher_id=expired.pk, member_id=member.pk, reason="", now=now + timedelta(days=91))


def test_expiry_task_marks_vouchers_and_is_idempotent(member, reward):
    fund(member, 2000)
    now = timezone.now()
    old = redeem(member, reward, key="a", now=now - timedelta(days=100))[0].voucher
    fresh = redeem(member, reward, key="b", now=now)[0].voucher
    assert vouchers_expire_due(now=now) == 1
    assert vouchers_expire_due(now=now) == 0
    assert Voucher.objects.get(pk=old.pk).status == "expired"
    assert Voucher.objects.get(pk=fresh.pk).status == "issued"
    assert balance(member) == 1000  # expired vouchers keep their points spent


@pytest.fixture
def birthday_reward(db):
    return RewardFactory(name="Birthday cake", kind=Reward.Kind.FREE_PRODUCT, value=None, cost_points=1,
                         is_birthday_reward=True, voucher_valid_days=30)


def test_birthday_reward_once_a_year_in_program_time(birthday_reward, django_capture_on_commit_callbacks):
    born = MemberFactory()
    Member.objects.filter(pk=born.pk).update(birthday=date(1990, 6, 15))
    MemberFactory()  # no birthday: skipped
    other_day = MemberFactory()
    Member.objects.filter(pk=other_day.pk).update(birthday=date(1990, 6, 16))
    # 22:30 UTC on 14 June is 00:30 on 15 June in Berlin (the program's zone)
    now = datetime(2026, 6, 14, 22, 30, tzinfo=UTC)
    with django_capture_on_commit_callbacks(execute=True):
        assert birthday_rewards_issue(now=now) == {"issued": 1, "out_of_stock": 0}
    assert birthday_rewards_issue(now=now + timedelta(hours=5)) == {"issued": 0, "out_of_stock": 0}
    voucher = Voucher.objects.get()
    assert voucher.member_id == born.pk and voucher.redemption.points_spent == 0
    assert voucher.redemption.ledger_entry is None
    assert "Happy birthday" in mail.outbox[-1].subject and voucher.code_display in mail.outbox[-1].body
    assert birthday_rewards_issue(now=datetime(2027, 6, 15, 9, tzinfo=UTC))["issued"] == 1  # next year again


def test_leap_day_birthdays_are_celebrated_on_28_february(birthday_reward):
    leap = MemberFactory()
    Member.objects.filter(pk=leap.pk).update(birthday=date(2000, 2, 29))
    assert birthday_rewards_issue(now=datetime(2027, 2, 28, 9, tzinfo=UTC))["issued"] == 1
    assert birthday_rewards_issue(now=datetime(2028, 2, 28, 9, tzinfo=UTC))["issued"] == 0  # 2028 has a 29th
    assert birthday_rewards_issue(now=datetime(2028, 2, 29, 9, tzinfo=UTC))["issued"] == 1


def test_birthday_rewards_respect_stock(birthday_reward):
    Reward.objects.filter(pk=birthday_reward.pk).update(stock=1)
    for _ in range(2):
        m = MemberFactory()
        Member.objects.filter(pk=m.pk).update(birthday=date(1985, 3, 3))
    assert birthday_rewards_issue(now=datetime(2026, 3, 3, 9, tzinfo=UTC)) == {"issued": 1, "out_of_stock": 1}


def test_birthday_reward_is_not_sold_in_the_catalog(member, birthday_reward):
    fund(member, 100)
    with pytest.raises(NotAvailable):
        redeem(member, birthday_reward)
