"""Purchases: the input, recording once per (source, order id), confirmation when the return window ends,
referral bonuses on a first confirmed purchase. Points move only through `loyalty.ledger`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from config.batches import ids_in_batches
from config.exceptions import DomainError
from config.sql import fetch_one
from loyalty import ledger
from loyalty.exceptions import OrderConflict
from loyalty.models import LedgerEntry, Purchase, PurchaseItem
from loyalty.offers import earn_offers_live, earn_offers_used
from loyalty.rules import Line, points_for_purchase
from loyalty.selectors import qualifying_figures
from loyalty.signals import purchase_confirmed, referral_confirmed, send_after_commit
from members.exceptions import MemberNotFound
from members.models import Member
from members.services import (
    referral_mark_rewarded,
    tier_upgrade_if_qualified,
    tier_upgrade_possible,
    tiers_ranked,
)

Kind = LedgerEntry.Kind
CENT = Decimal("0.01")


@dataclass(frozen=True)
class ItemIn:
    sku: str
    unit_price: Decimal
    quantity: int = 1
    name: str = ""
    category: str = ""


@dataclass(frozen=True)
class PurchaseIn:
    member_id: int
    order_id: str
    amount: Decimal
    occurred_at: datetime
    currency: str = ""
    source: str = ""
    items: tuple[ItemIn, ...] = field(default_factory=tuple)

    def normalised(self) -> PurchaseIn:
        return PurchaseIn(
            member_id=self.member_id, order_id=self.order_id.strip(), amount=self.amount.quantize(CENT),
            occurred_at=self.occurred_at, currency=(self.currency or settings.FIDELIO_CURRENCY).upper(),
            source=self.source or settings.FIDELIO_DEFAULT_SOURCE, items=self.items,
        )

    def request_hash(self) -> str:
        """What makes two posts of one order "the same". The CSV import computes the same digest in SQL
        (loyalty.services.importer), so its format is fixed: member|order|amount|currency|UTC time|items JSON."""
        items = json.dumps(
            [[i.sku, i.name, i.category, i.quantity, str(i.unit_price.quantize(CENT))] for i in self.items]
        ) if self.items else ""
        moment = self.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        text = f"{self.member_id}|{self.order_id}|{self.amount.quantize(CENT)}|{self.currency}|{moment}|{items}"
        return hashlib.sha256(text.encode()).hexdigest()


def purchase_validate(data: PurchaseIn, *, now: datetime) -> None:
    """Rules a serializer cannot know: the program currency and the clock."""
    if data.currency != settings.FIDELIO_CURRENCY:
        raise DomainError(_("This program runs in %(currency)s; %(given)s is not accepted.")
                          % {"currency": settings.FIDELIO_CURRENCY, "given": data.currency},
                          field="currency", code="unsupported_currency")
    if data.occurred_at > now + timedelta(seconds=settings.FIDELIO_MAX_FUTURE_SECONDS):
        raise DomainError(_("occurred_at is in the future."), field="occurred_at", code="occurred_in_future")
    if data.amount <= 0:
        raise DomainError(_("The amount must be greater than zero."), field="amount", code="invalid_amount")


_LOCK_MEMBER = "SELECT id, tier_id, lifetime_points, pending_points FROM members_member WHERE id = %s FOR UPDATE"

# The purchase, once per (source, order id), and its pending points on the member; nothing comes back when the
# order exists (a replay or a conflict, decided by the caller). The purchase services own the pending counter
# (member.pending_points == SUM(points_pending) of unconfirmed purchases, `manage.py check_ledger`): pending
# points are promised by purchases inside their return window, not spendable and not in the ledger.
_PURCHASE_INSERT = """
WITH purchase AS (
    INSERT INTO loyalty_purchase (member_id, source, order_id, amount, currency, occurred_at, status, awards_points,
        points_earned, points_pending, points_reversed, returned_amount, confirm_after, confirmed_at,
        earn_breakdown, request_hash, created_at)
    VALUES (%(member)s, %(source)s, %(order)s, %(amount)s, %(currency)s, %(occurred_at)s, %(status)s,
            %(awards_points)s, %(points)s, %(points)s, 0, 0, %(confirm_after)s, NULL, %(breakdown)s, %(hash)s,
            %(now)s)
    ON CONFLICT (source, order_id) DO NOTHING
    RETURNING id
), pending AS (
    UPDATE members_member SET pending_points = pending_points + %(pending)s
    WHERE id = %(member)s AND %(pending)s <> 0 AND EXISTS (SELECT 1 FROM purchase)
)
SELECT id FROM purchase
"""

_PENDING_ADD_MANY = """
UPDATE members_member AS m SET pending_points = m.pending_points + v.delta
FROM unnest(%(ids)s::bigint[], %(deltas)s::int[]) AS v (id, delta) WHERE m.id = v.id
"""


def pending_points_change(*, member_id: int, delta: int) -> None:
    """Add (or, negative, remove) pending points. The caller holds the member's row lock (CHECK
    (pending_points >= 0) refuses going below zero)."""
    if delta:
        Member.objects.filter(pk=member_id).update(pending_points=F("pending_points") + delta)


def pending_points_change_many(*, deltas: dict[int, int]) -> None:
    """Pending-point changes for many members in one UPDATE (the members locked in id order first)."""
    deltas = {pk: d for pk, d in deltas.items() if d}
    if not deltas:
        return
    list(Member.objects.select_for_update().filter(pk__in=deltas).order_by("pk").values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(_PENDING_ADD_MANY, {"ids": list(deltas), "deltas": list(deltas.values())})


def purchase_record(*, data: PurchaseIn, awards_points: bool = True, now: datetime | None = None
                    ) -> tuple[Purchase, bool]:
    """Record a purchase once per (source, order id). Returns (purchase, created).

    The same order with the same details again returns the first result and writes nothing; with other
    details it raises OrderConflict. Points are pending until the return window ends (confirmed at once
    when the window is 0 or already over for a back-dated purchase).

    Refusals are decided before anything is written and raised outside the transaction block, so the
    block needs no savepoint inside a request's transaction (two round trips fewer per purchase).
    """
    now = now or timezone.now()
    data = data.normalised()
    purchase_validate(data, now=now)
    digest = data.request_hash()
    with transaction.atomic(savepoint=False):
        # Lock only the member row (raw SQL: this is the hottest query); its tier comes from the memoised
        # tier list (no join).
        with connection.cursor() as cursor:
            cursor.execute(_LOCK_MEMBER, [data.member_id])
            row = fetch_one(cursor)
        member = None
        if row is not None:
            member = Member(pk=row["id"], tier_id=row["tier_id"], lifetime_points=row["lifetime_points"],
                            pending_points=row["pending_points"])
            member._state.adding = False
            member.tier = next((t for t in tiers_ranked() if t.pk == row["tier_id"]), None)
        if member is None:
            purchase, created = None, False
        else:
            purchase, created = _record_locked(member, data, digest, awards_points=awards_points, now=now)
    if member is None or purchase is None:  # purchase is None only when member is
        raise MemberNotFound(field="member")
    if not created:
        return _replayed(purchase, digest), False
    return purchase, True


def _record_locked(member: Member, data: PurchaseIn, digest: str, *, awards_points: bool, now: datetime
                   ) -> tuple[Purchase, bool]:
    offers_used: dict[int, int] = {}
    if awards_points:
        tier = member.tier
        points, breakdown = points_for_purchase(
            amount=data.amount, occurred_at=data.occurred_at,
            tier_multiplier=tier.earn_multiplier if tier else Decimal("1"), tier_name=tier.name if tier else "",
            items=[Line(i.sku, i.category, i.quantity, i.unit_price) for i in data.items],
            offers=earn_offers_live(member_ids=[member.pk]).get(member.pk),
            offers_used=offers_used,
        )
    else:
        points, breakdown = 0, "history import: no points"
    confirm_after = data.occurred_at + timedelta(days=settings.FIDELIO_RETURN_WINDOW_DAYS)
    purchase = Purchase(
        member=member, source=data.source, order_id=data.order_id, amount=data.amount,
        currency=data.currency, occurred_at=data.occurred_at, awards_points=awards_points,
        points_earned=points, points_pending=points, confirm_after=confirm_after,
        earn_breakdown=breakdown, request_hash=digest, created_at=now,
    )
    at_once = confirm_after <= now
    with connection.cursor() as cursor:
        cursor.execute(_PURCHASE_INSERT, {
            "member": member.pk, "source": data.source, "order": data.order_id, "amount": data.amount,
            "currency": data.currency, "occurred_at": data.occurred_at, "status": purchase.status,
            "awards_points": awards_points, "points": points, "confirm_after": confirm_after,
            "breakdown": breakdown, "hash": digest, "now": now, "pending": 0 if at_once else points,
        })
        row = fetch_one(cursor)
    if row is None:  # the (source, order id) exists: a replay or a conflict, decided by the caller
        return Purchase.objects.get(source=data.source, order_id=data.order_id), False
    purchase.pk = row["id"]
    # Only for a purchase recorded now, not a replay: one use of each offer that added points, and those points.
    earn_offers_used(counts={key: (1, points) for key, points in offers_used.items()})
    if data.items:
        PurchaseItem.objects.bulk_create(
            PurchaseItem(purchase=purchase, sku=i.sku, name=i.name, category=i.category, quantity=i.quantity,
                         unit_price=i.unit_price)
            for i in data.items
        )
    if at_once:
        categories = tuple(sorted({i.category for i in data.items if i.category}))
        _confirm(purchase, member=member, now=now, was_pending=False, categories=categories)
    # Upgrades are the only reason to read the member's tier-window figures (an aggregate over their purchases,
    # under the member's row lock), so a post reads them only when an upgrade is possible: a member at the top
    # tier cannot move up, and on the points basis no window can hold more purchase points than the member ever
    # earned (lifetime) plus those still pending plus this purchase's, so a member that far from every higher
    # threshold cannot either. The aggregate sees this purchase (same transaction).
    most = (member.lifetime_points + member.pending_points + points
            if settings.FIDELIO_TIER_BASIS == "points" else None)
    if awards_points and tier_upgrade_possible(tier=member.tier, basis=settings.FIDELIO_TIER_BASIS, most=most):
        figures = qualifying_figures(member_id=member.pk, now=now)
        tier_upgrade_if_qualified(member=member, figures=figures, basis=settings.FIDELIO_TIER_BASIS, now=now)
    return purchase, True


def _replayed(existing: Purchase, digest: str) -> Purchase:
    if existing.request_hash != digest:
        raise OrderConflict(
            _("Order %(order_id)s was already posted with different details.") % {"order_id": repr(existing.order_id)},
            field="order_id",
        )
    return existing


def _confirm(purchase: Purchase, *, member: Member, now: datetime, was_pending: bool = True,
             categories: tuple[str, ...] | None = None) -> None:
    """Turn the purchase's pending points into an `earn` entry and pay referral bonuses if it is the first."""
    points = purchase.points_pending
    if was_pending and points:
        pending_points_change(member_id=member.pk, delta=-points)
    if points:
        ledger.points_credit(
            member=member, points=points, kind=Kind.EARN, purchase=purchase,
            description=f"Order {purchase.order_id}: {purchase.earn_breakdown}",
            reference=f"purchase:{purchase.source}:{purchase.order_id}",
            idempotency_key=f"earn:purchase:{purchase.pk}",
            expires_at=ledger.lot_expiry(earned_at=purchase.occurred_at), now=now,
        )
    status = purchase.status if purchase.status != Purchase.Status.PENDING else Purchase.Status.CONFIRMED
    Purchase.objects.filter(pk=purchase.pk).update(points_pending=0, confirmed_at=now, status=status)
    purchase.points_pending, purchase.confirmed_at, purchase.status = 0, now, status
    if purchase.returned_amount < purchase.amount:
        referral_reward_pay(member, now=now)
        send_after_commit(purchase_confirmed, purchase=purchase, tier_id=member.tier_id, categories=categories,
                          now=now)


