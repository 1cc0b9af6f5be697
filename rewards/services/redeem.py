"""Redeeming a reward: spend the member's points (loyalty.ledger.points_debit) and issue a voucher, once per
idempotency key. The one insert of redemptions and their vouchers (paid, birthday, challenge) lives here.

Lock order, the same in every writer so that no two transactions wait on each other in a cycle: the member
row, then the reward row (stock), then the idempotency key (the redemption's unique index), the voucher and
the member's lots (loyalty.ledger).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from config.exceptions import DomainError
from config.sql import fetch_one, fetch_row
from loyalty import ledger
from loyalty.models import LedgerEntry
from members.exceptions import MemberNotFound
from rewards.exceptions import (
    IdempotencyConflict,
    InsufficientPoints,
    LimitReached,
    NotAvailable,
    OutOfStock,
    RewardNotFound,
    TierRequired,
)
from rewards.models import Redemption, Reward, Voucher, voucher_code_new

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

def redemption_request_hash(member_id: int, reward_id: int) -> str:
    return hashlib.sha256(f"{member_id}|{reward_id}".encode()).hexdigest()


def _limit_used(*, member_id: int, reward: Reward, now: datetime) -> int:
    qs = Redemption.objects.filter(member_id=member_id, reward=reward).exclude(
        voucher__status=Voucher.Status.CANCELLED
    )
    if reward.limit_period_days:
        qs = qs.filter(created_at__gt=now - timedelta(days=reward.limit_period_days))
    return qs.count()


class _KeyTaken(Exception):
    """A concurrent request with the same idempotency key committed first: answer with its redemption."""


class _CodeClash(Exception):
    """The drawn voucher code exists already (about one in 10^17): roll back and draw again."""


# One round trip: the member's row lock with their balance and tier, the reward (with its minimum tier) and
# whether this (scope, key) has a redemption already. No row: no such member.
_LOCK_AND_LOOK_UP = """
SELECT m.points_balance, mt.rank AS member_tier_rank,
       r.id AS reward_id, r.name, r.kind, r.value, r.cost_points, r.stock, r.limit_per_member, r.limit_period_days,
       r.available_from, r.available_until, r.voucher_valid_days, r.is_birthday_reward, r.is_active,
       r.minimum_tier_id, rt.rank AS tier_rank, rt.name AS tier_name, x.id AS redemption_id
