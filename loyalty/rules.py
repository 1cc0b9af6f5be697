"""Money → points. The one place the earning rules are applied; docs/points.md explains it for staff.

How rules combine, for a purchase of `amount` at `occurred_at`:
1. Only rules that are active, inside their campaign window and on an allowed weekday (program time) apply.
2. Base rate: the highest applicable base-rate rule's rate, or FIDELIO_POINTS_PER_UNIT when none applies.
3. The amount is split over the items in proportion to their list value (quantity × unit price), so
   discounts and shipping spread evenly; without items the purchase is one line with no category or SKU.
4. Each line gets the highest applicable multiplier whose scope matches it (whole purchase, its category, or
   its SKU). Multipliers do not stack: the best one wins, which keeps campaigns' cost predictable.
5. The tier's earn multiplier applies to the sum.
6. The result is rounded DOWN to whole points, once, at the end (members never get fractional points, and
   rounding per line would lose more).
7. Flat bonus rules add their points afterwards (not multiplied): scope "all" when the amount reaches the
   rule's minimum, a category or SKU rule when any item matches.
8. A member's personal offers (loyalty.offers, from campaigns) come on top: an offer's multiplier multiplies the
   points of the lines it covers (its category, or every line) after the rules' multiplier, the best offer per
   line (offers do not stack with each other); a bonus offer adds its points like a bonus rule. Either needs the
   purchase to reach the offer's minimum amount, and counts as used only when it added something.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from django.conf import settings

from config.memo import memo_forget, memo_get
from config.periods import program_tz
from loyalty.models import EarningRule
from loyalty.offers import EarnOffer

RULES_CACHE_KEY = "loyalty:earning-rules:v1"
RULES_CACHE_SECONDS = 60


@dataclass(frozen=True)
class Line:
    sku: str = ""
    category: str = ""
    quantity: int = 1
    unit_price: Decimal = Decimal("0")


@dataclass(frozen=True)
class Rule:
    name: str
    rule_type: str
    scope: str
    scope_value: str
    rate: Decimal
    bonus_points: int
    min_amount: Decimal
    starts_at: datetime | None
    ends_at: datetime | None
    weekdays: frozenset[int] = field(default_factory=frozenset)

    def applies_at(self, moment: datetime) -> bool:
        if self.starts_at and moment < self.starts_at:
            return False
        if self.ends_at and moment >= self.ends_at:
            return False
        return not self.weekdays or moment.astimezone(program_tz()).weekday() in self.weekdays

    def matches(self, line: Line) -> bool:
        if self.scope == EarningRule.Scope.ALL:
            return True
        if self.scope == EarningRule.Scope.CATEGORY:
            return line.category.casefold() == self.scope_value.casefold()
        return line.sku == self.scope_value


def _parse_weekdays(value: str) -> frozenset[int]:
    return frozenset(int(part) for part in value.replace(" ", "").split(",") if part.isdigit() and int(part) < 7)


def _rules_load() -> list[Rule]:
    return [
        Rule(r.name, r.rule_type, r.scope, r.scope_value, r.rate, r.bonus_points, r.min_amount,
             r.starts_at, r.ends_at, _parse_weekdays(r.weekdays))
        for r in EarningRule.objects.filter(is_active=True)
    ]


def earning_rules_active() -> list[Rule]:
    """Active rules, memoised per process (seconds) and in Redis; staff edits clear both
    (earning_rules_changed), other processes follow within config.memo.MEMO_SECONDS."""
    return memo_get(RULES_CACHE_KEY, _rules_load, shared_seconds=RULES_CACHE_SECONDS)


def earning_rules_changed() -> None:
    memo_forget(RULES_CACHE_KEY)


def _fmt(value: Decimal) -> str:
    return f"{value.normalize():f}"


def points_for_purchase(
    *,
    amount: Decimal,
    occurred_at: datetime,
    tier_multiplier: Decimal = Decimal("1"),
    tier_name: str = "",
    items: list[Line] | None = None,
    rules: list[Rule] | None = None,
    offers: list[EarnOffer] | None = None,
    offers_used: dict[int, int] | None = None,
) -> tuple[int, str]:
    """Points for a purchase and a one-line breakdown for the ledger entry's description. The offers that added
    points are put into `offers_used` when the caller passes a dict: {offer key: the points it added} (a
    multiplier's share rounded down on its own, for the offer's cost)."""
    if rules is None:
        rules = earning_rules_active()
    applicable = [r for r in rules if r.applies_at(occurred_at)]
    base_rules = [r for r in applicable if r.rule_type == EarningRule.RuleType.BASE_RATE]
    base = max((r.rate for r in base_rules), default=Decimal(settings.FIDELIO_POINTS_PER_UNIT))
    currency = settings.FIDELIO_CURRENCY

    lines = [line for line in (items or []) if line.quantity > 0]
    list_total = sum((line.unit_price * line.quantity for line in lines), Decimal("0"))
    if not lines or list_total <= 0:
        lines, shares = [Line()], [amount]
    else:
        shares = [amount * line.unit_price * line.quantity / list_total for line in lines]

    multipliers = [r for r in applicable if r.rule_type == EarningRule.RuleType.MULTIPLIER]
    reached = [o for o in (offers or []) if amount >= o.min_amount and o.uses_left != 0 and o.open_at(occurred_at)]
    offer_multipliers = [o for o in reached if o.multiplier > 1]
    raw = Decimal("0")
    boosted: dict[str, Decimal] = {}
    offered: dict[int, Decimal] = {}
    offer_extra: dict[int, Decimal] = {}  # a multiplier offer's points, before the tier multiplier and rounding
    offers_bonus: dict[int, int] = {}
    for line, share in zip(lines, shares, strict=True):
        best = max((r for r in multipliers if r.matches(line)), key=lambda r: r.rate, default=None)
        factor = best.rate if best else Decimal("1")
        if best and factor != 1:
            boosted[best.name] = boosted.get(best.name, Decimal("0")) + share
        offer = max((o for o in offer_multipliers if o.matches(line.category)), key=lambda o: o.multiplier,
                    default=None)
        if offer is not None:
            offer_extra[offer.key] = offer_extra.get(offer.key, Decimal("0")) + share * base * factor * (
                offer.multiplier - 1)
            factor *= offer.multiplier
            offered[offer.key] = offered.get(offer.key, Decimal("0")) + share
        raw += share * base * factor
    raw *= tier_multiplier
    points = int(raw.to_integral_value(rounding=ROUND_DOWN))

    parts = [f"{_fmt(amount)} {currency} × {_fmt(base)} pt/{currency}"]
    for name, share in boosted.items():
        factor = next(r.rate for r in multipliers if r.name == name)
        parts.append(f"×{_fmt(factor)} '{name}' on {share.quantize(Decimal('0.01'))} {currency}")
    for key, share in offered.items():
        offer = next(o for o in offer_multipliers if o.key == key)
        parts.append(f"×{_fmt(offer.multiplier)} offer '{offer.name}' on {share.quantize(Decimal('0.01'))} {currency}")
    if tier_multiplier != 1:
        parts.append(f"tier {tier_name} ×{_fmt(tier_multiplier)}")
    breakdown = ", ".join(parts) + f" = {points}"

    for rule in (r for r in applicable if r.rule_type == EarningRule.RuleType.BONUS and r.bonus_points):
        if rule.scope == EarningRule.Scope.ALL:
            hit = amount >= rule.min_amount
        else:
            hit = any(rule.matches(line) for line in lines)
        if hit:
            points += rule.bonus_points
            breakdown += f", + {rule.bonus_points} '{rule.name}'"
    for offer in (o for o in reached if o.bonus_points > 0):
        if any(offer.matches(line.category) for line in lines):
            points += offer.bonus_points
            breakdown += f", + {offer.bonus_points} '{offer.name}'"
            offers_bonus[offer.key] = offer.bonus_points
    if offers_used is not None:
        for key, extra in offer_extra.items():
            offers_used[key] = int((extra * tier_multiplier).to_integral_value(rounding=ROUND_DOWN))
        offers_used.update(offers_bonus)
    return points, f"{breakdown} → {points} points"
