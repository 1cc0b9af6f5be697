"""The points engine through its services: pending points, confirmation, returns, expiry, adjustments."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError, InternalError, connection, transaction

from config.exceptions import DomainError
from loyalty import ledger
from loyalty.exceptions import InsufficientPoints, OrderConflict, ReturnConflict, ReturnExceedsPurchase
from loyalty.models import LedgerEntry, PointsLot, Purchase
from loyalty.selectors import ledger_mismatches
from loyalty.services import (
    PurchaseIn,
    expiry_notices_send,
    lots_expire_due,
    points_adjust,
    purchase_record,
    purchase_return,
    purchases_confirm_due,
)
from members.models import Member
from tests.factories import MemberFactory, UserFactory
from tests.loyalty.conftest import T0, buy

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def fresh(member: Member) -> Member:
    return Member.objects.get(pk=member.pk)


def assert_consistent():
    assert ledger_mismatches() == {"members": [], "lots": []}


# ---------------------------------------------------------------------------------------------- pending
def test_points_are_pending_until_the_return_window_ends(member):
    purchase = buy(member, "120.50")
    m = fresh(member)
    assert (purchase.points_earned, purchase.points_pending, purchase.status) == (120, 120, "pending")
    assert (m.points_balance, m.pending_points) == (0, 120)
    assert not LedgerEntry.objects.filter(member=member).exists()

    assert purchases_confirm_due(now=T0 + 13 * DAY) == 0
    assert purchases_confirm_due(now=T0 + 14 * DAY) == 1
    m = fresh(member)
    assert (m.points_balance, m.pending_points, m.lifetime_points) == (120, 0, 120)
    entry = LedgerEntry.objects.get(member=member)
    assert entry.kind == "earn" and entry.points == 120 and "Order" in entry.description
    assert entry.lot.expires_at.date() == (T0 + timedelta(days=365)).date()
    assert purchases_confirm_due(now=T0 + 20 * DAY) == 0  # a second run changes nothing
    assert LedgerEntry.objects.filter(member=member).count() == 1
    assert_consistent()


def test_back_dated_purchase_past_its_window_is_confirmed_at_once(member):
    buy(member, "50", at=T0 - 30 * DAY, now=T0)
    m = fresh(member)
    assert (m.points_balance, m.pending_points) == (50, 0)
    assert Purchase.objects.get(member=member).status == "confirmed"


def test_zero_window_confirms_at_once(member, settings):
    settings.FIDELIO_RETURN_WINDOW_DAYS = 0
    buy(member, "10")
    assert fresh(member).points_balance == 10


def test_same_order_twice_is_recorded_once(member):
    data = PurchaseIn(member_id=member.pk, order_id="A-1", amount=Decimal("10.00"), occurred_at=T0, currency="EUR")
    first, created = purchase_record(data=data, now=T0)
    again, created_again = purchase_record(data=data, now=T0 + DAY)
    assert created and not created_again and first.pk == again.pk
    assert fresh(member).pending_points == 10
    with pytest.raises(OrderConflict):
        purchase_record(data=PurchaseIn(member_id=member.pk, order_id="A-1", amount=Decimal("11.00"),
                                        occurred_at=T0, currency="EUR"), now=T0)


def test_same_order_id_from_another_source_is_another_purchase(member):
    buy(member, "10", order_id="X", source="shop")
    buy(member, "10", order_id="X", source="pos")
    assert Purchase.objects.filter(order_id="X").count() == 2


@pytest.mark.parametrize(
    ("change", "code"),
    [({"currency": "USD"}, "unsupported_currency"), ({"occurred_at": T0 + timedelta(minutes=6)}, "occurred_in_future")],
)
def test_program_rules_refuse_and_write_nothing(member, change, code):
    fields = {"member_id": member.pk, "order_id": "B-1", "amount": Decimal("10"), "occurred_at": T0,
              "currency": "EUR", **change}
    with pytest.raises(DomainError) as exc:
        purchase_record(data=PurchaseIn(**fields), now=T0)
    assert exc.value.code == code
    assert not Purchase.objects.exists()


def test_tier_multiplier_and_breakdown_on_the_entry(tiers, member):
    Member.objects.filter(pk=member.pk).update(tier=tiers["Silver"])
    buy(member, "100", at=T0 - 30 * DAY, now=T0)
    entry = LedgerEntry.objects.get(member=member)
    assert entry.points == 125
    assert "tier Silver ×1.25" in entry.description


# ----------------------------------------------------------------------------------------------- returns
def test_return_inside_the_window_reduces_pending_points(member):
    purchase = buy(member, "100")
    ret, created = purchase_return(order_id=purchase.order_id, return_id="R1", amount=Decimal("25"),
                                   now=T0 + DAY)
    assert created and ret.points_reversed == 25
    m = fresh(member)
    assert (m.points_balance, m.pending_points) == (0, 75)
    purchases_confirm_due(now=T0 + 15 * DAY)
    assert fresh(member).points_balance == 75
    assert Purchase.objects.get(pk=purchase.pk).status == "partly_returned"
    assert_consistent()


def test_return_after_the_window_writes_a_reversal(member):
    purchase = buy(member, "100")
    purchases_confirm_due(now=T0 + 15 * DAY)
    ret, _ = purchase_return(order_id=purchase.order_id, return_id="R1", amount=Decimal("40"), now=T0 + 20 * DAY)
    entry = LedgerEntry.objects.get(kind="reversal")
    assert entry.points == -40 and entry.reverses.kind == "earn" and entry.return_record == ret
    assert fresh(member).points_balance == 60
    # The rest of the order: everything earned is taken back, even with rounding on the way.
    purchase_return(order_id=purchase.order_id, return_id="R2", amount=Decimal("60"), now=T0 + 21 * DAY)
    assert fresh(member).points_balance == 0
    assert Purchase.objects.get(pk=purchase.pk).status == "returned"
    assert_consistent()


def test_reversal_never_goes_below_zero_and_records_the_shortfall(member):
    purchase = buy(member, "100")
    purchases_confirm_due(now=T0 + 15 * DAY)
    ledger.points_debit(member=member, points=90, kind="redeem", description="reward", idempotency_key="r1")
    ret, _ = purchase_return(order_id=purchase.order_id, return_id="R1", amount=Decimal("100"), now=T0 + 16 * DAY)
    entry = LedgerEntry.objects.get(kind="reversal")
    assert (entry.points, entry.shortfall, ret.shortfall) == (-10, 90, 90)
    assert fresh(member).points_balance == 0
    assert_consistent()


def test_returns_are_idempotent_by_return_id(member):
    purchase = buy(member, "100")
    first, _ = purchase_return(order_id=purchase.order_id, return_id="R1", amount=Decimal("10"), now=T0)
    again, created = purchase_return(order_id=purchase.order_id, return_id="R1", amount=Decimal("10"), now=T0)
    assert not created and again.pk == first.pk
    assert fresh(member).pending_points == 90
    with pytest.raises(ReturnConflict):
        purchase_return(order_id=purchase.order_id, return_id="R1", amount=Decimal("20"), now=T0)


def test_returning_more_than_was_bought_is_refused(member):
    purchase = buy(member, "100")
    purchase_return(order_id=purchase.order_id, return_id="R1", amount=Decimal("60"), now=T0)
    with pytest.raises(ReturnExceedsPurchase):
        purchase_return(order_id=purchase.order_id, return_id="R2", amount=Decimal("40.01"), now=T0)
    assert fresh(member).pending_points == 40


# ------------------------------------------------------------------------------------------- debit, lots
def test_debits_consume_the_oldest_lots_first(member):
    ledger.points_credit(member=member, points=100, kind="bonus", description="a", idempotency_key="a",
                         now=T0, expires_at=T0 + 300 * DAY)
    ledger.points_credit(member=member, points=100, kind="bonus", description="b", idempotency_key="b",
                         now=T0, expires_at=T0 + 100 * DAY)
    ledger.points_debit(member=member, points=150, kind="redeem", description="r", idempotency_key="r",
                        now=T0 + DAY)  # both lots still valid then
    lots = {lot.entry.idempotency_key: lot.remaining for lot in PointsLot.objects.select_related("entry")}
    assert lots == {"b": 0, "a": 50}


def test_debit_refuses_to_overdraw(member):
    ledger.points_credit(member=member, points=10, kind="bonus", description="a", idempotency_key="a")
    with pytest.raises(InsufficientPoints):
        ledger.points_debit(member=member, points=11, kind="redeem", description="r", idempotency_key="r")
    assert fresh(member).points_balance == 10
    assert LedgerEntry.objects.count() == 1


def test_ledger_calls_are_idempotent_by_key(member):
    a = ledger.points_credit(member=member, points=10, kind="bonus", description="a", idempotency_key="k")
    b = ledger.points_credit(member=member, points=10, kind="bonus", description="a", idempotency_key="k")
    assert a.pk == b.pk and fresh(member).points_balance == 10


def test_a_debit_replayed_after_the_balance_fell_returns_the_first_entry(member):
    ledger.points_credit(member=member, points=100, kind="bonus", description="a", idempotency_key="a", now=T0)
    first = ledger.points_debit(member=member, points=80, kind="redeem", description="r", idempotency_key="r",
                                now=T0)
    again = ledger.points_debit(member=member, points=80, kind="redeem", description="r", idempotency_key="r",
                                now=T0)  # 20 left: a new debit of 80 would be refused, the replay is not
    assert again.pk == first.pk and fresh(member).points_balance == 20
    assert LedgerEntry.objects.filter(kind="redeem").count() == 1
    assert_consistent()


def test_a_debit_never_spends_lots_past_their_date(member):
    ledger.points_credit(member=member, points=100, kind="bonus", description="old", idempotency_key="old",
                         now=T0, expires_at=T0 + 10 * DAY)
    ledger.points_credit(member=member, points=100, kind="bonus", description="new", idempotency_key="new",
                         now=T0, expires_at=T0 + 300 * DAY)
    later = T0 + 20 * DAY  # the first lot is past its date; the daily task has not expired it yet
    entry = ledger.points_debit(member=member, points=60, kind="redeem", description="r", idempotency_key="r",
                                now=later)
    assert [d.lot.entry.idempotency_key for d in entry.draws.select_related("lot__entry")] == ["new"]
    assert entry.balance_after == 140 and not LedgerEntry.objects.filter(kind="expire").exists()  # not in the way
    with pytest.raises(InsufficientPoints) as refused:  # 140 on the balance, 40 of them valid
        ledger.points_debit(member=member, points=100, kind="redeem", description="r2", idempotency_key="r2",
                            now=later)
    assert refused.value.balance == 40
    # In the way, the lot was expired as the daily task would have (kept: the refusal writes nothing else).
    assert LedgerEntry.objects.get(kind="expire").points == -100
    assert fresh(member).points_balance == 40
    assert_consistent()


def test_a_debit_with_nothing_in_the_way_is_one_statement_under_the_lock(member):
    from django.test.utils import CaptureQueriesContext

    ledger.points_credit(member=member, points=100, kind="bonus", description="a", idempotency_key="a", now=T0)
    with CaptureQueriesContext(connection) as taken:
        ledger.points_debit(member=member, points=30, kind="redeem", description="r", idempotency_key="r", now=T0)
    assert len(taken.captured_queries) == 2  # the member's row lock, then the debit
    with transaction.atomic(), CaptureQueriesContext(connection) as locked:
        balance = Member.objects.select_for_update().values_list("points_balance", flat=True).get(pk=member.pk)
        ledger.points_debit(member=member, points=30, kind="redeem", description="r2", idempotency_key="r2",
                            now=T0, locked_balance=balance)
    assert len(locked.captured_queries) == 2  # the caller's lock and the debit: no second lock
    assert fresh(member).points_balance == 40
    assert_consistent()


# ------------------------------------------------------------------------------------------------ expiry
def test_lots_expire_and_rerun_adds_nothing(member):
    buy(member, "30", at=T0 - 30 * DAY, now=T0)  # lot expires 12 months after the purchase
    ledger.points_credit(member=member, points=20, kind="bonus", description="later", idempotency_key="later",
                         now=T0 + 60 * DAY)
    when = T0 - 30 * DAY + timedelta(days=366)
    assert lots_expire_due(now=when) == 1
    assert lots_expire_due(now=when + DAY) == 0
    entry = LedgerEntry.objects.get(kind="expire")
    assert entry.points == -30
    assert fresh(member).points_balance == 20
    assert_consistent()


def test_expiry_never_when_months_is_zero(member, settings):
    settings.FIDELIO_POINTS_EXPIRY_MONTHS = 0
    ledger.points_credit(member=member, points=5, kind="bonus", description="x", idempotency_key="x")
    assert PointsLot.objects.get().expires_at is None
    assert lots_expire_due(now=T0 + timedelta(days=3650)) == 0


def test_expiry_notice_is_sent_once_30_days_ahead(member, django_capture_on_commit_callbacks):
    ledger.points_credit(member=member, points=40, kind="bonus", description="x", idempotency_key="x",
                         now=T0, expires_at=T0 + 40 * DAY)
    assert expiry_notices_send(now=T0) == 0  # 40 days ahead: not yet
    with django_capture_on_commit_callbacks(execute=True):
        assert expiry_notices_send(now=T0 + 15 * DAY) == 1
    assert len(mail.outbox) == 1
    assert "40 points expire soon" in mail.outbox[0].subject and mail.outbox[0].to == [member.email]
    with django_capture_on_commit_callbacks(execute=True):
        assert expiry_notices_send(now=T0 + 16 * DAY) == 0
    assert len(mail.outbox) == 1


# ------------------------------------------------------------------------------------------- adjustments
def test_staff_adjustment_needs_a_reason_and_records_the_author(member):
    staff = UserFactory(is_staff=True)
    with pytest.raises(DomainError):
        points_adjust(member=member, points=10, reason="  ", author=staff)
    entry = points_adjust(member=member, points=25, reason="Goodwill for a late parcel", author=staff)
    assert entry.author == staff and entry.kind == "adjust" and "late parcel" in entry.description
    debit = points_adjust(member=member, points=-5, reason="Duplicate credit", author=staff)
    assert debit.points == -5 and fresh(member).points_balance == 20
    with pytest.raises(InsufficientPoints):
        points_adjust(member=member, points=-21, reason="too much", author=staff)


def test_welcome_bonus_on_sign_up(settings):
    settings.FIDELIO_WELCOME_BONUS = 75
    member = MemberFactory()
    entry = LedgerEntry.objects.get(member=member)
    assert (entry.kind, entry.points, fresh(member).points_balance) == ("bonus", 75, 75)


# ------------------------------------------------------------------------------------------ append-only
def test_the_database_refuses_to_change_or_delete_ledger_rows(member):
    entry = ledger.points_credit(member=member, points=5, kind="bonus", description="x", idempotency_key="x")
    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(points=500)
    with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises((IntegrityError, InternalError)), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE loyalty_ledgerentry SET description = 'edited'")
    assert LedgerEntry.objects.get(pk=entry.pk).points == 5


def test_check_ledger_passes_and_catches_tampering(member, capsys):
    buy(member, "10", at=T0 - 30 * DAY, now=T0)
    call_command("check_ledger")
    assert "consistent" in capsys.readouterr().out
    Member.objects.filter(pk=member.pk).update(points_balance=999)
    with pytest.raises(SystemExit) as exc:
        call_command("check_ledger")
    assert exc.value.code == 1
    assert "balance 999" in capsys.readouterr().err
