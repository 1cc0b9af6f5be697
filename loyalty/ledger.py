"""The only code that moves points.

Every function locks the member row (`SELECT … FOR UPDATE`), writes the ledger entry and the lots, and
updates the member's denormalised counters in one transaction. Each write carries an idempotency key:
calling again with the same key returns the entry already written and changes nothing.

Invariants (checked by `manage.py check_ledger`):
- member.points_balance == SUM(ledger.points) == SUM(open lots' remaining) >= 0
- 0 <= lot.remaining <= lot.points
Pending points are not spendable and not in the ledger: loyalty.services.purchases keeps member.pending_points.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from config.exceptions import DomainError
from config.periods import add_months
from config.sql import fetch_row
from loyalty.exceptions import IdempotencyConflict, InsufficientPoints
from loyalty.models import LedgerEntry, LotDraw, PointsLot, Purchase, Return
from loyalty.signals import points_credited, send_after_commit
from members.models import Member

if TYPE_CHECKING:
    from members.models import User

Kind = LedgerEntry.Kind


class _Default(enum.Enum):
    """A one-value type for "not given" (None is a real value of expires_at: never expires)."""

    TOKEN = enum.auto()


_DEFAULT = _Default.TOKEN


def lot_expiry(*, earned_at: datetime) -> datetime | None:
    months = settings.FIDELIO_POINTS_EXPIRY_MONTHS
    return add_months(earned_at, months) if months > 0 else None


def _lock(member: Member | int) -> Member:
    pk = member if isinstance(member, int) else member.pk
    return Member.objects.select_for_update().only(
        "id", "points_balance", "pending_points", "lifetime_points"
    ).get(pk=pk)


def _replay(key: str, member_id: int, points_sign: int) -> LedgerEntry | None:
    entry = LedgerEntry.objects.filter(idempotency_key=key).first()
    if entry is None:
        return None
    if entry.member_id != member_id or (entry.points and (entry.points > 0) != (points_sign > 0)):
        raise IdempotencyConflict(_("Idempotency key %(key)s belongs to another ledger entry.") % {"key": repr(key)})
    return entry


@transaction.atomic
def points_credit(
    *,
    member: Member | int,
    points: int,
    kind: str,
    description: str,
    idempotency_key: str,
    reference: str = "",
    purchase: Purchase | None = None,
    reverses: LedgerEntry | None = None,
    author: User | None = None,
    expires_at: datetime | _Default | None = _DEFAULT,
    now: datetime | None = None,
    counts_lifetime: bool = True,
) -> LedgerEntry:
    """Add spendable points as a new lot. `expires_at` defaults to the program's expiry policy from now."""
    if not isinstance(points, int) or points <= 0:
        raise ValueError("points_credit takes a positive whole number of points")
    now = now or timezone.now()
    locked = _lock(member)
    if (entry := _replay(idempotency_key, locked.pk, +1)) is not None:
        return entry
    balance = locked.points_balance + points
    entry = LedgerEntry.objects.create(
        member_id=locked.pk, points=points, kind=kind, description=description[:500], reference=reference,
        purchase=purchase, reverses=reverses, author=author, balance_after=balance,
        idempotency_key=idempotency_key, created_at=now,
    )
    PointsLot.objects.create(
        member_id=locked.pk, entry=entry, points=points, remaining=points, created_at=now,
        expires_at=lot_expiry(earned_at=now) if expires_at is _DEFAULT else expires_at,
    )
    Member.objects.filter(pk=locked.pk).update(
        points_balance=F("points_balance") + points,
        lifetime_points=F("lifetime_points") + (points if counts_lifetime else 0),
    )
    send_after_commit(points_credited, entries=[entry], now=now)
    return entry


def _expire_lots(*, member_id: int, balance: int, lots: list[PointsLot], now: datetime
                 ) -> tuple[int, list[LedgerEntry]]:
    """The one writer of `expire` entries: empty each lot (all past their date, the member's row locked by
    the caller) with one entry per lot, key `expire:lot:<id>`, and lower the balance. Returns (the balance
    after, the entries)."""
    entries = []
    for lot in lots:
        points = lot.remaining
        balance -= points
        PointsLot.objects.filter(pk=lot.pk).update(remaining=0)
        entries.append(LedgerEntry.objects.create(
            member_id=member_id, points=-points, kind=Kind.EXPIRE, reference=f"lot:{lot.pk}",
            description=f"{points} points from {lot.created_at:%Y-%m-%d} expired on {lot.expires_at:%Y-%m-%d}",
            balance_after=balance, idempotency_key=f"expire:lot:{lot.pk}", created_at=now,
        ))
    expired = sum(lot.remaining for lot in lots)
    if expired:
        Member.objects.filter(pk=member_id).update(points_balance=F("points_balance") - expired)
    return balance, entries


