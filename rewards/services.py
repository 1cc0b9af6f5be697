"""Rewards writes: redeem, issue vouchers, use them at checkout, cancel them, expire them, birthday rewards.

Lock order, the same in every writer so that no two transactions wait on each other in a cycle: the member
row, then the reward row (stock), then the idempotency key (the redemption's unique index), the voucher and
the member's lots (loyalty.ledger).
"""

from __future__ import annotations

import hashlib
import logging
import re
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from config.exceptions import DomainError
from config.periods import program_tz
from config.sql import fetch_one, fetch_row
from loyalty import ledger
from loyalty.models import LedgerEntry
from members.exceptions import MemberNotFound
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
from rewards.models import CODE_ALPHABET, CODE_LENGTH, Redemption, Reward, Voucher, voucher_code_new

if TYPE_CHECKING:
    from gamification.models import Challenge, ChallengeParticipation
    from members.models import User

log = logging.getLogger(__name__)

_CODE_INPUT_RE = re.compile(r"[A-Za-z0-9 -]{1,64}")


def _request_hash(member_id: int, reward_id: int) -> str:
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


_LOOKUP = """
SELECT r.id AS reward_id, r.name, r.kind, r.value, r.cost_points, r.stock, r.limit_per_member,
       r.limit_period_days, r.available_from, r.available_until, r.voucher_valid_days, r.is_birthday_reward,
       r.is_active, r.minimum_tier_id, t.rank AS tier_rank, t.name AS tier_name, x.id AS redemption_id
FROM (SELECT 1) AS one
LEFT JOIN rewards_reward r ON r.id = %(reward)s
LEFT JOIN members_tier t ON t.id = r.minimum_tier_id
LEFT JOIN rewards_redemption x ON x.idempotency_scope = %(scope)s AND x.idempotency_key = %(key)s
"""

_LOCK_MEMBER = """
SELECT m.points_balance, t.rank AS tier_rank FROM members_member m LEFT JOIN members_tier t ON t.id = m.tier_id
WHERE m.id = %s FOR UPDATE OF m
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


def _issue_free(*, member_id: int, reward: Reward, source: str, scope: str, key: str, now: datetime
                ) -> Redemption | None:
    """A free redemption (birthday, challenge) in a savepoint of the caller's transaction: None when (scope,
    key) has one already. A code clash rolls back and draws again."""
    for _ in range(5):  # a clash among 31^12 codes is astronomically rare; draw again if it happens
        try:
            with transaction.atomic():
                return _issue(member_id=member_id, reward=reward, points=0, source=source, entry=None, scope=scope,
                              key=key, digest=_request_hash(member_id, reward.pk), now=now)
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

    Round trips when nothing is in the way: the reward and the key (one query, outside the transaction), the
    member's row lock, the stock (limited rewards only), the per-member count (limited rewards only), the
    ledger's debit (loyalty.ledger.points_debit, one statement) and one statement writing the redemption and
    its voucher.
    """
    now = now or timezone.now()
    digest = _request_hash(member_id, reward_id)
    key = idempotency_key or uuid.uuid4().hex
    for _ in range(3):
        with connection.cursor() as cursor:
            cursor.execute(_LOOKUP, {"reward": reward_id, "scope": idempotency_scope, "key": key})
            row = fetch_row(cursor)
        if row["redemption_id"] is not None:
            return _replayed(row["redemption_id"], digest), False
        if row["reward_id"] is None:
            raise RewardNotFound(field="reward")
        reward = _reward_from_row(row)
        try:
            return _redeem_new(member_id=member_id, reward=reward, source=source, scope=idempotency_scope, key=key,
                               digest=digest, now=now), True
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
        raise IdempotencyConflict("This Idempotency-Key was already used for another redemption.",
                                  field="Idempotency-Key")
    return existing


def _redeem_new(*, member_id: int, reward: Reward, source: str, scope: str, key: str, digest: str,
                now: datetime) -> Redemption:
    if not reward.is_available(now) or reward.is_birthday_reward:
        raise NotAvailable(f"{reward.name} is not available now.", field="reward")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_LOCK_MEMBER, [member_id])
            locked = fetch_one(cursor)
        if locked is None:
            raise MemberNotFound(field="member")
        balance, rank = locked["points_balance"], locked["tier_rank"] or 0
        if reward.minimum_tier_id and (tier := reward.minimum_tier) is not None and rank < tier.rank:
            raise TierRequired(f"{reward.name} is for {tier.name} members and above.", field="reward")
        if reward.limit_per_member and _limit_used(member_id=member_id, reward=reward, now=now) >= \
                reward.limit_per_member:
            period = f" in {reward.limit_period_days} days" if reward.limit_period_days else ""
            raise LimitReached(f"{reward.name} can be redeemed {reward.limit_per_member} time(s){period} per member.",
                               field="reward")
        if balance < reward.cost_points:
            raise InsufficientPoints(
                f"{reward.name} costs {reward.cost_points} points; the balance is {balance}.", field="reward")
        _stock_take(reward)
        try:
            entry = ledger.points_debit(
                member=member_id, points=reward.cost_points, kind=LedgerEntry.Kind.REDEEM,
                description=f"Reward: {reward.name}", reference=f"reward:{reward.pk}",
                idempotency_key=f"redeem:{scope}:{key}", now=now, locked_balance=balance,
            )
        except InsufficientPoints as refused:  # lots past their date hold part of the balance
            raise InsufficientPoints(
                f"{reward.name} costs {reward.cost_points} points; {refused.balance} of the balance are still "
                "valid.", field="reward") from None
        return _issue(member_id=member_id, reward=reward, points=reward.cost_points, source=source, entry=entry,
                      scope=scope, key=key, digest=digest, now=now)


