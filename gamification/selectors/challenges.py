"""Challenge reads: a member's open challenges with progress, their badges, a challenge's leaderboard."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import F
from django.utils import timezone

from gamification.exceptions import ChallengeNotFound
from gamification.models import Badge, Challenge, ChallengeParticipation, MemberBadge
from members.models import Member
from members.selectors import member_public_name


def challenge_audiences(challenges: list[Challenge]) -> dict[int, set[int]]:
    """The tiers each challenge is limited to (one query; a challenge without any is for every member)."""
    through = Challenge.audience_tiers.through
    out: dict[int, set[int]] = {}
    for challenge_id, tier_id in through.objects.filter(challenge__in=challenges).values_list("challenge_id",
                                                                                               "tier_id"):
        out.setdefault(challenge_id, set()).add(tier_id)
    return out


def in_audience(challenge: Challenge, tier_id: int | None, audiences: dict[int, set[int]]) -> bool:
    tiers = audiences.get(challenge.pk, set())
    return not tiers or tier_id in tiers


def challenges_for_member(*, member: Member, now: datetime | None = None) -> list[dict]:
    """Open challenges the member may take part in, with their current period's progress (3 queries)."""
    now = now or timezone.now()
    challenges = list(Challenge.objects.filter(is_active=True, ends_at__gt=now).select_related("badge")
                      .order_by("ends_at", "pk"))
    audiences = challenge_audiences(challenges)
    challenges = [c for c in challenges if in_audience(c, member.tier_id, audiences)]
    current = {c.pk: c.period_at(max(now, c.starts_at)) for c in challenges}
    mine = {(p.challenge_id, p.period_start): p for p in ChallengeParticipation.objects.filter(
        member=member, challenge__in=challenges,
        period_start__in=[p[0] for p in current.values() if p])}
    out = []
    for c in challenges:
        period = current[c.pk]
        p = mine.get((c.pk, period[0])) if period else None
        progress = p.progress if p else Decimal("0")
        out.append({
            "challenge": c, "participation": p, "progress": progress,
            "percent": min(100, int(progress * 100 / c.target)) if c.target else 0,
            "joined": p is not None or c.enrolment == Challenge.Enrolment.AUTOMATIC,
            "completed": bool(p and p.completed_at), "open": c.starts_at <= now,
            "period_end": period[1] if period else c.ends_at,
        })
    return out


def badges_for_member(*, member: Member) -> list[dict]:
    earned = {b.badge_id: b.earned_at for b in MemberBadge.objects.filter(member=member)}
    return [{"badge": b, "earned_at": earned.get(b.pk)} for b in Badge.objects.all()]


# ------------------------------------------------------------------------------------------- challenge board
def challenge_board(*, challenge_id: int, member: Member | None = None, limit: int = 100,
                    now: datetime | None = None) -> dict:
    """A challenge's leaderboard for its current period (the last one once it has ended): participants with
    progress, best first (ties share a rank; the earlier finisher first), by their public names; hidden
    members are left out for others but see where they stand. Two queries, three with `member`."""
    now = now or timezone.now()
    challenge = Challenge.objects.filter(pk=challenge_id, is_active=True).first()
    if challenge is None:
        raise ChallengeNotFound()
    moment = min(max(now, challenge.starts_at), challenge.ends_at - timedelta(microseconds=1))
    start, end = challenge.period_at(moment)
    visible = (ChallengeParticipation.objects.filter(challenge=challenge, period_start=start, progress__gt=0)
               .exclude(member__leaderboard_visibility=Member.LeaderboardVisibility.HIDDEN))
    rows = list(visible.order_by("-progress", F("completed_at").asc(nulls_last=True), "member_id").values_list(
        "member_id", "progress", "member__display_name", "member__member_number", "member__leaderboard_visibility",
    )[:limit])
    results, rank, previous = [], 0, None
    for i, (member_id, progress, display_name, number, visibility) in enumerate(rows):
        rank = rank if progress == previous else i + 1
        previous = progress
        results.append({"rank": rank, "points": progress, "is_me": member is not None and member_id == member.pk,
                        "name": member_public_name(display_name=display_name, member_number=number,
                                                   visibility=visibility)})
    board = {"challenge": challenge.pk, "title": challenge.title, "target": challenge.target, "starts_at": start,
             "ends_at": end, "results": results}
    if member is not None:
        mine = ChallengeParticipation.objects.filter(challenge=challenge, period_start=start,
                                                     member=member).values_list("progress", flat=True).first()
        ahead = visible.filter(progress__gt=mine).exclude(member=member).count() if mine else None
        board["me"] = {"progress": mine or Decimal("0"), "rank": ahead + 1 if mine else None}
    return board


def member_challenges_export(member: Member) -> dict:
    """The member's challenge progress and badges (members.services.personal_data_export)."""
    participations = (ChallengeParticipation.objects.filter(member=member).select_related("challenge")
                      .order_by("period_start", "pk"))
    badges = MemberBadge.objects.filter(member=member).select_related("badge").order_by("earned_at", "pk")
    return {
        "challenges": [{
            "challenge": p.challenge.title, "period_start": p.period_start.isoformat(),
            "period_end": p.period_end.isoformat(), "joined_at": p.joined_at.isoformat(), "progress": str(p.progress),
            "completed_at": p.completed_at.isoformat() if p.completed_at else None,
        } for p in participations],
        "badges": [{"badge": b.badge.name, "earned_at": b.earned_at.isoformat()} for b in badges],
    }