def _expire_due(*, member_id: int, balance: int, now: datetime) -> int:
    """Expire the member's lots already past their date (the daily task has not reached them yet), so a debit
    never spends expired points. The caller holds the member's row lock. Returns the balance afterwards."""
    if not balance:
        return balance
    due = list(PointsLot.objects.filter(member_id=member_id, remaining__gt=0, expires_at__lte=now)
               .select_for_update().order_by("expires_at", "id"))
    return _expire_lots(member_id=member_id, balance=balance, lots=due, now=now)[0] if due else balance


# THE debit: one statement takes `take` points from the member's unexpired open lots — a preferred lot first,
# then soonest expiring, oldest (the window sum gives each lot the points before it) — writes the debit entry,
# records what came from which lot and lowers the balance. The entry is the gate: it is written only when the
# unexpired lots cover `take` and its idempotency key is new (ON CONFLICT DO NOTHING); the lots, draws and
# balance are written only with it. The caller holds the member's row lock, which every lot writer takes
# first, so the lots need no row locks of their own.
_DEBIT = """
WITH live AS (
    SELECT id, remaining,
           SUM(remaining) OVER (ORDER BY COALESCE(entry_id = %(prefer)s, false) DESC,
                                         expires_at ASC NULLS LAST, created_at, id) - remaining AS before
    FROM loyalty_pointslot
    WHERE member_id = %(member)s AND remaining > 0 AND (expires_at IS NULL OR expires_at > %(now)s)
), takes AS (
    SELECT id, LEAST(remaining, %(take)s - before) AS take FROM live WHERE before < %(take)s
), covered AS (
    SELECT COALESCE(SUM(take), 0) = %(take)s AS ok FROM takes
), entry AS (
    INSERT INTO loyalty_ledgerentry (member_id, points, kind, description, reference, purchase_id,
        return_record_id, reverses_id, author_id, shortfall, balance_after, idempotency_key, created_at)
    SELECT %(member)s, -%(take)s, %(kind)s, %(description)s, %(reference)s, %(purchase)s, %(return)s,
           %(reverses)s, %(author)s, %(shortfall)s, %(balance_after)s, %(key)s, %(now)s
    FROM covered WHERE covered.ok
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id
), spent AS (
    UPDATE loyalty_pointslot l SET remaining = l.remaining - t.take FROM takes t, entry WHERE l.id = t.id
    RETURNING l.id, t.take
), draws AS (
    INSERT INTO loyalty_lotdraw (entry_id, lot_id, points) SELECT entry.id, spent.id, spent.take FROM entry, spent
), balance AS (
    UPDATE members_member m SET points_balance = m.points_balance - %(take)s FROM entry
    WHERE m.id = %(member)s AND %(take)s > 0
)
SELECT (SELECT ok FROM covered) AS covered, (SELECT id FROM entry) AS entry_id,
       (SELECT COALESCE(SUM(take), 0) FROM spent) AS spent
"""


def points_debit(
    *,
    member: Member | int,
    points: int,
    kind: str,
    description: str,
    idempotency_key: str,
    reference: str = "",
    allow_partial: bool = False,
    purchase: Purchase | None = None,
    return_record: Return | None = None,
    reverses: LedgerEntry | None = None,
    prefer_lot_of: LedgerEntry | None = None,
    author: User | None = None,
    now: datetime | None = None,
    locked_balance: int | None = None,
) -> LedgerEntry:
    """Take points away, soonest-expiring (then oldest) lots first, recording what came from which lot: the
    one debit every caller uses (redemptions, adjustments, returns, reversals). Lots already past their
    expiry are expired first, so they are never spent. Refuses with InsufficientPoints (its `balance` is
    what the member can spend) unless `allow_partial`, in which case it takes what the balance holds and
    records the rest as the entry's shortfall. The same `idempotency_key` again returns the first entry.

    `locked_balance`: a caller that already holds the member's row lock passes the balance it read under
    it, which saves the lock's round trip. When nothing is in the way the debit is one statement.

    Refusals are decided before the debit's writes and raised after its transaction block (no savepoint
    needed): an enclosing transaction stays usable, keeping only the expiry of lots that were due anyway.
    """
    if not isinstance(points, int) or points <= 0:
        raise ValueError("points_debit takes a positive whole number of points")
    now = now or timezone.now()
    with transaction.atomic(savepoint=False):
        try:
            return _debit(member=member, points=points, kind=kind, description=description[:500],
                          idempotency_key=idempotency_key, reference=reference, allow_partial=allow_partial,
                          purchase=purchase, return_record=return_record, reverses=reverses,
                          prefer_lot_of=prefer_lot_of, author=author, now=now, locked_balance=locked_balance)
        except DomainError as exc:
            refusal = exc
    raise refusal


