"""Returns: points taken back in proportion to the amount returned, once per (source, return id).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.exceptions import DomainError
from loyalty import ledger
from loyalty.exceptions import PurchaseNotFound, ReturnConflict, ReturnExceedsPurchase
from loyalty.models import LedgerEntry, Purchase, Return
from loyalty.services.purchases import pending_points_change
from loyalty.signals import purchase_returned, send_after_commit
from members.models import Member

Kind = LedgerEntry.Kind
CENT = Decimal("0.01")


def _return_hash(purchase: Purchase, amount: Decimal) -> str:
    return hashlib.sha256(f"{purchase.pk}|{amount.quantize(CENT)}".encode()).hexdigest()


@transaction.atomic
def purchase_return(*, order_id: str, return_id: str, amount: Decimal, source: str = "",
                    now: datetime | None = None) -> tuple[Return, bool]:
    """Take back points in proportion to the amount returned. Idempotent by (source, return id).

    Inside the return window the pending points shrink; after it a `reversal` entry takes the points
    back, never below a zero balance (the shortfall is recorded on the entry and the return).
    """
    now = now or timezone.now()
    source = source or settings.FIDELIO_DEFAULT_SOURCE
    amount = amount.quantize(CENT)
    if amount <= 0:
        raise DomainError(_("The amount must be greater than zero."), field="amount", code="invalid_amount")
    ref = Purchase.objects.filter(source=source, order_id=order_id).values_list("pk", "member_id").first()
    if ref is None:
        raise PurchaseNotFound(_("No purchase with order id %(order_id)s.") % {"order_id": repr(order_id)},
                               field="order_id")
    member = Member.objects.select_for_update().get(pk=ref[1])
    purchase = Purchase.objects.select_for_update().get(pk=ref[0])
    digest = _return_hash(purchase, amount)

    existing = Return.objects.filter(source=source, return_id=return_id).first()
    if existing is not None:
        if existing.request_hash != digest:
            raise ReturnConflict(_("Return %(return_id)s was already posted with different details.")
                                 % {"return_id": repr(return_id)}, field="return_id")
        return existing, False
    returned = purchase.returned_amount + amount
    if returned > purchase.amount:
        raise ReturnExceedsPurchase(
            _("Returning %(amount)s would bring returns to %(returned)s, more than the purchase's %(purchase)s.")
            % {"amount": amount, "returned": returned, "purchase": purchase.amount},
            field="amount",
        )
    target = (
        purchase.points_earned if returned == purchase.amount
        else int((purchase.points_earned * returned / purchase.amount).to_integral_value(rounding=ROUND_DOWN))
    )
    delta = max(0, target - purchase.points_reversed)
    record = Return.objects.create(purchase=purchase, source=source, return_id=return_id, amount=amount,
                                   points_reversed=delta, request_hash=digest, created_at=now)
    pending_taken = 0
    if delta and purchase.confirmed_at is None:
        pending_taken = min(delta, purchase.points_pending)
        pending_points_change(member_id=member.pk, delta=-pending_taken)
    elif delta:
        earn = LedgerEntry.objects.filter(idempotency_key=f"earn:purchase:{purchase.pk}").first()
        entry = ledger.points_debit(
            member=member, points=delta, kind=Kind.REVERSAL, allow_partial=True, purchase=purchase,
            return_record=record, reverses=earn, prefer_lot_of=earn, now=now,
            reference=f"return:{source}:{return_id}", idempotency_key=f"reversal:return:{record.pk}",
            description=f"Return {return_id} of order {order_id}: {amount} {purchase.currency} → -{delta} points",
        )
        if entry.shortfall:
            Return.objects.filter(pk=record.pk).update(shortfall=entry.shortfall)
            record.shortfall = entry.shortfall
    status = Purchase.Status.RETURNED if returned == purchase.amount else Purchase.Status.PARTLY_RETURNED
    Purchase.objects.filter(pk=purchase.pk).update(
        returned_amount=returned, points_reversed=purchase.points_reversed + delta,
        points_pending=purchase.points_pending - pending_taken, status=status,
    )
    if purchase.confirmed_at is not None:  # only confirmed purchases are announced (and count for challenges)
        purchase.returned_amount = returned
        send_after_commit(purchase_returned, purchase=purchase, now=now)
    return record, True


