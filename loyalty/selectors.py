"""Points-engine read queries. Each is a constant number of indexed queries, whatever the history length."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from babel.dates import format_date
from babel.lists import format_list
from django.conf import settings
from django.db import connection
from django.db.models import Min, QuerySet, Sum, prefetch_related_objects
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import npgettext, pgettext

from config.periods import add_months
from config.sql import fetch_all
from loyalty.models import LedgerEntry, PointsLot, Purchase
from members.formatting import current_locale, money_format
from members.models import Member, Tier
from members.services import tier_windows


def points_balance_get(*, member_id: int) -> int:
    return Member.objects.filter(pk=member_id).values_list("points_balance", flat=True).get()


# The tier figures: per tier window, the qualifying value of the member's purchases inside it (points earned
# net of returns, or money spent net of returns: FIDELIO_TIER_BASIS), pending purchases included. Hand-written
# because the purchase post reads them under the member's row lock on every post that could upgrade a tier:
# the ORM's filtered aggregates cost more Python than the statement costs PostgreSQL (docs/decisions.md).
_QUALIFYING_ONE = """
SELECT w.months,
       COALESCE(SUM(CASE WHEN %(points)s THEN p.points_earned - p.points_reversed
                         ELSE p.amount - p.returned_amount END), 0) AS figure
FROM unnest(%(windows)s::int[], %(since)s::timestamptz[]) AS w (months, since)
LEFT JOIN loyalty_purchase p
       ON p.member_id = %(member)s AND p.occurred_at > w.since AND p.occurred_at <= %(now)s
GROUP BY w.months
"""

_QUALIFYING_MANY = """
SELECT p.member_id, w.months,
       SUM(CASE WHEN %(points)s THEN p.points_earned - p.points_reversed ELSE p.amount - p.returned_amount END)
           AS figure
FROM unnest(%(windows)s::int[], %(since)s::timestamptz[]) AS w (months, since)
JOIN loyalty_purchase p
  ON p.member_id = ANY(%(members)s) AND p.occurred_at > w.since AND p.occurred_at <= %(now)s
