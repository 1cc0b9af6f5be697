"""What the member can redeem now, on the portal's home page (members.portal)."""

from __future__ import annotations

from django.db.models import Q

from members.models import Member
from members.portal import HomeSection
from rewards.selectors import reward_list_available

HOME_REWARDS = 3


def home_rewards(member: Member) -> HomeSection:
    rank = member.tier.rank if member.tier_id else 0
    within_tier = Q(minimum_tier__isnull=True) | Q(minimum_tier__rank__lte=rank)
    affordable = list(reward_list_available(affordable_for=member).filter(within_tier)
                      .order_by("-cost_points", "pk")[:HOME_REWARDS + 1])
    return HomeSection(template="portal/_home/rewards.html", order=30,
                       context={"rewards": affordable[:HOME_REWARDS], "more": len(affordable) > HOME_REWARDS})