def _debit(*, member: Member | int, points: int, kind: str, description: str, idempotency_key: str,
           reference: str, allow_partial: bool, purchase: Purchase | None, return_record: Return | None,
           reverses: LedgerEntry | None, prefer_lot_of: LedgerEntry | None, author: User | None,
           now: datetime, locked_balance: int | None) -> LedgerEntry:
    if locked_balance is None:
        locked = _lock(member)
        member_id, balance = locked.pk, locked.points_balance
    else:
        member_id, balance = (member if isinstance(member, int) else member.pk), locked_balance
    author_id = author.pk if author is not None else None
    for _attempt in range(2):
        take = min(points, balance) if allow_partial else points
        if take > balance:
            if (entry := _replay(idempotency_key, member_id, -1)) is not None:
                return entry
            raise InsufficientPoints(ngettext("The member has %(balance)d points; %(count)d is needed.",
                                              "The member has %(balance)d points; %(count)d are needed.", points)
                                     % {"balance": balance, "count": points}, field="points", balance=balance)
        with connection.cursor() as cursor:
            cursor.execute(_DEBIT, {
                "member": member_id, "take": take, "prefer": prefer_lot_of.pk if prefer_lot_of else None,
                "kind": kind, "description": description, "reference": reference,
                "purchase": purchase.pk if purchase else None, "return": return_record.pk if return_record else None,
                "reverses": reverses.pk if reverses else None, "author": author_id, "shortfall": points - take,
                "balance_after": balance - take, "key": idempotency_key, "now": now,
            })
            done = fetch_row(cursor)
        if done["entry_id"] is not None:
            if done["spent"] != take:
                raise AssertionError(f"lots of member {member_id} held {done['spent']} of the {take} points to take")
            entry = LedgerEntry(
                pk=done["entry_id"], member_id=member_id, points=-take, kind=kind, description=description,
                reference=reference, purchase=purchase, return_record=return_record, reverses=reverses,
                author_id=author_id, shortfall=points - take, balance_after=balance - take,
                idempotency_key=idempotency_key, created_at=now,
            )
            entry._state.adding = False
            return entry
        if (entry := _replay(idempotency_key, member_id, -1)) is not None:
            return entry  # the key was used before: that debit is the answer
        if done["covered"]:
            raise AssertionError(f"debit {idempotency_key!r} wrote nothing though the lots cover it")
        # Lots past their date hold part of the balance: expire them (as the daily task would), then again.
        balance = _expire_due(member_id=member_id, balance=balance, now=now)
    raise AssertionError(f"the unexpired lots of member {member_id} do not hold its balance")


def _restore_draws(entry: LedgerEntry, *, description: str, idempotency_key: str, author: User | None,
                   now: datetime) -> LedgerEntry:
    """Give a debit's points back to the lots it drew them from, so they keep their original expiry. Points
    whose lot has expired meanwhile are not given back (they would have expired anyway); the entry says so."""
    locked = _lock(entry.member_id)
    if (existing := _replay(idempotency_key, locked.pk, +1)) is not None:
        return existing
    draws = list(LotDraw.objects.filter(entry=entry).select_related("lot").select_for_update(of=("lot",)))
    live = [d for d in draws if d.lot.expires_at is None or d.lot.expires_at > now]
    restored = sum(d.points for d in live)
    lapsed = sum(d.points for d in draws) - restored
    for draw in live:
        PointsLot.objects.filter(pk=draw.lot_id).update(remaining=F("remaining") + draw.points)
    if restored:
        Member.objects.filter(pk=locked.pk).update(points_balance=F("points_balance") + restored)
    if lapsed:
        description = f"{description} ({lapsed} points not returned: they expired meanwhile)"
    return LedgerEntry.objects.create(
        member_id=locked.pk, points=restored, kind=Kind.REVERSAL, description=description[:500],
        reference=entry.reference, reverses=entry, author=author, balance_after=locked.points_balance + restored,
        idempotency_key=idempotency_key, created_at=now,
    )