GROUP BY p.member_id, w.months
"""


def _qualifying_params(now: datetime) -> tuple[list[int], bool, dict[str, object]]:
    windows = tier_windows()
    points = settings.FIDELIO_TIER_BASIS == "points"
    return windows, points, {"windows": windows, "since": [add_months(now, -months) for months in windows],
                             "points": points, "now": now}


def _figure(value: Decimal, points: bool) -> int | Decimal:
    return int(value) if points else value


def qualifying_figures(*, member_id: int, now: datetime | None = None) -> dict[int, int | Decimal]:
    """Points earned (or money spent, by FIDELIO_TIER_BASIS) per tier window, in ONE aggregate query.

    Counts purchases inside the window, pending ones included, net of returns — never the balance.
    """
    _windows, points, params = _qualifying_params(now or timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(_QUALIFYING_ONE, {**params, "member": member_id})
        return {row["months"]: _figure(row["figure"], points) for row in fetch_all(cursor)}


def qualifying_figures_many(*, member_ids: list[int], now: datetime | None = None
                            ) -> dict[int, dict[int, int | Decimal]]:
    """qualifying_figures for many members in one GROUP BY query."""
    windows, points, params = _qualifying_params(now or timezone.now())
    zero = _figure(Decimal("0"), points)
    out: dict[int, dict[int, int | Decimal]] = {pk: dict.fromkeys(windows, zero) for pk in member_ids}
    with connection.cursor() as cursor:
        cursor.execute(_QUALIFYING_MANY, {**params, "members": list(member_ids)})
        for row in fetch_all(cursor):
            out[row["member_id"]][row["months"]] = _figure(row["figure"], points)
    return out


def points_expiring_get(*, member_id: int, now: datetime | None = None, days: int | None = None) -> dict:
    now = now or timezone.now()
    horizon = now + timedelta(days=days if days is not None else settings.FIDELIO_EXPIRY_NOTICE_DAYS)
    row = PointsLot.objects.filter(
        member_id=member_id, remaining__gt=0, expires_at__gt=now, expires_at__lte=horizon
    ).aggregate(points=Coalesce(Sum("remaining"), 0), first_expiry=Min("expires_at"))
    return {"points": row["points"], "until": horizon, "first_expiry": row["first_expiry"]}


def tier_progress_get(*, member: Member, now: datetime | None = None) -> dict:
    """Where the member stands: current tier, next tier and what is still needed to reach it."""
    basis = settings.FIDELIO_TIER_BASIS
    figures = qualifying_figures(member_id=member.pk, now=now)
    current_rank = member.tier.rank if member.tier_id else 0
    nxt = Tier.objects.filter(rank__gt=current_rank).order_by("rank").first()
    result = {"basis": basis, "next_tier": None, "qualifying": None, "threshold": None, "needed": None,
              "period_end": member.tier_period_end}
    window = (nxt or member.tier).qualification_months if (nxt or member.tier) else 12
    result["qualifying"] = figures.get(window, 0)
    result["window_months"] = window
    if nxt is not None:
        threshold = nxt.threshold_points if basis == "points" else nxt.threshold_spend
        result.update(next_tier=nxt.name, threshold=threshold, needed=max(threshold - result["qualifying"], 0),
                      next_tier_benefits=nxt.benefits)
    return result


# ------------------------------------------------------------------------------------------ ledger texts
# What members (portal, API, data export) read for an entry: a sentence in their language built from the entry's
# kind and links (purchase, return, the entry it reverses, the lot it expires, its reference). The stored
# `description` is the writer's English breakdown, kept for staff (the ledger admin shows it as written); it is
# read only for what no link holds: the reason staff typed for an adjustment, the bonus rules of a purchase (in
# Purchase.earn_breakdown), and the name of a reward, challenge, survey or product while no app above has
# registered its names (LEDGER_SUBJECTS). An entry none of this fits (old rows) shows its stored text.
ADJUSTMENT_PREFIX = "Adjustment by our team: "
# Entries written before 2026-12-01 read "Adjustment by <staff e-mail>: <reason>"; the ledger is append-only,
# so they keep that text and are rewritten when shown (an e-mail address holds no colon).
_NAMED_ADJUSTMENT = re.compile(r"^Adjustment by [^:\n]*: ")
# Every sentence has the context "points history" for translators (pgettext): a row of the member's history. It
# is written out in each call: makemessages (xgettext) extracts only literal strings.

# The relations the sentences read: select_related(*LEDGER_TEXT_RELATED) on a list of entries.
LEDGER_TEXT_RELATED = ("purchase", "return_record", "reverses")

# The names behind "<subject>:<id>" references, from the app that owns them (loyalty cannot read the tables of
# the apps above it): `ledger_subject_register("reward", names)` in rewards' ready(), `names(ids)` answering
# {id: name in the active language} in one query. Subjects: reward (redeem entries, and the reversal of one),
# challenge, survey, review (the reviewed product). Until one is registered, the name comes from the text the
# writer stored (_SUBJECT_IN_TEXT: the name at the time, in the default language).
LEDGER_SUBJECTS: dict[str, Callable[[list[int]], dict[int, str]]] = {}

_SUBJECT_IN_TEXT = {  # the writers' stored descriptions, and where the name is in them
    "reward": re.compile(r"^Reward: (?P<name>.+)$", re.DOTALL),  # rewards.services.redeem
    "challenge": re.compile(r"^Challenge completed: (?P<name>.+)$", re.DOTALL),  # gamification challenges
    "survey": re.compile(r"^Thank you for answering “(?P<name>.+)”$", re.DOTALL),  # feedback surveys
    "review": re.compile(r"^Review of (?P<name>.+)$", re.DOTALL),  # feedback reviews
}
_REFERENCE = re.compile(r"^(?P<subject>[a-z_]+):(?P<id>\d+)$")

# loyalty.rules.points_for_purchase's breakdown: "<base and multipliers> = <points>[, + <n> '<bonus rule>']… →
# <total> points". The bonus part is read from the end and checked against the total, so a rule name holding a
# quote, a comma or " = " is still read whole, and a breakdown that does not add up names no rule.
_BREAKDOWN = re.compile(r"^.* = (?P<base>\d+)(?P<bonuses>(?:, \+ \d+ '.*?')*) → (?P<total>\d+) points$",
                        re.DOTALL)
_BONUS = re.compile(r", \+ (?P<points>\d+) '(?P<name>.*?)'(?=, \+ \d+ '|$)", re.DOTALL)
_ANY_BONUS = re.compile(r", \+ \d+ '")


def ledger_subject_register(subject: str, names: Callable[[list[int]], dict[int, str]]) -> None:
    LEDGER_SUBJECTS[subject] = names


def _reference_id(reference: str, subject: str) -> int | None:
    match = _REFERENCE.match(reference)
    return int(match["id"]) if match is not None and match["subject"] == subject else None


def _subject_of(entry: LedgerEntry) -> tuple[str, int, str] | None:
    """(subject, id, the stored text naming it) for the entries that name something of an app above."""
    Kind = LedgerEntry.Kind
    source = entry
    if entry.kind == Kind.REVERSAL and entry.reverses is not None and entry.reverses.kind == Kind.REDEEM:
        source = entry.reverses  # a cancelled voucher gives back the points of its redemption
    elif entry.kind == Kind.BONUS and (review := _reference_id(entry.idempotency_key, "review")) is not None:
        return "review", review, entry.description  # feedback.services.reviews writes no reference
    elif entry.kind not in (Kind.REDEEM, Kind.CHALLENGE, Kind.BONUS):
        return None
    match = _REFERENCE.match(source.reference)
    if match is None or match["subject"] not in ("reward", "challenge", "survey"):
        return None
    return match["subject"], int(match["id"]), source.description


class _Lookups:
    """What a set of entries' sentences need beyond select_related, read once for all of them."""

    def __init__(self, entries: list[LedgerEntry]) -> None:
        lots = [lot for e in entries
                if e.kind == LedgerEntry.Kind.EXPIRE and (lot := _reference_id(e.reference, "lot")) is not None]
        self.lot_dates: dict[int, datetime] = dict(
            PointsLot.objects.filter(pk__in=lots).order_by().values_list("pk", "created_at")) if lots else {}
        wanted: dict[str, set[int]] = {}
        for entry in entries:
            if (found := _subject_of(entry)) is not None and found[0] in LEDGER_SUBJECTS:
                wanted.setdefault(found[0], set()).add(found[1])
        self.names = {subject: LEDGER_SUBJECTS[subject](sorted(ids)) for subject, ids in wanted.items()}

    def name(self, entry: LedgerEntry) -> str | None:
        found = _subject_of(entry)
        if found is None:
            return None
        subject, pk, text = found
        if (name := self.names.get(subject, {}).get(pk)) is not None:
            return name
        match = _SUBJECT_IN_TEXT[subject].match(text)
        return match["name"] if match else None


