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

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from config.memo import memo_forget, memo_get
from config.periods import week_index
from config.sql import fetch_all
from gamification.exceptions import ChallengeClosed, ChallengeNotFound, ChallengeNotOpen, NotInAudience
from gamification.models import Challenge, ChallengeEvent, ChallengeParticipation, MemberBadge
from gamification.selectors.challenges import challenge_audiences, in_audience
from gamification.signals import challenge_completed
from loyalty import ledger
from loyalty.models import LedgerEntry, Purchase
from members.models import Member

Goal = Challenge.Goal

# Which event kinds feed which goals.
EVENT_GOALS = {
    "purchase": (Goal.PURCHASES, Goal.SPEND, Goal.CATEGORIES, Goal.STREAK),
    "referral": (Goal.REFERRALS,),
    "review": (Goal.REVIEWS,),
    "survey": (Goal.SURVEYS,),
}


@dataclass(frozen=True)
class Event:
    kind: str  # purchase, referral, review, survey
    key: str  # natural key, e.g. purchase:123
    member_id: int
    occurred_at: datetime
    value: Decimal = Decimal("1")
    categories: tuple[str, ...] = field(default_factory=tuple)


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
    weeks = sorted({week_index(m) for m in moments})
    best = run = 0
    previous = None
    for week in weeks:
        run = run + 1 if previous is not None and week == previous + 1 else 1
        best = max(best, run)
        previous = week
    return best


# ------------------------------------------------------------------------------------------------- events
CHALLENGES_CACHE_KEY = "gamification:challenges:active:v1"


def challenges_active() -> list[Challenge]:
    """Active challenges with their audience (`_tiers`, a frozenset of tier ids; empty = everyone), memoised
    per process for seconds and in Redis (config.memo); saves, deletes and audience changes clear it."""
    return memo_get(CHALLENGES_CACHE_KEY, _challenges_load)


def _challenges_load() -> list[Challenge]:
    challenges = list(Challenge.objects.filter(is_active=True).order_by("pk"))
    audiences = challenge_audiences(challenges)
    for c in challenges:
        c._tiers = frozenset(audiences.get(c.pk, ()))
    return challenges


def challenges_changed(**kwargs) -> None:
    memo_forget(CHALLENGES_CACHE_KEY)


_PARTICIPATIONS = """
WITH wanted (challenge_id, period_start, period_end, auto) AS (
    SELECT * FROM unnest(%(challenges)s::bigint[], %(starts)s::timestamptz[], %(ends)s::timestamptz[],
                         %(autos)s::boolean[])
), created AS (
    INSERT INTO gamification_challengeparticipation (challenge_id, member_id, period_start, period_end, joined_at,
                                                progress, completed_at, reward_entry_id)
    SELECT challenge_id, %(member)s, period_start, period_end, period_start, 0, NULL, NULL FROM wanted WHERE auto
    ORDER BY challenge_id
    ON CONFLICT (challenge_id, member_id, period_start) DO UPDATE SET period_end = EXCLUDED.period_end
    RETURNING id, challenge_id, joined_at, completed_at
), joined AS (
    SELECT p.id, p.challenge_id, p.joined_at, p.completed_at
    FROM gamification_challengeparticipation p JOIN wanted w
      ON w.challenge_id = p.challenge_id AND w.period_start = p.period_start AND NOT w.auto
    WHERE p.member_id = %(member)s
    ORDER BY p.challenge_id
    FOR UPDATE OF p
)
SELECT id, challenge_id, joined_at, completed_at FROM created
UNION ALL
SELECT id, challenge_id, joined_at, completed_at FROM joined
"""

# Insert the event once per participation and read back every counting event of the participations it
# changed (the new rows come from the INSERT's RETURNING: the SELECT's snapshot predates them).
_EVENTS = """
WITH added AS (
    INSERT INTO gamification_challengeevent (participation_id, key, value, categories, occurred_at, undone)
    SELECT unnest(%(participations)s::bigint[]), %(key)s, %(value)s, %(categories)s::jsonb, %(occurred_at)s, false
    ON CONFLICT (participation_id, key) DO NOTHING
    RETURNING participation_id, value, categories, occurred_at
)
SELECT participation_id, value, categories, occurred_at FROM added
UNION ALL
SELECT e.participation_id, e.value, e.categories, e.occurred_at FROM gamification_challengeevent e
WHERE e.participation_id IN (SELECT participation_id FROM added) AND NOT e.undone
"""

# For this transaction only (SET LOCAL): commit without waiting for the WAL to reach the disk. PostgreSQL keeps
# it consistent; a crash in the next fraction of a second may lose the transaction, never part of it. Measured
# (bench/challenges.py): 10 challenges add 5.96 ms to a purchase post at p50 with a waiting commit, 3.86 ms without.
_COMMIT_WITHOUT_WAITING = "SET LOCAL synchronous_commit TO OFF"

_PROGRESS = """
UPDATE gamification_challengeparticipation p SET progress = v.progress
FROM unnest(%(ids)s::bigint[], %(progress)s::numeric[]) AS v (id, progress) WHERE p.id = v.id
"""