FROM members_member m
LEFT JOIN members_tier mt ON mt.id = m.tier_id
LEFT JOIN rewards_reward r ON r.id = %(reward)s
LEFT JOIN members_tier rt ON rt.id = r.minimum_tier_id
LEFT JOIN rewards_redemption x ON x.idempotency_scope = %(scope)s AND x.idempotency_key = %(key)s
WHERE m.id = %(member)s
FOR UPDATE OF m
"""

# THE insert of redemptions and vouchers (paid, birthday and challenge ones): the redemption once per
# (scope, key) — ON CONFLICT waits for a concurrent request with the same key, then does nothing — and its
# voucher with it. No redemption row comes back when the key was taken; no voucher row when the drawn code
# exists already (about one in 10^17): the caller rolls back and draws again.
_ISSUE = """
WITH redemption AS (
    INSERT INTO rewards_redemption (member_id, reward_id, points_spent, source, ledger_entry_id, idempotency_scope,
        idempotency_key, request_hash, created_at)
    VALUES (%(member)s, %(reward)s, %(points)s, %(source)s, %(entry)s, %(scope)s, %(key)s, %(hash)s, %(now)s)
    ON CONFLICT (idempotency_scope, idempotency_key) DO NOTHING
    RETURNING id
), voucher AS (
    INSERT INTO rewards_voucher (redemption_id, member_id, reward_id, code, kind, value, currency, status, expires_at,
        used_at, used_order_id, cancelled_at, cancel_reason, cancelled_by_id, created_at)
    SELECT redemption.id, %(member)s, %(reward)s, %(code)s, %(kind)s, %(value)s, %(currency)s, %(status)s,
           %(expires_at)s, NULL, '', NULL, '', NULL, %(now)s
    FROM redemption
    ON CONFLICT (code) DO NOTHING
    RETURNING id
)
SELECT (SELECT id FROM redemption) AS redemption_id, (SELECT id FROM voucher) AS voucher_id
"""


def _issue(*, member_id: int, reward: Reward, points: int, source: str, entry: LedgerEntry | None, scope: str,
           key: str, digest: str, now: datetime) -> Redemption:
    """Write a redemption and its voucher (one statement, in the caller's transaction). Raises _KeyTaken
    when (scope, key) is taken and _CodeClash when the drawn code is: either way the caller rolls back."""
    expires_at = now + timedelta(days=reward.voucher_valid_days) if reward.voucher_valid_days else None
    code = voucher_code_new()
    with connection.cursor() as cursor:
        cursor.execute(_ISSUE, {
            "member": member_id, "reward": reward.pk, "points": points, "source": source,
            "entry": entry.pk if entry is not None else None, "scope": scope, "key": key, "hash": digest,
            "now": now, "code": code, "kind": reward.kind, "value": reward.value,
            "currency": settings.FIDELIO_CURRENCY, "status": Voucher.Status.ISSUED, "expires_at": expires_at,
        })
        done = fetch_row(cursor)
    if done["redemption_id"] is None:
        raise _KeyTaken
    if done["voucher_id"] is None:
        raise _CodeClash
    redemption = Redemption(pk=done["redemption_id"], member_id=member_id, reward=reward, points_spent=points,
                            source=source, ledger_entry=entry, idempotency_scope=scope, idempotency_key=key,
                            request_hash=digest, created_at=now)
    redemption.voucher = Voucher(pk=done["voucher_id"], redemption=redemption, member_id=member_id, reward=reward,
                                 code=code, kind=reward.kind, value=reward.value, currency=settings.FIDELIO_CURRENCY,
                                 status=Voucher.Status.ISSUED, expires_at=expires_at, created_at=now)
    for obj in (redemption, redemption.voucher):
        obj._state.adding = False
    return redemption


def redemption_issue_free(*, member_id: int, reward: Reward, source: str, scope: str, key: str, now: datetime
                ) -> Redemption | None:
    """A free redemption (birthday, challenge) in a savepoint of the caller's transaction: None when (scope,
    key) has one already. A code clash rolls back and draws again."""
    for _ in range(5):  # a clash among 31^12 codes is astronomically rare; draw again if it happens
        try:
            with transaction.atomic():
                return _issue(member_id=member_id, reward=reward, points=0, source=source, entry=None, scope=scope,
                              key=key, digest=redemption_request_hash(member_id, reward.pk), now=now)
        except _KeyTaken:
            return None
        except _CodeClash:
            continue
    raise RuntimeError("could not draw an unused voucher code")  # pragma: no cover - a broken random source


def _reward_from_row(row: dict) -> Reward:
    from members.models import Tier

    reward = Reward(pk=row["reward_id"], name=row["name"], kind=row["kind"], value=row["value"],
                    cost_points=row["cost_points"], stock=row["stock"], limit_per_member=row["limit_per_member"],
                    limit_period_days=row["limit_period_days"], available_from=row["available_from"],
                    available_until=row["available_until"], voucher_valid_days=row["voucher_valid_days"],
                    is_birthday_reward=row["is_birthday_reward"], is_active=row["is_active"],
                    minimum_tier_id=row["minimum_tier_id"])
    if row["minimum_tier_id"] is not None:
        reward.minimum_tier = Tier(pk=row["minimum_tier_id"], rank=row["tier_rank"], name=row["tier_name"])
    reward._state.adding = False
    return reward


def reward_redeem(*, member_id: int, reward_id: int, source: str, idempotency_scope: str,
                  idempotency_key: str = "", now: datetime | None = None) -> tuple[Redemption, bool]:
    """Spend the member's points on a reward and issue a voucher. Returns (redemption, created).

    With a key, the same (scope, key) again returns the first redemption and writes nothing; with another
    member or reward it raises IdempotencyConflict. Refusals: RewardNotFound, NotAvailable, TierRequired,
    LimitReached, InsufficientPoints, OutOfStock — nothing is written (the transaction block is rolled back:
    a savepoint when the caller has a transaction open, else the whole short transaction).

    Round trips when nothing is in the way: the member's row lock with the reward and the key (one statement),
    the stock (limited rewards only), the per-member count (limited rewards only), the ledger's debit
    (loyalty.ledger.points_debit, one statement) and one statement writing the redemption and its voucher.
    """
    now = now or timezone.now()
    digest = redemption_request_hash(member_id, reward_id)
    key = idempotency_key or uuid.uuid4().hex
    for _ in range(3):
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(_LOCK_AND_LOOK_UP, {"member": member_id, "reward": reward_id,
                                                       "scope": idempotency_scope, "key": key})
                    row = fetch_one(cursor)
                if row is None:
                    raise MemberNotFound(field="member")
                if row["redemption_id"] is not None:
                    return _replayed(row["redemption_id"], digest), False
                if row["reward_id"] is None:
                    raise RewardNotFound(field="reward")
                return _redeem_locked(member_id=member_id, balance=row["points_balance"],
                                      rank=row["member_tier_rank"] or 0, reward=_reward_from_row(row), source=source,
                                      scope=idempotency_scope, key=key, digest=digest, now=now), True
        except _CodeClash:
            continue
        except _KeyTaken:
            continue  # the lookup now finds the other request's redemption
        except DomainError:
            # A refusal may be the second of two concurrent requests with one key: answer as the first did.
            if idempotency_key:
                existing = Redemption.objects.filter(idempotency_scope=idempotency_scope,
                                                     idempotency_key=key).values_list("pk", flat=True).first()
                if existing is not None:
                    return _replayed(existing, digest), False
            raise
    raise RuntimeError("could not complete the redemption")  # pragma: no cover - needs three code clashes


def _replayed(redemption_id: int, digest: str) -> Redemption:
    existing = Redemption.objects.select_related("voucher", "ledger_entry").get(pk=redemption_id)
    if existing.request_hash != digest:
        raise IdempotencyConflict(gettext("This Idempotency-Key was already used for another redemption."),
                                  field="Idempotency-Key")
    return existing


def _redeem_locked(*, member_id: int, balance: int, rank: int, reward: Reward, source: str, scope: str, key: str,
                   digest: str, now: datetime) -> Redemption:
    """The checks and writes of a new redemption. The caller holds the member's row lock (the balance and tier
    rank were read under it), inside the transaction that a refusal rolls back."""
    if not reward.is_available(now) or reward.is_birthday_reward:
        raise NotAvailable(gettext("%(name)s is not available now.") % {"name": reward.name}, field="reward")
    if reward.minimum_tier_id and (tier := reward.minimum_tier) is not None and rank < tier.rank:
        raise TierRequired(gettext("%(name)s is for %(tier)s members and above.")
                           % {"name": reward.name, "tier": tier.name}, field="reward")
    if reward.limit_per_member and _limit_used(member_id=member_id, reward=reward, now=now) >= \
            reward.limit_per_member:
        values = {"name": reward.name, "count": reward.limit_per_member, "days": reward.limit_period_days}
        if reward.limit_period_days:
            text = ngettext("%(name)s can be redeemed %(count)d time in %(days)d days per member.",
                            "%(name)s can be redeemed %(count)d times in %(days)d days per member.",
                            reward.limit_per_member) % values
        else:
            text = ngettext("%(name)s can be redeemed %(count)d time per member.",
                            "%(name)s can be redeemed %(count)d times per member.", reward.limit_per_member) % values
        raise LimitReached(text, field="reward")
    if balance < reward.cost_points:
        raise InsufficientPoints(
            ngettext("%(name)s costs %(count)d point; the balance is %(balance)d.",
                     "%(name)s costs %(count)d points; the balance is %(balance)d.", reward.cost_points)
            % {"name": reward.name, "count": reward.cost_points, "balance": balance}, field="reward")
    reward_stock_take(reward)
    try:
        entry = ledger.points_debit(
            member=member_id, points=reward.cost_points, kind=LedgerEntry.Kind.REDEEM,
            description=f"Reward: {reward.name}", reference=f"reward:{reward.pk}",
            idempotency_key=f"redeem:{scope}:{key}", now=now, locked_balance=balance,
        )
    except InsufficientPoints as refused:  # lots past their date hold part of the balance
        raise InsufficientPoints(
            ngettext("%(name)s costs %(count)d point; %(valid)s of the balance are still valid.",
                     "%(name)s costs %(count)d points; %(valid)s of the balance are still valid.", reward.cost_points)
            % {"name": reward.name, "count": reward.cost_points, "valid": refused.balance}, field="reward") from None
    return _issue(member_id=member_id, reward=reward, points=reward.cost_points, source=source, entry=entry,
                  scope=scope, key=key, digest=digest, now=now)


def reward_stock_take(reward: Reward) -> None:
    """One unit of stock, by a conditional UPDATE (waits for the row lock, never goes below zero)."""
    if reward.stock is None:
        return
    taken = Reward.objects.filter(pk=reward.pk, stock__gt=0).update(stock=F("stock") - 1)
    if not taken:
        raise OutOfStock(gettext("%(name)s is out of stock.") % {"name": reward.name}, field="reward")