def _date(moment: datetime) -> str:
    return format_date(timezone.localtime(moment).date(), format="long", locale=current_locale())


def _earn_bonuses(breakdown: str) -> list[str] | None:
    """The bonus rules named in a purchase's breakdown ([] for none), or None when it cannot be read."""
    match = _BREAKDOWN.match(breakdown)
    if match is None:
        return None
    bonuses = [(int(b["points"]), b["name"]) for b in _BONUS.finditer(match["bonuses"])]
    if int(match["base"]) + sum(points for points, _name in bonuses) != int(match["total"]):
        return None
    return [name for _points, name in bonuses]


def _earn_sentence(entry: LedgerEntry) -> str:
    purchase = entry.purchase
    if purchase is None:
        parts = entry.reference.split(":", 2)  # purchase:<source>:<order id>
        if len(parts) == 3 and parts[0] == "purchase":
            return pgettext("points history", "Purchase %(order)s") % {"order": parts[2]}
        return entry.description
    values = {"order": purchase.order_id, "amount": money_format(purchase.amount, purchase.currency)}
    bonuses = _earn_bonuses(purchase.earn_breakdown)
    if bonuses:
        return npgettext("points history", "Purchase %(order)s of %(amount)s, including the bonus: %(bonuses)s",
                         "Purchase %(order)s of %(amount)s, including the bonuses: %(bonuses)s", len(bonuses)) % {
            **values, "bonuses": format_list(bonuses, locale=current_locale())}
    if bonuses is None and _ANY_BONUS.search(purchase.earn_breakdown):
        return pgettext("points history", "Purchase %(order)s of %(amount)s, including a bonus") % values
    return pgettext("points history", "Purchase %(order)s of %(amount)s") % values


def _reversal_sentence(entry: LedgerEntry, lookups: _Lookups) -> str:
    reversed_entry = entry.reverses
    if entry.return_record is not None and entry.purchase is not None:
        return pgettext("points history", "Return of %(amount)s from order %(order)s") % {
            "amount": money_format(entry.return_record.amount, entry.purchase.currency),
            "order": entry.purchase.order_id}
    if entry.purchase is not None:
        return pgettext("points history", "Return of order %(order)s") % {"order": entry.purchase.order_id}
    if reversed_entry is not None and reversed_entry.kind == LedgerEntry.Kind.REDEEM:
        name = lookups.name(entry)
        lapsed = -reversed_entry.points - entry.points  # points of lots that expired before the cancellation
        if lapsed > 0 and name is None:
            return npgettext(
                "points history", "Reward cancelled (%(count)d point had expired and was not given back)",
                "Reward cancelled (%(count)d points had expired and were not given back)", lapsed,
            ) % {"count": lapsed}
        if lapsed > 0:
            return npgettext(
                "points history", "Reward cancelled: %(name)s (%(count)d point had expired and was not given back)",
                "Reward cancelled: %(name)s (%(count)d points had expired and were not given back)", lapsed,
            ) % {"name": name, "count": lapsed}
        if name is None:
            return pgettext("points history", "Reward cancelled, points given back")
        return pgettext("points history", "Reward cancelled, points given back: %(name)s") % {"name": name}
    if reversed_entry is not None:
        return pgettext("points history", "Correction of the entry of %(date)s") % {
            "date": _date(reversed_entry.created_at)}
    return entry.description


