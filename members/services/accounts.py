"""Members and their logins: creating, claiming on verification, enrolling for the shop, the profile."""

from __future__ import annotations

from datetime import date, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from config.exceptions import Conflict, DomainError
from members.codes import member_number_generate, referral_code_generate
from members.exceptions import MemberExists
from members.models import Member, Tier, User
from members.selectors import member_list
from members.services.referrals import referral_apply
from members.signals import member_created, member_leaderboard_visibility_changed

_UNIQUE_RETRIES = 8


def _entry_tier() -> Tier | None:
    return Tier.objects.order_by("rank").first()


@transaction.atomic
def member_create(
    *,
    email: str | None = None,
    user: User | None = None,
    display_name: str = "",
    first_name: str = "",
    last_name: str = "",
    external_id: str | None = None,
    birthday=None,
    referral_code: str | None = None,
    via: str = "shop",
) -> Member:
    """Create a member with a fresh member number and referral code (retrying the rare collision).

    `email` None means the login's address (if there is a login), "" none. With `referral_code` the referrer
    is linked (see referral_apply). Sends `member_created`.
    """
    if email is None:
        email = user.email if user else ""
    for attempt in range(_UNIQUE_RETRIES):
        try:
            with transaction.atomic():
                member = Member.objects.create(
                    user=user,
                    email=email.lower(),
                    display_name=display_name,
                    first_name=first_name,
                    last_name=last_name,
                    external_id=external_id or None,
                    birthday=birthday,
                    member_number=member_number_generate(),
                    referral_code=referral_code_generate(),
                    tier=_entry_tier(),
                )
            break
        except IntegrityError as exc:
            # Only a collision of the random codes is worth another try.
            if attempt == _UNIQUE_RETRIES - 1 or not any(
                name in str(exc) for name in ("member_number", "referral_code")
            ):
                raise
    if referral_code:
        referral_apply(member=member, code=referral_code)
    member_created.send(sender=Member, member=member, via=via)
    return member


@transaction.atomic
def member_create_for_user(*, user: User, referral_code: str | None = None) -> tuple[Member, str | None]:
    """The member for a login whose e-mail address is VERIFIED (allauth's e-mail-confirmed signal calls this;
    never call it at sign-up). A member the shop already knows by that address and not yet linked to a login
    is claimed; otherwise a member is created.

    `referral_code` (given at sign-up) applies to a created member, and to a claimed one only while
    referral_apply allows it (no referrer yet, no confirmed purchase). Returns (member, why the code did not
    apply or None); a refused code never stops the claim."""
    existing = Member.objects.filter(user=user).first() if user.pk else None
    if existing is not None:
        return existing, None
    unclaimed = (
        Member.objects.select_for_update()
        .filter(user__isnull=True, email__iexact=user.email)
        .first()
    )
    if unclaimed is not None:
        unclaimed.user = user
        unclaimed.save(update_fields=["user", "updated_at"])
        member = unclaimed
    else:
        # Another login's member may hold this address as its contact (that login's e-mail changed since):
        # the new member then starts without a contact address rather than failing the verification.
        taken = Member.objects.filter(email__iexact=user.email).exists()
        member = member_create(user=user, email="" if taken else None, via="signup")
    refused = None
    if referral_code:
        try:
            with transaction.atomic():
                referral_apply(member=member, code=referral_code)
        except DomainError as exc:
            refused = exc.detail
    return member, refused


DISPLAY_NAME_MAX = 40


def display_name_validate(value: str) -> str:
    """Trimmed display name; refuses markup and anything over 40 characters."""
    value = " ".join(value.split())
    if len(value) > DISPLAY_NAME_MAX:
        raise DomainError(ngettext("A display name has at most %(max)d character.",
                                   "A display name has at most %(max)d characters.", DISPLAY_NAME_MAX)
                          % {"max": DISPLAY_NAME_MAX},
                          field="display_name", code="invalid_display_name")
    if any(ch in value for ch in "<>&\"'`{}") or any(not ch.isprintable() for ch in value):
        raise DomainError(_("A display name may not contain markup or special characters (< > & \" ' ` { })."),
                          field="display_name", code="invalid_display_name")
    return value


@transaction.atomic
def language_validate(language: str) -> str:
    """One of the portal's languages (settings.LANGUAGES), else 400 invalid_language."""
    if language not in {code for code, _name in settings.LANGUAGES}:
        raise DomainError(_("Choose one of the languages offered."), field="language", code="invalid_language")
    return language


NAME_MAX = 80
BIRTHDAY_MAX_AGE_YEARS = 120
# What the member agrees to when they tick the marketing box; recorded with their consent (and its time).
MARKETING_CONSENT_WORDING = gettext_lazy(
    "Yes, send me offers and news of the program by e-mail. I can withdraw this at any time in my profile or "
    "through the link in every e-mail.")


