"""Many purchases at once, set-based: the same rules and idempotency as `purchase_record`, in a handful of
queries per batch instead of a handful per purchase.

Queries for a batch of N purchases, whatever N: members by id and by e-mail (2), existing orders (1),
member locks (1), the purchase INSERT … ON CONFLICT DO NOTHING RETURNING (1), items (1), pending points (1),
tier figures (2). Back-dated purchases that confirm at once add the ledger's bulk credit (≈6). Referral
rewards and tier upgrades, which are rare, go through the one-at-a-time services.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext

from config.api import first_validation_message
from config.exceptions import DomainError
from config.sql import fetch_all
from loyalty import ledger
from loyalty.models import LedgerEntry, Purchase, PurchaseItem
from loyalty.offers import earn_offers_live, earn_offers_used
from loyalty.rules import Line, Rule, earning_rules_active, points_for_purchase
from loyalty.selectors import qualifying_figures_many
from loyalty.serializers import purchase_input
from loyalty.services.purchases import (
    ItemIn,
    PurchaseIn,
    pending_points_change_many,
    purchase_validate,
    referral_reward_pay,
)
from loyalty.signals import purchase_confirmed, send_after_commit
from members.exceptions import MemberNotFound
from members.models import Member
from members.selectors import members_find_many
from members.services import tier_for_figures, tier_upgrade_if_qualified, tiers_ranked

_INSERT = """
INSERT INTO loyalty_purchase (member_id, source, order_id, amount, currency, occurred_at, status, awards_points,
    points_earned, points_pending, points_reversed, returned_amount, confirm_after, confirmed_at,
    earn_breakdown, request_hash, created_at)
SELECT m, s, o, a, c, t, st, ap, pe, pp, 0, 0, ca, cd, eb, rh, %s
FROM unnest(%s::bigint[], %s::varchar[], %s::varchar[], %s::numeric[], %s::varchar[], %s::timestamptz[],
            %s::varchar[], %s::bool[], %s::int[], %s::int[], %s::timestamptz[], %s::timestamptz[], %s::text[],
            %s::varchar[]) AS u(m, s, o, a, c, t, st, ap, pe, pp, ca, cd, eb, rh)
