"""Property-based: whatever happens, the balance is the sum of the ledger, never negative, and no lot is
over-consumed (ledger_mismatches finds nothing; the CHECK constraints never fire).

Every path that spends points goes through the one debit (`loyalty.ledger.points_debit`) and is exercised
here through its real caller: a reward redemption (`rewards.services.reward_redeem`, also replayed with the same
Idempotency-Key), a staff deduction (`points_adjust`), a return after the return window (`purchase_return`), a
reversal of a credit (`points_reverse`); and the paths that give points back: a cancelled voucher and a reversed
debit. Time passes with or without the daily tasks, so debits meet lots that are past their date but not yet
expired by the task: they must never be spent.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from loyalty import ledger
from loyalty.exceptions import InsufficientPoints, ReturnExceedsPurchase
from loyalty.models import LedgerEntry, LotDraw, PointsLot, Purchase
from loyalty.selectors import ledger_mismatches, qualifying_figures
from loyalty.services import lots_expire_due, points_adjust, purchase_return, purchases_confirm_due
from members.models import Member
from members.services import tier_for_figures
from rewards.exceptions import VoucherExpired
from rewards.models import Redemption, Voucher
from rewards.services import reward_redeem, voucher_cancel
from tests.factories import RewardFactory, ShopMemberFactory, UserFactory
from tests.loyalty.conftest import T0, buy

pytestmark = pytest.mark.django_db

REWARD_COSTS = (1, 40, 250, 600)

ops = st.lists(
    st.one_of(
        st.tuples(st.just("buy"), st.integers(1, 50_000), st.booleans()),
        st.tuples(st.just("return"), st.integers(0, 20), st.integers(1, 100)),
        st.tuples(st.just("advance"), st.integers(0, 120), st.booleans()),
        st.tuples(st.just("redeem"), st.integers(0, len(REWARD_COSTS) - 1)),
        st.tuples(st.just("replay"), st.integers(0, 20)),
        st.tuples(st.just("cancel"), st.integers(0, 20)),
        st.tuples(st.just("adjust"), st.integers(-300, 300).filter(bool)),
        st.tuples(st.just("grant"), st.integers(1, 700), st.integers(1, 90)),
        st.tuples(st.just("reverse"), st.integers(0, 30)),
    ),
    min_size=1,
    max_size=25,
)


@pytest.fixture(autouse=True)
def _short_expiry(settings):
    """Lots expire two months after they are earned, so the advancing clock often meets them."""
    settings.FIDELIO_POINTS_EXPIRY_MONTHS = 2


def _balance(member) -> int:
    return Member.objects.get(pk=member.pk).points_balance


def _spendable(member, now) -> int:
    """What the member's lots hold that is not past its date."""
    return sum(PointsLot.objects.filter(member=member, remaining__gt=0).exclude(expires_at__lte=now)
               .values_list("remaining", flat=True))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(ops)