def challenge_event_record(*, event: Event, now: datetime | None = None, tier_id: int | object | None = ...
                           ) -> list[ChallengeParticipation]:
    """Count one event for every active challenge it feeds (automatic enrolment, or opt-in members who had
    joined by then). Safe to repeat. Returns the participations this event completed. `tier_id`: the
    member's tier when the caller knows it (saves a query when a challenge is limited to some tiers).

    Set-based whatever the number of challenges, three statements in the caller's transaction (or one of its
    own): the member's participations are created or locked (in challenge order, so concurrent events for one
    member queue instead of deadlocking), the event goes in once per participation with the counting events
    read back, and the new progress is written.

    Called outside a transaction (loyalty's events arrive after their commit), it commits on its own, and a
    commit that only moved progress does not wait for the disk (`_COMMIT_WITHOUT_WAITING`): progress is derived
    from the purchases and `manage.py recompute_challenges` recounts what a crash in that instant loses. A
    completion credits points, and that commit waits, as every ledger write does."""
    now = now or timezone.now()
    goals = EVENT_GOALS.get(event.kind, ())
    chosen = [c for c in challenges_active() if c.goal in goals and c.starts_at <= event.occurred_at < c.ends_at]
    if any(c._tiers for c in chosen):
        if tier_id is ...:
            tier_id = Member.objects.filter(pk=event.member_id).values_list("tier_id", flat=True).first()
        chosen = [c for c in chosen if not c._tiers or tier_id in c._tiers]
    if not chosen:
        return []
    periods = {c.pk: c.period_at(event.occurred_at) for c in chosen}
    by_id = {c.pk: c for c in chosen}
    own_transaction = not connection.in_atomic_block
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(_PARTICIPATIONS, {
            "member": event.member_id, "challenges": [c.pk for c in chosen],
            "starts": [periods[c.pk][0] for c in chosen], "ends": [periods[c.pk][1] for c in chosen],
            "autos": [c.enrolment == Challenge.Enrolment.AUTOMATIC for c in chosen],
        })
        rows = fetch_all(cursor)
        counting = [row["id"] for row in rows if event.occurred_at >= row["joined_at"]]
        if not counting:
            return []
        cursor.execute(_EVENTS, {
            "participations": counting, "key": event.key, "value": event.value,
            "categories": json.dumps(list(event.categories)), "occurred_at": event.occurred_at,
        })
        events: dict[int, list[ChallengeEvent]] = {}
        for row in fetch_all(cursor):
            categories = row["categories"]
            if isinstance(categories, str):  # Django has psycopg load jsonb as text
                categories = json.loads(categories)
            events.setdefault(row["participation_id"], []).append(
                ChallengeEvent(value=row["value"], categories=categories, occurred_at=row["occurred_at"]))
        if not events:
            return []  # delivered before: nothing changes
        participations = [ChallengeParticipation(pk=row["id"], challenge_id=row["challenge_id"],
                                                 member_id=event.member_id, joined_at=row["joined_at"],
                                                 completed_at=row["completed_at"])
                          for row in rows if row["id"] in events]
        completed = _progress_write(participations, by_id, events, now=now)
        if own_transaction and not completed:
            cursor.execute(_COMMIT_WITHOUT_WAITING)
        return completed


def _progress_write(participations: list[ChallengeParticipation], challenges: dict[int, Challenge],
                    events: dict[int, list[ChallengeEvent]], *, now: datetime) -> list[ChallengeParticipation]:
    for p in participations:
        p._state.adding = False
        p.progress = _progress(challenges[p.challenge_id], events.get(p.pk, []))
    with connection.cursor() as cursor:
        cursor.execute(_PROGRESS, {"ids": [p.pk for p in participations],
                                   "progress": [p.progress for p in participations]})
    completed = []
    for p in participations:
        challenge = challenges[p.challenge_id]
        if p.completed_at is None and p.progress >= challenge.target and _complete(p, challenge, now=now):
            completed.append(p)
    return completed


def _progress_update(participations: list[ChallengeParticipation], challenges: dict[int, Challenge], *,
                     now: datetime) -> list[ChallengeParticipation]:
    """Recompute progress from the stored events (the participations are locked) and write it."""
    events: dict[int, list[ChallengeEvent]] = {p.pk: [] for p in participations}
    for e in ChallengeEvent.objects.filter(participation_id__in=list(events)).only(
            "participation_id", "value", "categories", "occurred_at", "undone"):
        events[e.participation_id].append(e)
    return _progress_write(participations, challenges, events, now=now)


def _complete(participation: ChallengeParticipation, challenge: Challenge, *, now: datetime) -> bool:
    """Claim the completion (once: a conditional UPDATE) and hand out the reward: points through the ledger
    (key challenge:<participation>), the badge, and whatever listens to challenge_completed (a voucher)."""
    claimed = ChallengeParticipation.objects.filter(pk=participation.pk, completed_at__isnull=True).update(
        completed_at=now)
    if not claimed:
        return False
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
    return True


