"""Property-based: whatever happens, the balance is the sum of the ledger, never negative, and no lot is
over-consumed (ledger_mismatches finds nothing; the CHECK constraints never fire)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty import ledger
from loyalty.exceptions import InsufficientPoints, ReturnExceedsPurchase
from loyalty.models import LedgerEntry, PointsLot, Purchase
from loyalty.selectors import ledger_mismatches
from loyalty.services import lots_expire_due, points_adjust, purchase_return, purchases_confirm_due
from members.models import Member
from tests.factories import ShopMemberFactory, UserFactory
from tests.loyalty.conftest import T0, buy

pytestmark = pytest.mark.django_db

ops = st.lists(
    st.one_of(
        st.tuples(st.just("buy"), st.integers(1, 50_000), st.booleans()),
        st.tuples(st.just("return"), st.integers(0, 20), st.integers(1, 100)),
        st.tuples(st.just("advance"), st.integers(0, 400)),
        st.tuples(st.just("redeem"), st.integers(1, 600)),
        st.tuples(st.just("adjust"), st.integers(-300, 300).filter(bool)),
        st.tuples(st.just("reverse"), st.integers(0, 30)),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(ops)
def test_balance_is_always_the_sum_of_the_ledger(sequence):
    member = ShopMemberFactory()
    staff = UserFactory(is_staff=True) if any(op[0] == "adjust" for op in sequence) else None
    now = T0
    for step, op in enumerate(sequence, start=1):
        kind = op[0]
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
            purchases_confirm_due(now=now)
            lots_expire_due(now=now)
        elif kind == "redeem":
            try:
                ledger.points_debit(member=member, points=op[1], kind="redeem", description="reward",
                                    idempotency_key=f"redeem:{member.pk}:{step}", now=now)
            except InsufficientPoints:
                assert Member.objects.get(pk=member.pk).points_balance < op[1]
        elif kind == "adjust":
            try:
                points_adjust(member=member, points=op[1], reason="property test", author=staff)
            except InsufficientPoints:
                assert Member.objects.get(pk=member.pk).points_balance < -op[1]
        elif kind == "reverse":
            entries = list(LedgerEntry.objects.filter(member=member, reverses__isnull=True).exclude(points=0)
                           .exclude(kind__in=["expire", "reversal"]).order_by("pk"))
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
    assert ledger_mismatches() == {"members": [], "lots": []}
