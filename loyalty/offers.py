"""The hook through which personal offers reach the earn path (DESIGN.md: "Offers reach the earn path through a
hook that loyalty defines").

Loyalty cannot import the apps above it, so the app that owns offers (campaigns) registers, in its `ready()`, a
source with two functions:

- `live(member_ids)` → {member id: [EarnOffer, …]}: the offers each member may use (assigned to them, not held
  out, activated where that is needed, not ended, within their per-member limit); each carries its window, which
  `points_for_purchase` checks against the purchase's time. It answers from a memo without a query when no offer
  is live, so a program without offers pays nothing.
- `used(counts)`: {EarnOffer.key: (purchases, points)} of the offers that counted on purchases just recorded (on how
  many, and the points they added: the offer's cost), called in the same transaction, under the members' row locks
  (the per-member limit is checked and counted there).

`loyalty.rules.points_for_purchase` applies the offers (docs/points.md: an offer's multiplier applies on top of
the rules' result for the lines it covers, the best offer per line; a bonus offer adds flat points).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class EarnOffer:
    key: int  # the source's own id for the member's copy of the offer (campaigns: the assignment)
    name: str
    multiplier: Decimal = Decimal("1")  # 1: no multiplier
    bonus_points: int = 0
    category: str = ""  # "": the whole purchase
    min_amount: Decimal = Decimal("0")
    uses_left: int | None = None  # None: no per-member limit
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    def open_at(self, moment: datetime) -> bool:
        return (self.starts_at is None or self.starts_at <= moment) and (self.ends_at is None or moment < self.ends_at)

    def matches(self, category: str) -> bool:
        return not self.category or category.casefold() == self.category.casefold()


@dataclass(frozen=True)
class EarnOfferSource:
    live: Callable[[list[int]], dict[int, list[EarnOffer]]]
    used: Callable[[dict[int, tuple[int, int]]], None]


_source: EarnOfferSource | None = None


def earn_offers_register(source: EarnOfferSource) -> None:
    global _source
    _source = source


def earn_offers_live(*, member_ids: list[int]) -> dict[int, list[EarnOffer]]:
    return _source.live(member_ids) if _source is not None and member_ids else {}


def earn_offers_used(*, counts: dict[int, tuple[int, int]]) -> None:
    if _source is not None and counts:
        _source.used(counts)