def _adjust_sentence(entry: LedgerEntry) -> str:
    if (record := _reference_id(entry.reference, "feedback")) is not None:  # feedback.services.support
        return pgettext("points history", "Goodwill points for your feedback #%(number)d") % {"number": record}
    text = entry.description
    if text.startswith(ADJUSTMENT_PREFIX):
        reason = text[len(ADJUSTMENT_PREFIX):]
    elif (named := _NAMED_ADJUSTMENT.match(text)) is not None:
        reason = text[named.end():]
    else:
        return text
    return pgettext("points history", "Adjustment by our team: %(reason)s") % {"reason": reason}  # as staff typed it


def _bonus_sentence(entry: LedgerEntry, lookups: _Lookups) -> str:
    if entry.reference == "welcome":  # loyalty.services.adjustments.welcome_bonus_credit
        return pgettext("points history", "Welcome bonus for joining")
    found = _subject_of(entry)
    name = lookups.name(entry)
    if found is not None and found[0] == "survey":
        if name is None:
            return pgettext("points history", "Thank you for answering our survey")
        return pgettext("points history", "Thank you for answering “%(name)s”") % {"name": name}
    if found is not None and found[0] == "review":
        if name is None:
            return pgettext("points history", "Bonus for your product review")
        return pgettext("points history", "Bonus for your review of %(product)s") % {"product": name}
    return entry.description


def _sentence(entry: LedgerEntry, lookups: _Lookups) -> str:
    Kind = LedgerEntry.Kind
    kind = entry.kind
    if kind == Kind.EARN:
        return _earn_sentence(entry)
    if kind == Kind.REDEEM:
        name = lookups.name(entry)
        return entry.description if name is None else pgettext("points history", "Reward: %(name)s") % {"name": name}
    if kind == Kind.EXPIRE:
        earned = lookups.lot_dates.get(_reference_id(entry.reference, "lot") or 0)  # ledger._expire_lots
        if earned is None:
            return pgettext("points history", "Points expired")
        return pgettext("points history", "Points from %(date)s expired") % {"date": _date(earned)}
    if kind == Kind.REVERSAL:
        return _reversal_sentence(entry, lookups)
    if kind == Kind.REFERRAL:  # loyalty.services.purchases.referral_reward_pay: keys referral:<member>:<role>
        if entry.idempotency_key.endswith(":referrer"):
            return pgettext("points history", "Referral bonus: a friend you invited made their first purchase")
        if entry.idempotency_key.endswith(":referred"):
            return pgettext("points history", "Referral bonus: a welcome gift for joining through a friend")
        return pgettext("points history", "Referral bonus")
    if kind == Kind.BIRTHDAY:
        return pgettext("points history", "Happy birthday: a gift from us")
    if kind == Kind.CHALLENGE:
        name = lookups.name(entry)
        if name is None:
            return pgettext("points history", "Challenge completed")
        return pgettext("points history", "Challenge completed: %(name)s") % {"name": name}
    if kind == Kind.BONUS:
        return _bonus_sentence(entry, lookups)
    if kind == Kind.ADJUST:
        return _adjust_sentence(entry)
    return entry.description


def ledger_entries_describe(*, entries: Iterable[LedgerEntry]) -> list[LedgerEntry]:
    """The entries as a list, each with `member_description` (ledger_entry_member_description) set, in the
    active language. Queries, whatever the number of entries: none for the relations when they were
    select_related(*LEDGER_TEXT_RELATED) (else one per relation), one for the lots of expired points, one per
    registered subject on the list."""
    entries = list(entries)
    prefetch_related_objects(entries, *LEDGER_TEXT_RELATED)  # skips what select_related already read
    lookups = _Lookups(entries)
    for entry in entries:
        entry.member_description = _sentence(entry, lookups)
    return entries


