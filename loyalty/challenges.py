"""Challenges and badges: progress from events, completion rewarded exactly once.

Events: purchase confirmed, purchase returned, referral confirmed, review approved, survey answered (the last
two arrive with the feedback app; `challenge_event_record` takes them already). Each event has a natural key
(``purchase:<id>``, ``referral:<member id>``, ``review:<id>`` …); a participation counts a key once, so an
event delivered twice changes nothing. Progress is recomputed from the participation's events under its row
lock, so concurrent events and retries cannot double-count. Completion is claimed with a conditional UPDATE
(completed_at IS NULL) and its points carry the idempotency key ``challenge:<participation id>``: granted
once. A return undoes its purchase's events (progress goes down); a challenge already completed keeps its
completion and reward.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from config.exceptions import Conflict, NotFound
from loyalty import ledger
from loyalty.models import (
    Challenge,
    ChallengeEvent,
    ChallengeParticipation,
    LedgerEntry,
    MemberBadge,
    Purchase,
)
from loyalty.signals import challenge_completed
from members.models import Member
from members.periods import add_months, program_tz

Goal = Challenge.Goal

# Which event kinds feed which goals.
EVENT_GOALS = {
    "purchase": (Goal.PURCHASES, Goal.SPEND, Goal.CATEGORIES, Goal.STREAK),
    "referral": (Goal.REFERRALS,),
    "review": (Goal.REVIEWS,),
    "survey": (Goal.SURVEYS,),
}


class ChallengeClosed(Conflict):
    code = "challenge_closed"
    default_detail = "This challenge has ended."


class ChallengeNotOpen(Conflict):
    code = "challenge_not_open"
    default_detail = "This challenge has not started yet."


class NotInAudience(Conflict):
    code = "not_in_audience"
    default_detail = "This challenge is for other tiers."


@dataclass(frozen=True)
class Event:
    kind: str  # purchase, referral, review, survey
    key: str  # natural key, e.g. purchase:123
    member_id: int
    occurred_at: datetime
    value: Decimal = Decimal("1")
    categories: tuple[str, ...] = field(default_factory=tuple)


# ------------------------------------------------------------------------------------------------ periods
def challenge_period(challenge: Challenge, moment: datetime) -> tuple[datetime, datetime] | None:
    """The period of `challenge` that contains `moment` (program time zone), or None outside the window."""
    if not challenge.starts_at <= moment < challenge.ends_at:
        return None
    if challenge.recurrence == Challenge.Recurrence.NONE:
        return challenge.starts_at, challenge.ends_at
    local = moment.astimezone(program_tz())
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    # Aware arithmetic in the program's zone keeps wall-clock midnight across DST changes.
    if challenge.recurrence == Challenge.Recurrence.WEEKLY:
        start = day - timedelta(days=day.weekday())
        end = start + timedelta(days=7)
    else:
        start = day.replace(day=1)
        end = add_months(start, 1)
    return max(start, challenge.starts_at), min(end, challenge.ends_at)


def _in_audience(challenge: Challenge, tier_id: int | None, audiences: dict[int, set[int]]) -> bool:
    tiers = audiences.get(challenge.pk, set())
    return not tiers or tier_id in tiers


def _audiences(challenges: list[Challenge]) -> dict[int, set[int]]:
    through = Challenge.audience_tiers.through
    out: dict[int, set[int]] = {}
    for challenge_id, tier_id in through.objects.filter(challenge__in=challenges).values_list("challenge_id",
                                                                                               "tier_id"):
        out.setdefault(challenge_id, set()).add(tier_id)
    return out


# ----------------------------------------------------------------------------------------------- progress
def _progress(challenge: Challenge, events: list[ChallengeEvent]) -> Decimal:
    live = [e for e in events if not e.undone]
    if challenge.goal == Goal.SPEND:
        return sum((e.value for e in live), Decimal("0"))
    if challenge.goal == Goal.CATEGORIES:
        return Decimal(len({c for e in live for c in e.categories if c}))
    if challenge.goal == Goal.STREAK:
        return Decimal(_longest_week_run([e.occurred_at for e in live]))
    return Decimal(len(live))


def _longest_week_run(moments: list[datetime]) -> int:
    """The longest run of consecutive ISO weeks (program time) with at least one event."""
    weeks = sorted({_week_index(m) for m in moments})
    best = run = 0
    previous = None
    for week in weeks:
        run = run + 1 if previous is not None and week == previous + 1 else 1
        best = max(best, run)
        previous = week
    return best


def _week_index(moment: datetime) -> int:
    local = moment.astimezone(program_tz()).date()
    return (local - timedelta(days=local.weekday())).toordinal() // 7


# ------------------------------------------------------------------------------------------------- events
def challenge_event_record(*, event: Event, now: datetime | None = None) -> list[ChallengeParticipation]:
    """Count one event for every active challenge it feeds (automatic enrolment, or opt-in members who had
    joined by then). Safe to repeat. Returns the participations whose challenge this event completed."""
    now = now or timezone.now()
    goals = EVENT_GOALS.get(event.kind, ())
    challenges = list(Challenge.objects.filter(
        is_active=True, goal__in=goals, starts_at__lte=event.occurred_at, ends_at__gt=event.occurred_at))
    if not challenges:
        return []
    tier_id = Member.objects.filter(pk=event.member_id).values_list("tier_id", flat=True).first()
    audiences = _audiences(challenges)
    completed = []
    for challenge in challenges:
        if not _in_audience(challenge, tier_id, audiences):
            continue
        period = challenge_period(challenge, event.occurred_at)
        done = _count(challenge, period, event, now=now)
        if done is not None:
            completed.append(done)
    return completed


@transaction.atomic
def _count(challenge: Challenge, period, event: Event, *, now: datetime) -> ChallengeParticipation | None:
    participation = _participation_locked(challenge, event.member_id, period, create=(
        challenge.enrolment == Challenge.Enrolment.AUTOMATIC), joined_at=period[0])
    if participation is None or event.occurred_at < participation.joined_at:
        return None  # opt-in and not joined (then): does not count
    _, created = ChallengeEvent.objects.get_or_create(
        participation=participation, key=event.key,
        defaults={"value": event.value, "categories": list(event.categories), "occurred_at": event.occurred_at},
    )
    if not created:
        return None
    return _refresh(participation, challenge, now=now)


def _participation_locked(challenge: Challenge, member_id: int, period, *, create: bool,
                          joined_at: datetime) -> ChallengeParticipation | None:
    qs = ChallengeParticipation.objects.select_for_update().filter(
        challenge=challenge, member_id=member_id, period_start=period[0])
    participation = qs.first()
    if participation is None and create:
        ChallengeParticipation.objects.bulk_create(
            [ChallengeParticipation(challenge=challenge, member_id=member_id, period_start=period[0],
                                    period_end=period[1], joined_at=joined_at)],
            ignore_conflicts=True,  # a concurrent event may create it first
        )
        participation = qs.first()
    return participation


def _refresh(participation: ChallengeParticipation, challenge: Challenge, *, now: datetime
             ) -> ChallengeParticipation | None:
    """Recompute progress from the events (under the participation's lock); complete and reward once."""
    progress = _progress(challenge, list(participation.events.all()))
    ChallengeParticipation.objects.filter(pk=participation.pk).update(progress=progress)
    participation.progress = progress
    if progress < challenge.target or participation.completed_at is not None:
        return None
    claimed = ChallengeParticipation.objects.filter(pk=participation.pk, completed_at__isnull=True).update(
        completed_at=now)
    if not claimed:
        return None
    participation.completed_at = now
    if challenge.bonus_points:
        entry = ledger.points_credit(
            member=participation.member_id, points=challenge.bonus_points, kind=LedgerEntry.Kind.CHALLENGE,
            description=f"Challenge completed: {challenge.title}", reference=f"challenge:{challenge.pk}",
            idempotency_key=f"challenge:{participation.pk}", now=now,
        )
        ChallengeParticipation.objects.filter(pk=participation.pk).update(reward_entry=entry)
        participation.reward_entry = entry
    if challenge.badge_id:
        MemberBadge.objects.get_or_create(member_id=participation.member_id, badge_id=challenge.badge_id,
                                          defaults={"earned_at": now, "challenge": challenge})
    challenge_completed.send(sender=Challenge, participation=participation, challenge=challenge, now=now)
    return participation


def challenge_event_undo(*, key: str, member_id: int, now: datetime | None = None) -> int:
    """A return took back the purchase `key` names: its events stop counting (progress goes down). A
    completed challenge keeps its completion and reward. Returns the participations changed."""
    now = now or timezone.now()
    changed = 0
    ids = list(ChallengeEvent.objects.filter(key=key, participation__member_id=member_id, undone=False)
               .values_list("participation_id", flat=True))
    for participation_id in ids:
        with transaction.atomic():
            participation = ChallengeParticipation.objects.select_for_update().select_related("challenge").get(
                pk=participation_id)
            ChallengeEvent.objects.filter(participation=participation, key=key).update(undone=True)
            _refresh(participation, participation.challenge, now=now)
            changed += 1
    return changed


# ------------------------------------------------------------------------------------------ event sources
def purchase_event(purchase: Purchase) -> Event:
    """A confirmed purchase as a challenge event: its amount net of returns, its item categories."""
    categories = tuple(sorted({c for c in purchase.items.values_list("category", flat=True) if c}))
    return Event(kind="purchase", key=f"purchase:{purchase.pk}", member_id=purchase.member_id,
                 occurred_at=purchase.occurred_at, value=purchase.amount - purchase.returned_amount,
                 categories=categories)


def challenges_on_purchase_confirmed(*, purchase: Purchase, now: datetime) -> None:
    if purchase.returned_amount >= purchase.amount:
        return
    challenge_event_record(event=purchase_event(purchase), now=now)


def challenges_on_purchase_returned(*, purchase: Purchase, now: datetime) -> None:
    """A return lowers progress: a full return undoes the purchase's events; a partial one lowers its
    spend by re-recording the net amount."""
    if purchase.returned_amount >= purchase.amount:
        challenge_event_undo(key=f"purchase:{purchase.pk}", member_id=purchase.member_id, now=now)
        return
    for event in ChallengeEvent.objects.filter(key=f"purchase:{purchase.pk}", undone=False).select_related(
            "participation__challenge"):
        with transaction.atomic():
            participation = ChallengeParticipation.objects.select_for_update().get(pk=event.participation_id)
            ChallengeEvent.objects.filter(pk=event.pk).update(value=purchase.amount - purchase.returned_amount)
            _refresh(participation, event.participation.challenge, now=now)


def challenges_on_referral_confirmed(*, referrer_id: int, referred_id: int, occurred_at: datetime,
                                     now: datetime) -> None:
    challenge_event_record(event=Event(kind="referral", key=f"referral:{referred_id}", member_id=referrer_id,
                                       occurred_at=occurred_at), now=now)


# --------------------------------------------------------------------------------------------------- join
def challenge_join(*, challenge_id: int, member: Member, now: datetime | None = None) -> ChallengeParticipation:
    """Opt in to a challenge's current period. Joining twice returns the same participation."""
    now = now or timezone.now()
    challenge = Challenge.objects.filter(pk=challenge_id, is_active=True).first()
    if challenge is None:
        raise NotFound("No such challenge.", code="challenge_not_found")
    if now < challenge.starts_at:
        raise ChallengeNotOpen(f"{challenge.title} starts on {challenge.starts_at:%Y-%m-%d}.")
    if now >= challenge.ends_at:
        raise ChallengeClosed(f"{challenge.title} ended on {challenge.ends_at:%Y-%m-%d}.")
    if not _in_audience(challenge, member.tier_id, _audiences([challenge])):
        raise NotInAudience()
    period = challenge_period(challenge, now)
    with transaction.atomic():
        participation = _participation_locked(challenge, member.pk, period, create=True, joined_at=now)
    return participation


# --------------------------------------------------------------------------------------------- recompute
def challenges_recompute(*, now: datetime | None = None) -> dict[str, int]:
    """Rebuild every participation's events and progress from the source data (confirmed purchases net of
    returns, confirmed referrals), through the same counting as the live path. Completions and rewards
    already granted stay. Safe to run at any time; running it twice changes nothing."""
    now = now or timezone.now()
    counted = 0
    challenges = list(Challenge.objects.filter(is_active=True))
    if not challenges:
        return {"events": 0}
    start = min(c.starts_at for c in challenges)
    end = max(c.ends_at for c in challenges)
    ChallengeEvent.objects.filter(participation__challenge__in=challenges).delete()
    purchases = (Purchase.objects.filter(confirmed_at__isnull=False, occurred_at__gte=start, occurred_at__lt=end)
                 .prefetch_related("items").order_by("pk"))
    for purchase in purchases.iterator(chunk_size=2000):
        if purchase.returned_amount < purchase.amount:
            categories = tuple(sorted({i.category for i in purchase.items.all() if i.category}))
            event = Event(kind="purchase", key=f"purchase:{purchase.pk}", member_id=purchase.member_id,
                          occurred_at=purchase.occurred_at, value=purchase.amount - purchase.returned_amount,
                          categories=categories)
            challenge_event_record(event=event, now=now)
            counted += 1
    referred = Member.objects.filter(referral_rewarded_at__isnull=False, referred_by__isnull=False,
                                     referral_rewarded_at__gte=start, referral_rewarded_at__lt=end)
    for m in referred.values("pk", "referred_by_id", "referral_rewarded_at"):
        challenges_on_referral_confirmed(referrer_id=m["referred_by_id"], referred_id=m["pk"],
                                         occurred_at=m["referral_rewarded_at"], now=now)
        counted += 1
    for participation in ChallengeParticipation.objects.filter(challenge__in=challenges).select_related("challenge"):
        with transaction.atomic():
            locked = ChallengeParticipation.objects.select_for_update().get(pk=participation.pk)
            _refresh(locked, participation.challenge, now=now)
    return {"events": counted}


# ---------------------------------------------------------------------------------------------- selectors
def challenges_for_member(*, member: Member, now: datetime | None = None) -> list[dict]:
    """Open challenges the member may take part in, with their current period's progress (3 queries)."""
    now = now or timezone.now()
    challenges = list(Challenge.objects.filter(is_active=True, ends_at__gt=now).select_related("badge")
                      .order_by("ends_at", "pk"))
    audiences = _audiences(challenges)
    challenges = [c for c in challenges if _in_audience(c, member.tier_id, audiences)]
    current = {c.pk: challenge_period(c, max(now, c.starts_at)) for c in challenges}
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
    from loyalty.models import Badge

    earned = {b.badge_id: b.earned_at for b in MemberBadge.objects.filter(member=member)}
    return [{"badge": b, "earned_at": earned.get(b.pk)} for b in Badge.objects.all()]
