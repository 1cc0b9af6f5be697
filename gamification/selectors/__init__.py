"""Gamification reads: a member's challenges and badges and a challenge's board (`challenges`), the points
leaderboards and their keys (`leaderboards`)."""

from gamification.selectors.challenges import badges_for_member, challenge_board, challenges_for_member
from gamification.selectors.leaderboards import board_around, board_top, period_get

__all__ = [
    "badges_for_member",
    "board_around",
    "board_top",
    "challenge_board",
    "challenges_for_member",
    "period_get",
]