def name_validate(value: str, *, field: str) -> str:
    """A first or last name: trimmed, at most 80 characters, no markup or control characters."""
    value = " ".join(value.split())
    if len(value) > NAME_MAX:
        raise DomainError(ngettext("A name has at most %(max)d character.", "A name has at most %(max)d characters.",
                                   NAME_MAX) % {"max": NAME_MAX}, field=field,
                          code="invalid_name")
    if any(ch in value for ch in "<>&\"`{}") or any(not ch.isprintable() for ch in value):
        raise DomainError(_("A name may not contain markup or special characters."), field=field,
                          code="invalid_name")
    return value


def birthday_validate(value: date, *, today: date | None = None) -> date:
    """A birthday: not in the future and not more than 120 years ago."""
    today = today or timezone.localdate()
    if value > today or value.year < today.year - BIRTHDAY_MAX_AGE_YEARS:
        raise DomainError(_("Enter your real date of birth."), field="birthday", code="invalid_birthday")
    return value


@transaction.atomic
def member_profile_update(
    *, member: Member, display_name: str | None = None, marketing_consent: bool | None = None,
    leaderboard_visibility: str | None = None, language: str | None = None, first_name: str | None = None,
    last_name: str | None = None, birthday: date | None = None, now: datetime | None = None,
) -> Member:
    """Change what the member may change about themselves. Everything is checked before anything is written.

    The birthday can be given once: it drives a yearly reward, so changing it afterwards is for staff
    (409 `birthday_locked`). Giving marketing consent records its time and the wording agreed to."""
    now = now or timezone.now()
    if display_name is not None:
        display_name = display_name_validate(display_name)
    if language is not None:
        language = language_validate(language)
    if first_name is not None:
        first_name = name_validate(first_name, field="first_name")
    if last_name is not None:
        last_name = name_validate(last_name, field="last_name")
    if birthday is not None:
        birthday = birthday_validate(birthday)
    if leaderboard_visibility is not None and leaderboard_visibility not in Member.LeaderboardVisibility.values:
        raise DomainError(_("Choose how you appear on the leaderboards from the options offered."),
                          field="leaderboard_visibility", code="invalid_leaderboard_visibility")
    member = Member.objects.select_for_update().get(pk=member.pk)
    if birthday is not None and member.birthday is not None and birthday != member.birthday:
        raise Conflict(_("Your birthday is set already; to correct it, contact us."), field="birthday",
                       code="birthday_locked")
    fields = ["updated_at"]
    for name, value in (("display_name", display_name), ("first_name", first_name), ("last_name", last_name),
                        ("language", language), ("birthday", birthday)):
        if value is not None and value != getattr(member, name):
            setattr(member, name, value)
            fields.append(name)
    old_visibility = member.leaderboard_visibility
    if leaderboard_visibility is not None and leaderboard_visibility != old_visibility:
        member.leaderboard_visibility = leaderboard_visibility
        fields.append("leaderboard_visibility")
    member.consent_confirmation_sent = False
    if marketing_consent and not member.marketing_consent and settings.FIDELIO_DOUBLE_OPT_IN:
        # Double opt-in: the consent counts once the member confirms it from their mailbox (members.services.consent).
        from members.services.consent import consent_confirmation_send

        consent_confirmation_send(member=member, wording=str(MARKETING_CONSENT_WORDING))
        member.consent_confirmation_sent = True
    elif marketing_consent is not None and marketing_consent != member.marketing_consent:
        member.marketing_consent = marketing_consent
        member.marketing_consent_at = now
        member.marketing_consent_wording = str(MARKETING_CONSENT_WORDING) if marketing_consent else ""
        fields += ["marketing_consent", "marketing_consent_at", "marketing_consent_wording"]
    member.save(update_fields=fields)
    if member.leaderboard_visibility != old_visibility:
        member_leaderboard_visibility_changed.send(sender=Member, member_id=member.pk, old=old_visibility,
                                                   new=member.leaderboard_visibility)
    return member


def member_enrol(*, email: str, first_name: str = "", last_name: str = "", birthday=None,
                 external_id: str | None = None, referral_code: str | None = None, via: str = "api") -> Member:
    """Enrol a customer the shop knows (no login yet: they claim the member with a verified sign-up). An e-mail
    address or external id a member has already is refused with MemberExists, which names that member, also
    when a concurrent enrolment takes it first (the unique indexes decide)."""
    email = email.lower()
    clash = _enrolled(email=email, external_id=external_id)
    if clash is not None:
        raise MemberExists(member_id=clash[0], field=clash[1])
    try:
        with transaction.atomic():
            return member_create(email=email, first_name=first_name, last_name=last_name, birthday=birthday,
                                 external_id=external_id or None, referral_code=referral_code or None, via=via)
    except IntegrityError:
        clash = _enrolled(email=email, external_id=external_id)
        if clash is None:
            raise
        raise MemberExists(member_id=clash[0], field=clash[1]) from None


def _enrolled(*, email: str, external_id: str | None) -> tuple[int, str] | None:
    """(id, field) of the member holding this e-mail address or external id, if any."""
    if (pk := member_list(email=email).values_list("pk", flat=True).first()) is not None:
        return pk, "email"
    if external_id and (pk := member_list(external_id=external_id).values_list("pk", flat=True).first()):
        return pk, "external_id"
    return None