# Cases the generator meets only now and then, always run: a redemption refused although the balance covers
# it (the points are past their date, the daily task has not run); one paid from the fresh lot only; a replay
# after the balance fell below the cost; a cancellation after one of the drawn lots expired; a return taking
# back confirmed points from a short balance.
@example([("grant", 300, 10), ("advance", 20, False), ("redeem", 2)])
@example([("grant", 300, 10), ("grant", 600, 90), ("advance", 20, False), ("redeem", 3), ("cancel", 0)])
@example([("grant", 300, 90), ("redeem", 2), ("adjust", -50), ("replay", 0)])
@example([("grant", 300, 10), ("grant", 100, 90), ("redeem", 2), ("advance", 20, False), ("cancel", 0)])
@example([("buy", 20_000, True), ("advance", 0, True), ("redeem", 2), ("return", 0, 100), ("reverse", 0)])
def test_balance_is_always_the_sum_of_the_ledger(tiers, sequence):
    member = ShopMemberFactory()
    staff = UserFactory(is_staff=True) if any(op[0] == "adjust" for op in sequence) else None
    rewards = {}
    keys: list[tuple[str, int]] = []  # (idempotency key, redemption id) of the member's redemptions
    now = T0
    for step, op in enumerate(sequence, start=1):
        kind = op[0]
        before = _balance(member)
        if kind == "buy":
            buy(member, Decimal(op[1]) / 100, at=now - timedelta(days=30) if op[2] else now, now=now)
        elif kind == "return":
            purchases = list(Purchase.objects.filter(member=member).order_by("pk"))
            if purchases:
                p = purchases[op[1] % len(purchases)]
                left = p.amount - p.returned_amount
                amount = (left * op[2] / 100).quantize(Decimal("0.01"))
                if amount > 0:
                    try:
                        purchase_return(order_id=p.order_id, source=p.source, return_id=f"r{member.pk}-{step}",
                                        amount=amount, now=now)
                    except ReturnExceedsPurchase:
                        pytest.fail("a return within the remaining amount was refused")
        elif kind == "advance":
            now += timedelta(days=op[1])
            if op[2]:  # the daily tasks ran; otherwise lots past their date wait for the next debit or task
                purchases_confirm_due(now=now)
                lots_expire_due(now=now)
        elif kind == "redeem":
            cost = REWARD_COSTS[op[1]]
            if cost not in rewards:
                rewards[cost] = RewardFactory(cost_points=cost, voucher_valid_days=30)
            key = f"k{step}"
            try:
                redemption, created = reward_redeem(member_id=member.pk, reward_id=rewards[cost].pk, source="portal",
                                                    idempotency_scope=f"member:{member.pk}", idempotency_key=key,
                                                    now=now)
            except InsufficientPoints:
                # Refused: nothing spendable covers the cost (the balance may still hold points past their date).
                assert _spendable(member, now) < cost
                assert _balance(member) == before  # a refused redemption writes nothing, expiry included
                event("redemption refused" + (" (lots past their date in the balance)" if before >= cost else ""))
            else:
                assert created and redemption.points_spent == cost
                assert _balance(member) == before - cost
                keys.append((key, redemption.pk))
                event("redemption made")
        elif kind == "replay":
            if keys:
                key, redemption_id = keys[op[1] % len(keys)]
                reward_id = Redemption.objects.get(pk=redemption_id).reward_id
                redemption, created = reward_redeem(member_id=member.pk, reward_id=reward_id, source="portal",
                                                    idempotency_scope=f"member:{member.pk}", idempotency_key=key,
                                                    now=now)
                assert (redemption.pk, created) == (redemption_id, False)
                assert _balance(member) == before  # the same key again spends nothing
                event("redemption replayed")
        elif kind == "cancel":
            vouchers = list(Voucher.objects.filter(member=member, status=Voucher.Status.ISSUED).order_by("pk"))
            if vouchers:
                voucher = vouchers[op[1] % len(vouchers)]
                try:
                    voucher_cancel(voucher_id=voucher.pk, member_id=member.pk, reason="property test", now=now)
                except VoucherExpired:
                    assert voucher.expires_at <= now
                else:
                    assert _balance(member) >= before  # points come back into lots still valid, or not at all
                    event("voucher cancelled")
        elif kind == "grant":  # a bonus that expires in op[2] days
            ledger.points_credit(member=member, points=op[1], kind="bonus", description="bonus",
                                 idempotency_key=f"grant:{member.pk}:{step}", expires_at=now + timedelta(days=op[2]),
                                 now=now)
        elif kind == "adjust":
            try:
                points_adjust(member=member, points=op[1], reason="property test", author=staff, now=now)
            except InsufficientPoints:
                assert op[1] < 0 and _spendable(member, now) < -op[1]
                assert _balance(member) == before  # a refused deduction writes nothing, expiry included
        elif kind == "reverse":
            # Redemptions are given back by cancelling their voucher (above); a second reversal replays the first.
            entries = list(LedgerEntry.objects.filter(member=member, reverses__isnull=True).exclude(points=0)
                           .exclude(kind__in=["expire", "reversal", "redeem"]).order_by("pk"))
            if entries:
                entry = entries[op[1] % len(entries)]
                ledger.points_reverse(entry=entry, description="undo", idempotency_key=f"undo:{entry.pk}", now=now)

        m = Member.objects.get(pk=member.pk)
        total = sum(LedgerEntry.objects.filter(member=member).values_list("points", flat=True))
        lots = sum(PointsLot.objects.filter(member=member).values_list("remaining", flat=True))
        assert m.points_balance == total == lots >= 0
        pending = sum(Purchase.objects.filter(member=member, confirmed_at__isnull=True)
                      .values_list("points_pending", flat=True))
        assert m.pending_points == pending >= 0
        # Tiers rise at once: whatever the post skipped reading (members out of reach of every higher tier),
        # the member is never below the tier their figures qualify for (only the period end lowers a tier).
        qualified = tier_for_figures(figures=qualifying_figures(member_id=member.pk, now=now), basis="points")
        assert (m.tier.rank if m.tier else 0) >= (qualified.rank if qualified else 0)
    assert ledger_mismatches() == {"members": [], "lots": []}
    # Every debit took from its lots exactly what it recorded, and never from a lot past its date.
    for entry in LedgerEntry.objects.filter(member=member, points__lt=0).exclude(kind="expire"):
        draws = list(LotDraw.objects.filter(entry=entry).select_related("lot"))
        assert sum(d.points for d in draws) == -entry.points
        assert all(d.lot.expires_at is None or d.lot.expires_at > entry.created_at for d in draws)