@transaction.atomic
def points_reverse(
    *, entry: LedgerEntry, description: str, idempotency_key: str, author: User | None = None,
    now: datetime | None = None,
) -> LedgerEntry:
    """Undo an entry with a new `reversal` entry that references it.

    A credit is taken back from its own lot first (never below a zero balance; any shortfall is recorded).
    A debit is given back to the lots it drew from, keeping their expiry (points of lots that have expired
    meanwhile are not returned); a debit recorded without draws gets a new lot under the expiry policy.
    """
    if entry.points > 0:
        return points_debit(
            member=entry.member_id, points=entry.points, kind=Kind.REVERSAL, description=description,
            idempotency_key=idempotency_key, reference=entry.reference, allow_partial=True, reverses=entry,
            prefer_lot_of=entry, author=author, now=now,
        )
    if entry.points < 0:
        now = now or timezone.now()
        done = LedgerEntry.objects.filter(reverses=entry).values_list("idempotency_key", flat=True)
        if any(key != idempotency_key for key in done):  # a debit is given back once
            raise IdempotencyConflict(_("Ledger entry %(id)s has already been reversed.") % {"id": entry.pk},
                                      code="already_reversed")
        if LotDraw.objects.filter(entry=entry).exists():
            return _restore_draws(entry, description=description, idempotency_key=idempotency_key, author=author,
                                  now=now)
        return points_credit(
            member=entry.member_id, points=-entry.points, kind=Kind.REVERSAL, description=description,
            idempotency_key=idempotency_key, reference=entry.reference, reverses=entry, author=author, now=now,
            counts_lifetime=False,
        )
    raise ValueError("a zero-point entry has nothing to reverse")


@transaction.atomic
def points_expire_lot(*, lot_id: int, now: datetime) -> LedgerEntry | None:
    """Expire what is left of one lot if it is due. Safe to repeat (one entry per lot)."""
    member_id = PointsLot.objects.filter(pk=lot_id).values_list("member_id", flat=True).first()
    if member_id is None:
        return None
    locked = _lock(member_id)
    lot = PointsLot.objects.select_for_update().get(pk=lot_id)
    if lot.remaining == 0 or lot.expires_at is None or lot.expires_at > now:
        return LedgerEntry.objects.filter(idempotency_key=f"expire:lot:{lot.pk}").first()
    _balance, entries = _expire_lots(member_id=locked.pk, balance=locked.points_balance, lots=[lot], now=now)
    return entries[0]


# Balance and lifetime points of many members at once (points_credit_many), in one statement.
_BALANCES_ADD = """
UPDATE members_member AS m
SET points_balance = m.points_balance + v.delta, lifetime_points = m.lifetime_points + v.delta
FROM unnest(%(ids)s::bigint[], %(deltas)s::int[]) AS v (id, delta) WHERE m.id = v.id
"""


@dataclass(frozen=True)
class Credit:
    member_id: int
    points: int
    kind: str
    description: str
    idempotency_key: str
    reference: str = ""
    purchase_id: int | None = None
    expires_at: datetime | None = None


@transaction.atomic
def points_credit_many(*, credits: list[Credit], now: datetime) -> list[LedgerEntry]:
    """Many credits in a handful of queries: lock the members, skip keys already used, insert entries and
    lots in bulk, and raise balances with one UPDATE. Each credit's `expires_at` is used as given."""
    credits = [c for c in credits if c.points > 0]
    if not credits:
        return []
    member_ids = sorted({c.member_id for c in credits})
    balances = dict(
        Member.objects.select_for_update().filter(pk__in=member_ids).order_by("pk")
        .values_list("pk", "points_balance")
    )
    used = set(
        LedgerEntry.objects.filter(idempotency_key__in=[c.idempotency_key for c in credits])
        .values_list("idempotency_key", flat=True)
    )
    entries: list[LedgerEntry] = []
    kept: list[Credit] = []
    deltas: dict[int, int] = {}
    for c in credits:
        if c.idempotency_key in used:
            continue
        used.add(c.idempotency_key)
        kept.append(c)
        balances[c.member_id] += c.points
        deltas[c.member_id] = deltas.get(c.member_id, 0) + c.points
        entries.append(LedgerEntry(
            member_id=c.member_id, points=c.points, kind=c.kind, description=c.description[:500],
            reference=c.reference, purchase_id=c.purchase_id, balance_after=balances[c.member_id],
            idempotency_key=c.idempotency_key, created_at=now,
        ))
    if not entries:
        return []
    LedgerEntry.objects.bulk_create(entries)
    PointsLot.objects.bulk_create(
        PointsLot(member_id=e.member_id, entry=e, points=e.points, remaining=e.points, expires_at=c.expires_at,
                  created_at=now)
        for e, c in zip(entries, kept, strict=True)
    )
    with connection.cursor() as cursor:
        cursor.execute(_BALANCES_ADD, {"ids": list(deltas), "deltas": list(deltas.values())})
    send_after_commit(points_credited, entries=entries, now=now)
    return entries
