"""Rewards reads: the catalog, what a member may redeem (and why not), their vouchers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from members.models import Member
from rewards.models import Redemption, Reward, Voucher


def reward_list_available(*, now: datetime | None = None, kind: str | None = None,
                          affordable_for: Member | None = None, affordable: bool = True) -> QuerySet[Reward]:
    """Active rewards inside their availability window, in catalog order (birthday rewards are not sold).
    With `affordable_for`, only those the member's balance covers (`affordable`) or does not cover."""
    now = now or timezone.now()
    qs = (
        Reward.objects.filter(is_active=True, is_birthday_reward=False)
        .filter(Q(available_from__isnull=True) | Q(available_from__lte=now))
        .filter(Q(available_until__isnull=True) | Q(available_until__gt=now))
        .select_related("minimum_tier")
    )
    if kind:
        qs = qs.filter(kind=kind)
    if affordable_for is not None:
        covered = Q(cost_points__lte=affordable_for.points_balance)
        qs = qs.filter(covered) if affordable else qs.exclude(covered)
    return qs


@dataclass(frozen=True)
class Eligibility:
    affordable: bool
    eligible: bool
    reason: str | None  # the refusal code a redemption would get now
    detail: str = ""


def reward_eligibility_many(*, member: Member, rewards: list[Reward], now: datetime | None = None
                            ) -> dict[int, Eligibility]:
    """For each reward: could this member redeem it now, and if not, why — with the same codes and order of
    checks as rewards.services.reward_redeem. One query for the per-member limits, whatever the list."""
    now = now or timezone.now()
    limited = [r for r in rewards if r.limit_per_member]
    used: dict[int, list[datetime]] = {}
    if limited:
        rows = (Redemption.objects.filter(member=member, reward__in=limited)
                .exclude(voucher__status=Voucher.Status.CANCELLED).values_list("reward_id", "created_at"))
        for reward_id, created_at in rows:
            used.setdefault(reward_id, []).append(created_at)
    rank = member.tier.rank if member.tier_id else 0
    out = {}
    for reward in rewards:
        affordable = member.points_balance >= reward.cost_points
        reason, detail = None, ""
        if not reward.is_available(now):
            reason, detail = "not_available", _("Not available now.")
        elif reward.minimum_tier_id and rank < reward.minimum_tier.rank:
            reason, detail = "tier_required", _("For %(tier)s members and above.") % {"tier": reward.minimum_tier.name}
        elif reward.limit_per_member and _count_in_period(used.get(reward.pk, []), reward, now) \
                >= reward.limit_per_member:
            reason, detail = "limit_reached", _("You have redeemed this as often as allowed.")
        elif not affordable:
            missing = reward.cost_points - member.points_balance
            reason = "insufficient_points"
            detail = ngettext("%(count)d more point needed.", "%(count)d more points needed.", missing) % {
                "count": missing}
        elif reward.stock is not None and reward.stock <= 0:
            reason, detail = "out_of_stock", _("Out of stock.")
        out[reward.pk] = Eligibility(affordable=affordable, eligible=reason is None, reason=reason, detail=detail)
    return out


def _count_in_period(moments: list[datetime], reward: Reward, now: datetime) -> int:
    if not reward.limit_period_days:
        return len(moments)
    since = now - timedelta(days=reward.limit_period_days)
    return sum(1 for m in moments if m > since)


def voucher_list(*, member: Member) -> QuerySet[Voucher]:
    return Voucher.objects.filter(member=member).select_related("reward").order_by("-created_at", "-id")


def voucher_get_for_member(*, member: Member, voucher_id: int) -> Voucher | None:
    return voucher_list(member=member).filter(pk=voucher_id).first()


def member_redemptions_export(member: Member) -> list[dict]:
    """The member's redemptions and their vouchers (members.services.personal_data_export)."""
    redemptions = (Redemption.objects.filter(member=member).select_related("reward", "voucher")
                   .order_by("created_at", "pk"))
    out = []
    for r in redemptions:
        voucher = getattr(r, "voucher", None)
        out.append({
            "reward": r.reward.name, "points_spent": r.points_spent, "source": r.source,
            "at": r.created_at.isoformat(),
            "voucher": None if voucher is None else {
                "code": voucher.code_display, "status": voucher.status, "value": str(voucher.value)
                if voucher.value is not None else None, "currency": voucher.currency,
                "expires_at": voucher.expires_at.isoformat() if voucher.expires_at else None,
                "used_at": voucher.used_at.isoformat() if voucher.used_at else None,
            },
        })
    return out
