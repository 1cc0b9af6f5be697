"""Read queries on members and tiers."""

from __future__ import annotations

from django.db.models import QuerySet

from config.exceptions import NotFound
from members.models import Member, Tier, User


def member_for_user(*, user: User) -> Member | None:
    if not getattr(user, "is_authenticated", False) or not isinstance(user, User):
        return None
    return Member.objects.select_related("tier").filter(user=user).first()


def member_get_by_number(*, member_number: str) -> Member:
    member = Member.objects.select_related("tier").filter(member_number=member_number).first()
    if member is None:
        raise NotFound("No member with this member number.", code="member_not_found")
    return member


def member_list(*, email: str | None = None) -> QuerySet[Member]:
    qs = Member.objects.select_related("tier").order_by("member_number")
    if email:
        qs = qs.filter(email__iexact=email.strip())
    return qs


def tier_next(*, tier: Tier | None) -> Tier | None:
    qs = Tier.objects.order_by("rank")
    return qs.filter(rank__gt=tier.rank).first() if tier else qs.first()