def _stock_take(reward: Reward) -> None:
    """One unit of stock, by a conditional UPDATE (waits for the row lock, never goes below zero)."""
    if reward.stock is None:
        return
    taken = Reward.objects.filter(pk=reward.pk, stock__gt=0).update(stock=F("stock") - 1)
    if not taken:
        raise OutOfStock(f"{reward.name} is out of stock.", field="reward")


# ------------------------------------------------------------------------------------------------ checkout
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
        raise VoucherUsed(f"This voucher was used for another order on {voucher.used_at:%Y-%m-%d}.")
    if voucher.status == Voucher.Status.CANCELLED:
        raise VoucherCancelled()
    if voucher.is_expired(now):
        raise VoucherExpired(f"This voucher expired on {voucher.expires_at:%Y-%m-%d}.")
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
            raise VoucherNotFound("No such voucher.")
        list(Member.objects.select_for_update().filter(pk=owner).values_list("pk", flat=True))
        voucher = Voucher.objects.select_for_update().select_related("redemption", "reward").get(pk=voucher_id)
        if voucher.status == Voucher.Status.CANCELLED:
            return voucher
        if voucher.status == Voucher.Status.USED:
            raise VoucherUsed("A used voucher cannot be cancelled.")
        if voucher.is_expired(now):
            raise VoucherExpired("An expired voucher cannot be cancelled.")
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


def birthday_rewards_issue(*, now: datetime | None = None, batch: int = 500) -> dict[str, int]:
    """Give the birthday reward to every member whose birthday is today in the program's time zone (29
    February birthdays on 28 February in other years), once per member and year. Members without a
    birthday are skipped. Safe to re-run the same day: the (year, member) key makes a second run a no-op."""
    now = now or timezone.now()
    counts = {"issued": 0, "out_of_stock": 0}
    reward = Reward.objects.filter(is_birthday_reward=True).first()
    if reward is None or not reward.is_available(now):
        return counts
    today = now.astimezone(program_tz()).date()
    on_today = Q(birthday__month=today.month, birthday__day=today.day)
    if (today.month, today.day) == (2, 28) and not _is_leap(today.year):
        on_today |= Q(birthday__month=2, birthday__day=29)
    scope = f"birthday:{today.year}"
    due = Member.objects.filter(on_today).filter(
        ~Exists(Redemption.objects.filter(idempotency_scope=scope, member=OuterRef("pk")))
    )
    last = 0
    while True:
        ids = list(due.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            return counts
        for member_id in ids:
            outcome = _birthday_issue(member_id=member_id, reward_id=reward.pk, scope=scope, now=now)
            if outcome:
                counts[outcome] += 1
        last = ids[-1]


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _birthday_issue(*, member_id: int, reward_id: int, scope: str, now: datetime) -> str | None:
    with transaction.atomic():
        list(Member.objects.select_for_update().filter(pk=member_id).values_list("pk", flat=True))
        if Redemption.objects.filter(idempotency_scope=scope, idempotency_key=str(member_id)).exists():
            return None
        reward = Reward.objects.get(pk=reward_id)
        try:
            _stock_take(reward)
        except OutOfStock:
            log.warning("birthday reward %s is out of stock; member %s got none", reward.pk, member_id)
            return "out_of_stock"
        redemption = _issue_free(member_id=member_id, reward=reward, source=Redemption.Source.BIRTHDAY, scope=scope,
                                 key=str(member_id), now=now)
        if redemption is None:
            return None
        voucher_id = redemption.voucher.pk
        transaction.on_commit(lambda: birthday_notify(voucher_id=voucher_id))
    return "issued"


def birthday_notify(*, voucher_id: int) -> None:
    from django.core.mail import send_mail

    voucher = Voucher.objects.select_related("member", "reward").get(pk=voucher_id)
    email = voucher.member.email
    if not email:
        return
    expiry = f" It is valid until {voucher.expires_at:%d %B %Y}." if voucher.expires_at else ""
    send_mail(
        subject=f"Happy birthday from {settings.FIDELIO_PROGRAM_NAME}!",
        message=(f"Happy birthday{', ' + voucher.member.first_name if voucher.member.first_name else ''}!\n\n"
                 f"Our gift to you: {voucher.reward.name}. Your voucher code is {voucher.code_display}.{expiry}\n"
                 "You will also find it under My vouchers in your account."),
        from_email=None, recipient_list=[email],
    )


def challenge_voucher_issue(*, participation: ChallengeParticipation, challenge: Challenge, now: datetime,
                            **kwargs: Any) -> Voucher | None:
    """A completed challenge's reward voucher, free, once per participation (the redemption's key), in the
    completing transaction. Limited stock applies: none left, no voucher (logged)."""
    from rewards.models import ChallengeReward

    link = ChallengeReward.objects.filter(challenge_id=challenge.pk).select_related("reward").first()
    if link is None:
        return None
    scope, key = "challenge", str(participation.pk)
    if Redemption.objects.filter(idempotency_scope=scope, idempotency_key=key).exists():
        return None
    reward = link.reward
    try:
        _stock_take(reward)
    except OutOfStock:
        log.warning("challenge %s: reward %s is out of stock; member %s got no voucher", challenge.pk, reward.pk,
                    participation.member_id)
        return None
    redemption = _issue_free(member_id=participation.member_id, reward=reward, source=Redemption.Source.CHALLENGE,
                             scope=scope, key=key, now=now)
    return redemption.voucher if redemption is not None else None