def ledger_entry_member_description(*, entry: LedgerEntry) -> str:
    """The sentence a member (and an integration) reads for a ledger entry, in the active language: what it was
    for, never the arithmetic, and a staff adjustment never names who made it (staff see the author and the
    stored description in the ledger admin). For a list, ledger_entries_describe reads what it needs at once."""
    return _sentence(entry, _Lookups([entry]))


def purchases_pending_list(*, member: Member) -> QuerySet[Purchase]:
    """The member's purchases whose points wait for the end of their return window, soonest first."""
    return Purchase.objects.filter(member=member, confirmed_at__isnull=True, points_pending__gt=0).order_by(
        "confirm_after")


def ledger_list(*, member: Member) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(member=member).order_by("-created_at", "-id")


_MISMATCH_SQL = """
SELECT m.id AS member_id, m.member_number, m.points_balance AS balance, COALESCE(l.total, 0) AS ledger_sum,
       COALESCE(lt.total, 0) AS lots_remaining, m.pending_points AS pending,
       COALESCE(p.total, 0) AS pending_from_purchases
FROM members_member m
LEFT JOIN (SELECT member_id, SUM(points) AS total FROM loyalty_ledgerentry GROUP BY member_id) l
       ON l.member_id = m.id
LEFT JOIN (SELECT member_id, SUM(remaining) AS total FROM loyalty_pointslot GROUP BY member_id) lt
       ON lt.member_id = m.id
LEFT JOIN (SELECT member_id, SUM(points_pending) AS total FROM loyalty_purchase
           WHERE confirmed_at IS NULL GROUP BY member_id) p
       ON p.member_id = m.id
WHERE m.points_balance <> COALESCE(l.total, 0)
   OR m.points_balance <> COALESCE(lt.total, 0)
   OR m.pending_points <> COALESCE(p.total, 0)
   OR m.points_balance < 0
ORDER BY m.id
"""

_LOT_SQL = """
SELECT lot.id AS lot_id, lot.member_id, lot.points, lot.remaining, e.points AS entry_points,
       e.member_id AS entry_member_id
FROM loyalty_pointslot lot JOIN loyalty_ledgerentry e ON e.id = lot.entry_id
WHERE lot.points <> e.points OR lot.member_id <> e.member_id OR lot.remaining < 0 OR lot.remaining > lot.points
ORDER BY lot.id
"""


def ledger_mismatches() -> dict[str, list]:
    """Every member whose balance differs from the ledger sum or the open lots, or whose pending points
    differ from their unconfirmed purchases; and every lot inconsistent with its entry. Set-based SQL."""
    with connection.cursor() as cursor:
        cursor.execute(_MISMATCH_SQL)
        members = fetch_all(cursor)  # member_id, member_number, balance, ledger_sum, lots_remaining, pending, …
        cursor.execute(_LOT_SQL)
        lots = fetch_all(cursor)  # lot_id, member_id, points, remaining, entry_points, entry_member_id
    return {"members": members, "lots": lots}


# ------------------------------------------------------------------------------------- personal data export
def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def member_purchases_export(member: Member) -> list[dict]:
    """The member's purchases with their items and returns (members.services.personal_data_export)."""
    purchases = (Purchase.objects.filter(member=member).prefetch_related("items", "returns")
                 .order_by("occurred_at", "pk"))
    return [{
        "order_id": p.order_id, "source": p.source, "amount": str(p.amount), "currency": p.currency,
        "occurred_at": _iso(p.occurred_at), "status": p.status, "points_earned": p.points_earned,
        "points_pending": p.points_pending, "returned_amount": str(p.returned_amount),
        "items": [{"sku": i.sku, "name": i.name, "category": i.category, "quantity": i.quantity,
                   "unit_price": str(i.unit_price)} for i in p.items.all()],
        "returns": [{"return_id": r.return_id, "amount": str(r.amount), "points_reversed": r.points_reversed,
                     "at": _iso(r.created_at)} for r in p.returns.all()],
    } for p in purchases]


def member_ledger_export(member: Member) -> list[dict]:
    """The member's points history, oldest first, each entry as the member reads it (the sentence, in the
    active language)."""
    entries = ledger_entries_describe(entries=LedgerEntry.objects.filter(member=member).select_related(
        *LEDGER_TEXT_RELATED).order_by("created_at", "pk"))
    return [{
        "at": _iso(e.created_at), "kind": e.kind, "points": e.points, "balance_after": e.balance_after,
        "description": e.member_description, "reference": e.reference,
    } for e in entries]