def referral_reward_pay(member: Member, *, now: datetime) -> None:
    referrer_id, member_number = Member.objects.filter(pk=member.pk).values_list(
        "referred_by_id", "member_number").get()
    if referrer_id is None or not referral_mark_rewarded(member=member, now=now):
        return
    for who, points, key in (
        (referrer_id, settings.FIDELIO_REFERRAL_BONUS_REFERRER, f"referral:{member.pk}:referrer"),
        (member.pk, settings.FIDELIO_REFERRAL_BONUS_REFERRED, f"referral:{member.pk}:referred"),
    ):
        if points > 0:
            ledger.points_credit(
                member=who, points=points, kind=Kind.REFERRAL, idempotency_key=key, now=now,
                reference=f"referral:{member_number}",
                description="Referral bonus: "
                + ("a friend you invited made their first purchase" if who == referrer_id
                   else "welcome gift for joining through a friend"),
            )
    send_after_commit(referral_confirmed, referrer_id=referrer_id, referred_id=member.pk, occurred_at=now, now=now)


@transaction.atomic
def purchase_confirm(*, purchase_id: int, now: datetime) -> bool:
    """Confirm one purchase whose return window is over. True if this call confirmed it."""
    member_id = Purchase.objects.filter(pk=purchase_id).values_list("member_id", flat=True).first()
    if member_id is None:
        return False
    member = Member.objects.select_for_update().get(pk=member_id)
    purchase = Purchase.objects.select_for_update().get(pk=purchase_id)
    if purchase.confirmed_at is not None or purchase.confirm_after > now:
        return False
    _confirm(purchase, member=member, now=now)
    return True


def purchases_confirm_due(*, now: datetime | None = None, batch: int = 500) -> int:
    """Confirm every purchase past its return window. Safe to re-run; each purchase in its own transaction."""
    now = now or timezone.now()
    due = Purchase.objects.filter(confirmed_at__isnull=True, confirm_after__lte=now)
    return sum(purchase_confirm(purchase_id=pk, now=now) for pk in ids_in_batches(due, batch))