ON CONFLICT (source, order_id) DO NOTHING
RETURNING id, source, order_id
"""


def _error(index: int, code: str, detail: str | Promise, field: str | None = None) -> dict:
    out = {"index": index, "result": "error", "code": code, "detail": str(detail)}  # a lazy text, in the language now
    if field:
        out["field"] = field
    return out


def _ok(index: int, result: str, purchase_id: int, data: PurchaseIn, points: int, status: str) -> dict:
    return {"index": index, "result": result, "id": purchase_id, "order_id": data.order_id, "source": data.source,
            "points": points, "status": status}


def purchases_record_batch(*, items: list[dict], awards_points: bool = True, now: datetime | None = None,
                           validated: list[tuple[int, dict]] | None = None) -> list[dict]:
    """Record purchases; one result per item (created / replayed / error with code). Bad items reject only
    themselves. `validated` lets the CSV import pass rows it has already parsed (index, attrs)."""
    now = now or timezone.now()
    results: list[dict | None] = [None] * len(items)

    # 1. Shape of each item (no database).
    if validated is None:
        validated = []
        for i, raw in enumerate(items):
            if not isinstance(raw, dict):
                results[i] = _error(i, "invalid", gettext("Each purchase must be a JSON object."))
                continue
            s = purchase_input(raw)
            if s.is_valid():
                validated.append((i, s.validated_data))
            else:
                field, message = first_validation_message(s.errors)
                results[i] = _error(i, "invalid", message, field)

    # 2. Members, by id and by e-mail: two queries.
    by_id, by_email = members_find_many(
        ids={a["member"] for _, a in validated if a.get("member")},
        emails={a["member_email"] for _, a in validated if not a.get("member") and a.get("member_email")},
    )

    # 3. Normalise and check each against the program; collapse duplicates inside the batch.
    rules = earning_rules_active()
    candidates: dict[tuple[str, str], tuple[int, PurchaseIn, str, Member]] = {}
    echoes: list[tuple[int, PurchaseIn, str]] = []
    for i, a in validated:
        member = by_id.get(a["member"]) if a.get("member") else by_email.get(a["member_email"].lower())
        if member is None:
            unknown = MemberNotFound(field="member" if a.get("member") else "member_email")
            results[i] = _error(i, unknown.code, unknown.detail, unknown.field)
            continue
        data = PurchaseIn(
            member_id=member.pk, order_id=a["order_id"], amount=a["amount"], occurred_at=a["occurred_at"],
            currency=a.get("currency", ""), source=a.get("source", ""),
            items=tuple(ItemIn(**item) for item in a.get("items", [])),
        ).normalised()
        try:
            purchase_validate(data, now=now)
        except DomainError as exc:
            results[i] = _error(i, exc.code, exc.detail, exc.field)
            continue
        key = (data.source, data.order_id)
        if key in candidates:
            echoes.append((i, data, data.request_hash()))
        else:
            candidates[key] = (i, data, data.request_hash(), member)

    # 4. Orders already recorded: one query.
    existing: dict[tuple[str, str], Purchase] = {}
    if candidates:
        order_ids = {k[1] for k in candidates}
        sources = {k[0] for k in candidates}
        for p in Purchase.objects.filter(order_id__in=order_ids, source__in=sources):
            existing[(p.source, p.order_id)] = p
    fresh = []
    for key, (i, data, digest, member) in candidates.items():
        if key in existing:
            results[i] = _replay_result(i, existing[key], data, digest)
        else:
            fresh.append((i, data, digest, member))

    if fresh:
        _insert_fresh(fresh, results, rules=rules, awards_points=awards_points, now=now)

    # 5. Duplicates inside the batch answer like a second post of the same order.
    for i, data, digest in echoes:
        first = Purchase.objects.filter(source=data.source, order_id=data.order_id).first()
        results[i] = (_replay_result(i, first, data, digest) if first is not None
                      else _error(i, "order_conflict", gettext("The first copy of this order in the batch failed."),
                                  "order_id"))
    return results  # type: ignore[return-value]


def _replay_result(i: int, purchase: Purchase, data: PurchaseIn, digest: str) -> dict:
    if purchase.request_hash != digest:
        return _error(i, "order_conflict", gettext("Order %(order_id)s was already posted with different details.")
                      % {"order_id": repr(data.order_id)}, "order_id")
    return _ok(i, "replayed", purchase.pk, data, purchase.points_earned, purchase.status)


@transaction.atomic
def _insert_fresh(fresh: list[tuple[int, PurchaseIn, str, Member]], results: list[dict | None], *,
                  rules: list[Rule], awards_points: bool, now: datetime) -> None:
    window = timedelta(days=settings.FIDELIO_RETURN_WINDOW_DAYS)
    member_ids = sorted({m.pk for _, _, _, m in fresh})
    # Lock the members in id order (the same order every writer uses) for the whole batch.
    tiers = {
        pk: (rank, multiplier, name, tier_id)
        for pk, rank, multiplier, name, tier_id in Member.objects.select_for_update(of=("self",))
        .filter(pk__in=member_ids).order_by("pk").values_list("pk", "tier__rank", "tier__earn_multiplier",
                                                               "tier__name", "tier_id")
    }
    rows = []
    # Personal offers: one look-up for the batch's members (under their locks). A limited offer's uses are counted
    # down across the member's purchases in this batch; the uses are recorded for the purchases inserted.
    offers = earn_offers_live(member_ids=member_ids) if awards_points else {}
    uses_left = {o.key: o.uses_left for mine in offers.values() for o in mine}
    for i, data, digest, member in fresh:
        used: dict[int, int] = {}
        if awards_points:
            _, multiplier, name, _tier_id = tiers[member.pk]
            points, breakdown = points_for_purchase(
                amount=data.amount, occurred_at=data.occurred_at, rules=rules,
                tier_multiplier=multiplier or Decimal("1"), tier_name=name or "",
                items=[Line(it.sku, it.category, it.quantity, it.unit_price) for it in data.items],
                offers=[replace(o, uses_left=uses_left[o.key]) for o in offers.get(member.pk, ())], offers_used=used,
            )
            for key in used:
                left = uses_left[key]
                if left is not None:
                    uses_left[key] = left - 1
        else:
            points, breakdown = 0, "history import: no points"
        confirm_after = data.occurred_at + window
        at_once = confirm_after <= now
        rows.append((i, data, digest, member, points, breakdown, confirm_after, at_once, used))

    cols = list(zip(*[
        (m.pk, d.source, d.order_id, d.amount, d.currency, d.occurred_at,
         Purchase.Status.CONFIRMED if once else Purchase.Status.PENDING, awards_points, pts,
         0 if once else pts, ca, now if once else None, bd, dg)
        for _, d, dg, m, pts, bd, ca, once, _used in rows
    ], strict=True))
    with connection.cursor() as cursor:
        cursor.execute(_INSERT, [now, *[list(c) for c in cols]])
        inserted = {(row["source"], row["order_id"]): row["id"] for row in fetch_all(cursor)}

    items: list[PurchaseItem] = []
    pending: dict[int, int] = {}
    credits: list[ledger.Credit] = []
    confirmed_members: set[int] = set()
    confirmed: list[tuple[Purchase, tuple[str, ...]]] = []
    offer_uses: dict[int, tuple[int, int]] = {}
    for i, data, digest, member, points, breakdown, _confirm_after, at_once, used in rows:
        pk = inserted.get((data.source, data.order_id))
        if pk is None:  # a concurrent request recorded this order first
            raced = Purchase.objects.get(source=data.source, order_id=data.order_id)
            results[i] = _replay_result(i, raced, data, digest)
            continue
        for key, added in used.items():
            count, points_added = offer_uses.get(key, (0, 0))
            offer_uses[key] = (count + 1, points_added + added)
        items.extend(
            PurchaseItem(purchase_id=pk, sku=it.sku, name=it.name, category=it.category, quantity=it.quantity,
                         unit_price=it.unit_price) for it in data.items
        )
        if at_once:
            confirmed_members.add(member.pk)
            purchase = Purchase(pk=pk, member_id=member.pk, source=data.source, order_id=data.order_id,
                                amount=data.amount, occurred_at=data.occurred_at, points_earned=points,
                                status=Purchase.Status.CONFIRMED, confirmed_at=now)
            confirmed.append((purchase, tuple(sorted({it.category for it in data.items if it.category}))))
            if points:
                credits.append(ledger.Credit(
                    member_id=member.pk, points=points, kind=LedgerEntry.Kind.EARN, purchase_id=pk,
                    description=f"Order {data.order_id}: {breakdown}",
                    reference=f"purchase:{data.source}:{data.order_id}", idempotency_key=f"earn:purchase:{pk}",
                    expires_at=ledger.lot_expiry(earned_at=data.occurred_at),
                ))
        elif points:
            pending[member.pk] = pending.get(member.pk, 0) + points
        status = Purchase.Status.CONFIRMED if at_once else Purchase.Status.PENDING
        results[i] = _ok(i, "created", pk, data, points, status)
    if items:
        PurchaseItem.objects.bulk_create(items, batch_size=2000)
    earn_offers_used(counts=offer_uses)
    pending_points_change_many(deltas=pending)
    ledger.points_credit_many(credits=credits, now=now)

    for purchase, categories in confirmed:  # announced after commit, as purchase_confirm does
        send_after_commit(purchase_confirmed, purchase=purchase, tier_id=tiers[purchase.member_id][3],
                          categories=categories, now=now)

    # Referral rewards: only members with a referrer not yet rewarded (rare), one at a time.
    if confirmed_members:
        for member in Member.objects.filter(pk__in=confirmed_members, referred_by__isnull=False,
                                            referral_rewarded_at__isnull=True):
            referral_reward_pay(member, now=now)

    # Tiers: one aggregate for all members; upgrades (rare) one at a time.
    # Members already at the top tier cannot move up: their histories are not aggregated.
    ranked = tiers_ranked()
    top_rank = ranked[0].rank if ranked else 0
    climbers = [pk for pk in member_ids if (tiers[pk][0] or 0) < top_rank] if awards_points else []
    if climbers:
        figures = qualifying_figures_many(member_ids=climbers, now=now)
        for pk in climbers:
            best = tier_for_figures(figures=figures[pk], basis=settings.FIDELIO_TIER_BASIS, tiers=ranked)
            current_rank = tiers[pk][0] or 0
            if best is not None and best.rank > current_rank:
                tier_upgrade_if_qualified(member=Member(pk=pk), figures=figures[pk],
                                          basis=settings.FIDELIO_TIER_BASIS, now=now)
