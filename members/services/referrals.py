"""Referrals: a friend's code applied (once, with the rules), the bonus marked paid."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from config.exceptions import Conflict, DomainError, NotFound
from members.models import Member
from members.signals import referral_applying

REFERRAL_CHAIN_LIMIT = 1000


def referrer_get_by_code(*, code: str) -> Member:
    referrer = Member.objects.filter(referral_code=code.strip().upper()).first()
    if referrer is None:
        raise NotFound(_("No member has this referral code."), field="referral_code", code="invalid_referral_code")
    return referrer


@transaction.atomic
def referral_apply(*, member: Member, code: str) -> Member:
    """Link `member` to the owner of `code`. Refuses self-referral, a second referrer, loops, and (through the
    `referral_applying` hook, which loyalty answers) a member who already has a confirmed purchase. Every
    caller — sign-up, claim, the API, the portal — goes through these checks."""
    referrer = referrer_get_by_code(code=code)
    locked = Member.objects.select_for_update().get(pk=member.pk)
    if referrer.pk == locked.pk:
        raise DomainError(_("You cannot refer yourself."), field="referral_code", code="self_referral")
    if locked.referred_by_id is not None:
        if locked.referred_by_id == referrer.pk:
            return locked  # the same link again: nothing to do
        raise Conflict(_("This member already has a referrer."), field="referral_code", code="already_referred")
    referral_applying.send(sender=Member, member=locked, referrer=referrer)  # a receiver refuses by raising
    # Walk up the referrer's chain: finding `member` there would close a loop.
    cursor, steps = referrer.referred_by_id, 0
    while cursor is not None and steps < REFERRAL_CHAIN_LIMIT:
        if cursor == locked.pk:
            raise DomainError(_("This referral would create a loop."), field="referral_code", code="referral_loop")
        cursor = Member.objects.filter(pk=cursor).values_list("referred_by_id", flat=True).first()
        steps += 1
    locked.referred_by = referrer
    locked.save(update_fields=["referred_by", "updated_at"])
    return locked


def referral_mark_rewarded(*, member: Member, now) -> bool:
    """Claim the referral reward for `member` once; True only for the caller that claimed it."""
    return bool(
        Member.objects.filter(pk=member.pk, referred_by__isnull=False, referral_rewarded_at__isnull=True)
        .update(referral_rewarded_at=now)
    )
