"""The portal's home page is assembled from the apps: loyalty owns the page (balance, tier, expiry), and the
apps above it plug in a section each (gamification: the challenges running for the member; rewards: what the
member can afford now) with `home_section_register`, as they plug into the admin's member page and the personal
data export. A section is `fn(member) -> HomeSection | None` (None: nothing to show); each costs a bounded
number of queries, whatever the member's history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from members.models import Member


@dataclass
class HomeSection:
    template: str  # included in the loop over the sections: it reads `section.context` (and `member`)
    context: dict[str, Any] = field(default_factory=dict)
    order: int = 50


HOME_SECTIONS: list[Callable[[Member], HomeSection | None]] = []


def home_section_register(fn: Callable[[Member], HomeSection | None]) -> Callable[[Member], HomeSection | None]:
    if fn not in HOME_SECTIONS:
        HOME_SECTIONS.append(fn)
    return fn


def home_sections(*, member: Member) -> list[HomeSection]:
    sections = [section for fn in HOME_SECTIONS if (section := fn(member)) is not None]
    return sorted(sections, key=lambda s: s.order)
