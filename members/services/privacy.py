"""A member's personal data: everything we hold of them as one JSON document, and its erasure.

Members knows only the member and their login; the apps above it hold the rest (purchases, ledger, vouchers,
reviews, survey answers, feedback, challenges, scores). They take part the way they do for the admin's member
page: each registers what it exports (`personal_data_register`, from its ready()) and listens to
`members.signals.member_erasing`, sent inside the erasure's transaction, to anonymise or cancel what it holds.

Erasure keeps the member row, anonymous, so that the ledger, purchases and metrics stay whole for accounting
(`check_ledger` stays clean): names, e-mail, birthday, display name, external id, consents and language are
cleared, the member leaves the leaderboards, and the login is deleted (or, when something still refers to it,
deactivated with an address that cannot receive mail and an unusable password), which ends every session.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from allauth.account.models import EmailAddress
from django.db import transaction
from django.db.models.deletion import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from config.exceptions import DomainError
from members.models import Member, User
from members.signals import member_erasing, member_leaderboard_visibility_changed

EXPORT_FORMAT = "fidelio-personal-data/1"
REASON_MAX = 300

# name -> provider(member) returning JSON-ready data (lists, dicts, strings, numbers; times as ISO 8601).
PERSONAL_DATA: dict[str, Callable[[Member], Any]] = {}


def personal_data_register(name: str, provide: Callable[[Member], Any]) -> None:
    PERSONAL_DATA[name] = provide


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def personal_data_export(*, member: Member, now: datetime | None = None) -> dict[str, Any]:
    """Everything held of the member, by section: the profile and consents here, then each app's sections."""
    member = Member.objects.select_related("tier", "user", "referred_by").get(pk=member.pk)
    user = member.user
    data: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": iso(now or timezone.now()),
        "profile": {
            "member_number": member.member_number, "email": member.email, "first_name": member.first_name,
            "last_name": member.last_name, "display_name": member.display_name,
            "birthday": member.birthday.isoformat() if member.birthday else None, "language": member.language,
            "leaderboard_visibility": member.leaderboard_visibility, "external_id": member.external_id,
            "tier": member.tier.name if member.tier else None, "points_balance": member.points_balance,
            "pending_points": member.pending_points, "lifetime_points": member.lifetime_points,
            "referral_code": member.referral_code,
            "referred_by": member.referred_by.member_number if member.referred_by else None,
            "joined_at": iso(member.created_at),
        },
        "consents": {
            "marketing": member.marketing_consent, "marketing_given_at": iso(member.marketing_consent_at),
        },
        "login": None if user is None else {
            "email": user.email, "joined_at": iso(user.date_joined), "last_login": iso(user.last_login),
        },
    }
    for name, provide in PERSONAL_DATA.items():
        data[name] = provide(member)
    return data


@transaction.atomic
def member_erase(*, member: Member, reason: str, by: User | None = None, now: datetime | None = None) -> Member:
    """Erase the member's personal data everywhere (see the module docstring). Staff give a reason; a member
    erasing their own account passes none and "requested by the member" is recorded. Erasing twice changes
    nothing."""
    reason = (reason or "").strip()
    if by is not None and not reason:
        raise DomainError(_("Give the reason for the erasure (e.g. the request it answers)."), field="reason",
                          code="reason_required")
    if len(reason) > REASON_MAX:
        raise DomainError(_("The reason is too long."), field="reason", code="reason_too_long")
    now = now or timezone.now()
    locked = Member.objects.select_for_update().get(pk=member.pk)
    if locked.erased_at is not None:
        return locked
    member_erasing.send(sender=Member, member=locked, now=now)
    user = locked.user
    old_visibility = locked.leaderboard_visibility
    locked.user = None
    locked.email = locked.first_name = locked.last_name = locked.display_name = locked.language = ""
    locked.birthday = None
    locked.external_id = None
    locked.marketing_consent, locked.marketing_consent_at, locked.marketing_consent_wording = False, None, ""
    locked.leaderboard_visibility = Member.LeaderboardVisibility.HIDDEN
    locked.erased_at, locked.erased_by = now, by
    locked.erasure_reason = reason or "requested by the member"
    # Only these fields: the receivers above may have moved points (a cancelled voucher's), which this copy of the
    # row does not know; saving the whole row would write its stale balance back.
    locked.save(update_fields=[
        "user", "email", "first_name", "last_name", "display_name", "language", "birthday", "external_id",
        "marketing_consent", "marketing_consent_at", "marketing_consent_wording", "leaderboard_visibility",
        "erased_at", "erased_by", "erasure_reason", "updated_at"])
    if old_visibility != locked.leaderboard_visibility:
        member_leaderboard_visibility_changed.send(sender=Member, member_id=locked.pk, old=old_visibility,
                                                   new=locked.leaderboard_visibility)
    if user is not None:
        _login_remove(user)
    return locked


def _login_remove(user: User) -> None:
    """Delete the login; when something still refers to it (PROTECT), keep it without anything personal: an
    address that cannot receive mail, no usable password, inactive. Either way its sessions end (Django checks
    each session against the login's password hash)."""
    EmailAddress.objects.filter(user=user).delete()
    try:
        with transaction.atomic():
            user.delete()
    except ProtectedError:
        user.email = f"erased-{user.pk}@erased.invalid"
        user.first_name = user.last_name = ""
        user.is_active = False
        user.set_unusable_password()
        user.save()
