"""The member's running challenges on the portal's home page (members.portal)."""

from __future__ import annotations

from gamification.selectors.challenges import challenges_for_member
from members.models import Member
from members.portal import HomeSection

HOME_CHALLENGES = 3


def home_challenges(member: Member) -> HomeSection | None:
    running = [row for row in challenges_for_member(member=member)
               if row["open"] and row["joined"] and not row["completed"]]
    if not running:
        return None
    return HomeSection(template="portal/_home/challenges.html", order=20,
                       context={"challenges": running[:HOME_CHALLENGES], "more": len(running) > HOME_CHALLENGES})
