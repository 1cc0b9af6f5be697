"""Gamification writes: challenge events, progress and completion (`challenges`), the Redis leaderboards
(`leaderboards`)."""

from gamification.services.challenges import (
    Event,
    challenge_event_record,
    challenge_event_undo,
    challenge_join,
    challenges_recompute,
)
from gamification.services.leaderboards import board_visibility_apply, boards_rebuild

__all__ = [
    "Event",
    "board_visibility_apply",
    "boards_rebuild",
    "challenge_event_record",
    "challenge_event_undo",
    "challenge_join",
    "challenges_recompute",
]
