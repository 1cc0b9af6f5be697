"""Free vouchers: the birthday reward (daily, once per member and year) and a completed challenge's reward
(once per participation). Both go through the one redemption insert (rewards.services.redeem)."""

from __future__ import annotations

import calendar
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation

from config.batches import ids_in_batches
from config.periods import local_date
from members.mail import mail_language, mail_send
from members.models import Member
from rewards.exceptions import OutOfStock
from rewards.models import Redemption, Reward, Voucher
from rewards.services.redeem import redemption_issue_free, reward_stock_take

if TYPE_CHECKING:
    from gamification.models import Challenge, ChallengeParticipation

log = logging.getLogger(__name__)


def birthday_rewards_issue(*, now: datetime | None = None, batch: int = 500) -> dict[str, int]:
    """Give the birthday reward to every member whose birthday is today in the program's time zone (29
    February birthdays on 28 February in other years), once per member and year. Members without a
    birthday are skipped. Safe to re-run the same day: the (year, member) key makes a second run a no-op."""
    now = now or timezone.now()
    counts = {"issued": 0, "out_of_stock": 0}
    reward = Reward.objects.filter(is_birthday_reward=True).first()
    if reward is None or not reward.is_available(now):
        return counts
    today = local_date(now)
    on_today = Q(birthday__month=today.month, birthday__day=today.day)
    if (today.month, today.day) == (2, 28) and not calendar.isleap(today.year):
        on_today |= Q(birthday__month=2, birthday__day=29)
    scope = f"birthday:{today.year}"
    due = Member.objects.filter(on_today).filter(
        ~Exists(Redemption.objects.filter(idempotency_scope=scope, member=OuterRef("pk")))
    )
    for member_id in ids_in_batches(due, batch):
        outcome = _birthday_issue(member_id=member_id, reward_id=reward.pk, scope=scope, now=now)
        if outcome:
            counts[outcome] += 1
    return counts


def _birthday_issue(*, member_id: int, reward_id: int, scope: str, now: datetime) -> str | None:
    with transaction.atomic():
        list(Member.objects.select_for_update().filter(pk=member_id).values_list("pk", flat=True))
        if Redemption.objects.filter(idempotency_scope=scope, idempotency_key=str(member_id)).exists():
            return None
        reward = Reward.objects.get(pk=reward_id)
        try:
            reward_stock_take(reward)
        except OutOfStock:
            log.warning("birthday reward %s is out of stock; member %s got none", reward.pk, member_id)
            return "out_of_stock"
        redemption = redemption_issue_free(member_id=member_id, reward=reward, source=Redemption.Source.BIRTHDAY,
                                           scope=scope, key=str(member_id), now=now)
        if redemption is None:
            return None
        voucher_id = redemption.voucher.pk
        transaction.on_commit(lambda: birthday_notify(voucher_id=voucher_id))
    return "issued"


def birthday_notify(*, voucher_id: int) -> None:
    voucher = Voucher.objects.select_related("member", "reward").get(pk=voucher_id)
    member = voucher.member
    if not member.email:
        return
    with translation.override(mail_language(member.language)):  # the reward's name in the member's language
        reward_name = str(voucher.reward.name)
    mail_send("rewards/birthday_gift", to=member.email, language=member.language, context={
        "first_name": member.first_name, "reward_name": reward_name, "voucher_code": voucher.code_display,
        "expires_at": voucher.expires_at})


def challenge_voucher_issue(*, participation: ChallengeParticipation, challenge: Challenge, now: datetime,
                            **kwargs: Any) -> Voucher | None:
    """A completed challenge's reward voucher, free, once per participation (the redemption's key), in the
    completing transaction. Limited stock applies: none left, no voucher (logged)."""
    from rewards.models import ChallengeReward

    link = ChallengeReward.objects.filter(challenge_id=challenge.pk).select_related("reward").first()
    if link is None:
        return None
    scope, key = "challenge", str(participation.pk)
    if Redemption.objects.filter(idempotency_scope=scope, idempotency_key=key).exists():
        return None
    reward = link.reward
    try:
        reward_stock_take(reward)
    except OutOfStock:
        log.warning("challenge %s: reward %s is out of stock; member %s got no voucher", challenge.pk, reward.pk,
                    participation.member_id)
        return None
    redemption = redemption_issue_free(member_id=participation.member_id, reward=reward,
                                       source=Redemption.Source.CHALLENGE, scope=scope, key=key, now=now)
    return redemption.voucher if redemption is not None else None
