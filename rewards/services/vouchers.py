"""Vouchers: checked and used at the shop's checkout, cancelled (points and stock come back), expired daily."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from config.exceptions import DomainError
from loyalty import ledger
from loyalty.models import LedgerEntry
from members.models import Member
from rewards.exceptions import (
    InvalidVoucherCode,
    VoucherCancelled,
    VoucherExpired,
    VoucherNotFound,
    VoucherUsed,
)
from rewards.models import CODE_ALPHABET, CODE_LENGTH, Reward, Voucher

if TYPE_CHECKING:
    from members.models import User

log = logging.getLogger(__name__)

_CODE_INPUT_RE = re.compile(r"[A-Za-z0-9 -]{1,64}")


def voucher_code_normalise(code: str) -> str:
    """Accept what a cashier or shopper types: any case, with dashes or spaces. Odd characters or more than
    64 characters are refused (400); anything else that is not a voucher is simply not found (404)."""
    if not isinstance(code, str) or not _CODE_INPUT_RE.fullmatch(code):
        raise InvalidVoucherCode(field="code")
    return code.replace("-", "").replace(" ", "").upper()


def _voucher_locked(code: str) -> Voucher:
    normalised = voucher_code_normalise(code)
    if len(normalised) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in normalised):
        raise VoucherNotFound()
    voucher = (Voucher.objects.select_for_update(of=("self",)).select_related("reward")
               .filter(code=normalised).first())
    if voucher is None:
        raise VoucherNotFound()
    return voucher


def voucher_use(*, code: str, order_id: str, now: datetime | None = None) -> tuple[Voucher, bool]:
    """Mark a voucher used for an order at the shop's checkout. The same order again returns the voucher
    (created False); another order raises VoucherUsed. Cancelled → VoucherCancelled, expired → VoucherExpired."""
    now = now or timezone.now()
    with transaction.atomic(savepoint=False):
        try:
            return _use(code=code, order_id=order_id, now=now)
        except DomainError as exc:  # refusals write nothing; raised outside the block
            refusal = exc
    raise refusal


def _use(*, code: str, order_id: str, now: datetime) -> tuple[Voucher, bool]:
    voucher = _voucher_locked(code)
    if voucher.status == Voucher.Status.USED:
        if voucher.used_order_id == order_id:
            return voucher, False
        raise VoucherUsed(_("This voucher was used for another order on %(date)s.")
                          % {"date": f"{voucher.used_at:%Y-%m-%d}"})
    if voucher.status == Voucher.Status.CANCELLED:
        raise VoucherCancelled()
    if voucher.is_expired(now):
        raise VoucherExpired(_("This voucher expired on %(date)s.") % {"date": f"{voucher.expires_at:%Y-%m-%d}"})
    Voucher.objects.filter(pk=voucher.pk).update(status=Voucher.Status.USED, used_at=now, used_order_id=order_id)
    voucher.status, voucher.used_at, voucher.used_order_id = Voucher.Status.USED, now, order_id
    return voucher, True


def voucher_check(*, code: str) -> Voucher:
    """The voucher for a code, for a checkout that wants to show it before using it (no lock, no write)."""
    normalised = voucher_code_normalise(code)
    voucher = Voucher.objects.select_related("reward").filter(code=normalised).first()
    if voucher is None:
        raise VoucherNotFound()
    return voucher


# ------------------------------------------------------------------------------------------------ cancel
def voucher_cancel(*, voucher_id: int, reason: str, member_id: int | None = None, by: User | None = None,
                   now: datetime | None = None) -> Voucher:
    """Cancel an unused voucher: its points come back (into the lots they were taken from, so they expire no
    later than before) and its unit of stock returns. `member_id` restricts it to that member's vouchers
    (the member cancelling their own); staff pass `by` and a reason. Cancelling twice changes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        owner = Voucher.objects.filter(pk=voucher_id).values_list("member_id", flat=True).first()
        if owner is None or (member_id is not None and owner != member_id):
            raise VoucherNotFound(_("No such voucher."))
        list(Member.objects.select_for_update().filter(pk=owner).values_list("pk", flat=True))
        voucher = Voucher.objects.select_for_update().select_related("redemption", "reward").get(pk=voucher_id)
        if voucher.status == Voucher.Status.CANCELLED:
            return voucher
        if voucher.status == Voucher.Status.USED:
            raise VoucherUsed(_("A used voucher cannot be cancelled."))
        if voucher.is_expired(now):
            raise VoucherExpired(_("An expired voucher cannot be cancelled."))
        Voucher.objects.filter(pk=voucher.pk).update(status=Voucher.Status.CANCELLED, cancelled_at=now,
                                                     cancel_reason=reason[:500], cancelled_by=by)
        Reward.objects.filter(pk=voucher.reward_id, stock__isnull=False).update(stock=F("stock") + 1)
        entry_id = voucher.redemption.ledger_entry_id
        if entry_id is not None:
            ledger.points_reverse(
                entry=LedgerEntry.objects.get(pk=entry_id), author=by, now=now,
                description=f"Voucher {voucher.code_display} cancelled" + (f": {reason}" if reason else ""),
                idempotency_key=f"cancel:voucher:{voucher.pk}",
            )
        voucher.refresh_from_db()
    return voucher


# ------------------------------------------------------------------------------------------------ periodic
def vouchers_expire_due(*, now: datetime | None = None) -> int:
    """Mark issued vouchers past their expiry as expired, in one statement. Safe to re-run."""
    now = now or timezone.now()
    return Voucher.objects.filter(status=Voucher.Status.ISSUED, expires_at__lte=now).update(
        status=Voucher.Status.EXPIRED
    )




def vouchers_cancel_on_erasure(*, member: Member, now: datetime, **kwargs: object) -> int:
    """members' `member_erasing`: the member's unused vouchers are cancelled (points and stock come back, as
    for any cancellation), so that no code stays valid for an account that no longer exists."""
    unused = Voucher.objects.filter(member=member, status=Voucher.Status.ISSUED).exclude(expires_at__lte=now)
    ids = list(unused.values_list("pk", flat=True))
    for voucher_id in ids:
        voucher_cancel(voucher_id=voucher_id, reason="account deleted", now=now)
    return len(ids)