def _locked(participation_ids: list[int]) -> tuple[list[ChallengeParticipation], dict[int, Challenge]]:
    participations = list(ChallengeParticipation.objects.select_for_update(of=("self",)).select_related(
        "challenge").filter(pk__in=participation_ids).order_by("challenge_id", "pk"))
    return participations, {p.challenge_id: p.challenge for p in participations}


def challenge_event_undo(*, key: str, member_id: int, now: datetime | None = None) -> int:
    """A return took back the purchase `key` names: its events stop counting (progress goes down). A
    completed challenge keeps its completion and reward. Returns the participations changed."""
    return _events_change(key=key, member_id=member_id, now=now, undone=True)


def _events_change(*, key: str, member_id: int, now: datetime | None, **values) -> int:
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(ChallengeEvent.objects.filter(key=key, participation__member_id=member_id, undone=False)
                   .values_list("participation_id", flat=True))
        if not ids:
            return 0
        participations, challenges = _locked(ids)
        ChallengeEvent.objects.filter(participation_id__in=ids, key=key).update(**values)
        _progress_update(participations, challenges, now=now)
    return len(ids)


# ------------------------------------------------------------------------------------------ event sources
def purchase_event(purchase: Purchase, categories: tuple[str, ...] | None = None) -> Event:
    """A confirmed purchase as a challenge event: its amount net of returns, its item categories (given when
    the purchase was just posted, else read)."""
    if categories is None:
        categories = tuple(sorted({c for c in purchase.items.values_list("category", flat=True) if c}))
    return Event(kind="purchase", key=f"purchase:{purchase.pk}", member_id=purchase.member_id,
                 occurred_at=purchase.occurred_at, value=purchase.amount - purchase.returned_amount,
                 categories=categories)


def challenges_on_purchase_confirmed(*, purchase: Purchase, now: datetime, tier_id: int | object | None = ...,
                                     categories: tuple[str, ...] | None = None, **kwargs) -> None:
    """loyalty's purchase_confirmed (after commit): count the purchase for the challenges it feeds."""
    if purchase.returned_amount >= purchase.amount:
        return
    if not any(c.goal in EVENT_GOALS["purchase"] for c in challenges_active()):
        return  # nothing to count (the common case costs no query)
    challenge_event_record(event=purchase_event(purchase, categories), now=now, tier_id=tier_id)


def challenges_on_purchase_returned(*, purchase: Purchase, now: datetime, **kwargs) -> None:
    """loyalty's purchase_returned (after commit). A return lowers progress: a full return undoes the purchase's
    events; a partial one lowers its spend by re-recording the net amount."""
    if purchase.returned_amount >= purchase.amount:
        challenge_event_undo(key=f"purchase:{purchase.pk}", member_id=purchase.member_id, now=now)
        return
    _events_change(key=f"purchase:{purchase.pk}", member_id=purchase.member_id, now=now,
                   value=purchase.amount - purchase.returned_amount)


def challenges_on_referral_confirmed(*, referrer_id: int, referred_id: int, occurred_at: datetime,
                                     now: datetime, **kwargs) -> None:
    """loyalty's referral_confirmed (after commit): the referrer's referral challenges count it."""
    challenge_event_record(event=Event(kind="referral", key=f"referral:{referred_id}", member_id=referrer_id,
                                       occurred_at=occurred_at), now=now)


# --------------------------------------------------------------------------------------------------- join
def challenge_join(*, challenge_id: int, member: Member, now: datetime | None = None) -> ChallengeParticipation:
    """Opt in to a challenge's current period. Joining twice returns the same participation."""
    now = now or timezone.now()
    challenge = Challenge.objects.filter(pk=challenge_id, is_active=True).first()
    if challenge is None:
        raise ChallengeNotFound()
    if now < challenge.starts_at:
        raise ChallengeNotOpen(gettext("%(title)s starts on %(date)s.")
                               % {"title": challenge.title, "date": f"{challenge.starts_at:%Y-%m-%d}"})
    if now >= challenge.ends_at:
        raise ChallengeClosed(gettext("%(title)s ended on %(date)s.")
                              % {"title": challenge.title, "date": f"{challenge.ends_at:%Y-%m-%d}"})
    if not in_audience(challenge, member.tier_id, challenge_audiences([challenge])):
        raise NotInAudience()
    start, end = challenge.period_at(now)
    ChallengeParticipation.objects.bulk_create(
        [ChallengeParticipation(challenge=challenge, member=member, period_start=start, period_end=end,
                                joined_at=now)],
        ignore_conflicts=True,  # joined already: keep the first joining time
    )
    return ChallengeParticipation.objects.get(challenge=challenge, member=member, period_start=start)


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
    # Participations left without events (all undone) get their progress recomputed too.
    ids = list(ChallengeParticipation.objects.filter(challenge__in=challenges).values_list("pk", flat=True))
    for start_at in range(0, len(ids), 1000):
        with transaction.atomic():
            participations, by_challenge = _locked(ids[start_at:start_at + 1000])
            _progress_update(participations, by_challenge, now=now)
    return {"events": counted}


