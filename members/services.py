"""Write operations on members, tiers and integration tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.exceptions import Conflict, DomainError, NotFound
from config.memo import local_forget, local_get, memo_forget, memo_get
from config.periods import add_months
from members.codes import member_number_generate, referral_code_generate
from members.exceptions import MemberExists
from members.models import IntegrationToken, Member, Scope, Tier, User
from members.selectors import member_list
from members.signals import member_created, member_leaderboard_visibility_changed, referral_applying

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


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


TOKEN_PREFIX = "fid_"  # noqa: S105 - a public prefix, not a secret


def token_scopes_parse(value: str | list[str] | None) -> list[str]:
    """Scopes from a comma- or space-separated list; None or empty means every scope. Unknown names are refused."""
    if value is None:
        return list(Scope.values)
    items = value if isinstance(value, list) else value.replace(",", " ").split()
    wanted = [item.strip() for item in items if item.strip()]
    if not wanted:
        return list(Scope.values)
    unknown = sorted(set(wanted) - set(Scope.values))
    if unknown:
        raise ValueError(f"Unknown scope(s): {', '.join(unknown)}. Known: {', '.join(Scope.values)}.")
    return [scope for scope in Scope.values if scope in wanted]  # canonical order, no duplicates


@transaction.atomic
def integration_token_create(*, name: str, scopes: list[str] | None = None,
                             expires_at=None) -> tuple[IntegrationToken, str]:
    """Create a service account token with the given scopes (None: all). Returns the row and the secret, which
    is never stored."""
    name = name.strip()
    if not name:
        raise ValueError("A token needs a name.")
    if IntegrationToken.objects.filter(name=name).exists():
        raise ValueError(f"A token named {name!r} exists already; revoke it or choose another name.")
    scopes = token_scopes_parse(scopes)
    if expires_at is not None and expires_at <= timezone.now():
        raise ValueError("The expiry must be in the future.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = IntegrationToken.objects.create(name=name, prefix=raw[:12], key_hash=_hash_token(raw), scopes=scopes,
                                            expires_at=expires_at)
    return token, raw


def integration_token_authenticate(*, raw: str) -> IntegrationToken | None:
    """The unrevoked token for this secret, or None (the caller refuses expired ones: `is_expired`). Records
    when it was last used (at most once a minute).

    Known tokens are memoised per process for a few seconds (config.memo): revoking clears this process at
    once; other processes stop accepting the token within MEMO_SECONDS."""
    digest = _hash_token(raw)
    token = local_get(
        f"token:{digest}",
        lambda: IntegrationToken.objects.filter(key_hash=digest, revoked_at__isnull=True).first(),
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        IntegrationToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def integration_token_revoke(*, token: IntegrationToken) -> None:
    IntegrationToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    local_forget(f"token:{token.key_hash}")


DISPLAY_NAME_MAX = 40


def display_name_validate(value: str) -> str:
    """Trimmed display name; refuses markup and anything over 40 characters."""
    value = " ".join(value.split())
    if len(value) > DISPLAY_NAME_MAX:
        raise DomainError(f"A display name has at most {DISPLAY_NAME_MAX} characters.",
                          field="display_name", code="invalid_display_name")
    if any(ch in value for ch in "<>&\"'`{}") or any(not ch.isprintable() for ch in value):
        raise DomainError("A display name may not contain markup or special characters (< > & \" ' ` { }).",
                          field="display_name", code="invalid_display_name")
    return value


@transaction.atomic
def language_validate(language: str) -> str:
    """One of the portal's languages (settings.LANGUAGES), else 400 invalid_language."""
    if language not in {code for code, _name in settings.LANGUAGES}:
        raise DomainError(_("Choose one of the languages offered."), field="language", code="invalid_language")
    return language


@transaction.atomic
def member_profile_update(
    *, member: Member, display_name: str | None = None, marketing_consent: bool | None = None,
    leaderboard_visibility: str | None = None, language: str | None = None,
) -> Member:
    """Change what the member may change about themselves. Everything is checked before anything is written."""
    if display_name is not None:
        display_name = display_name_validate(display_name)
    if language is not None:
        language = language_validate(language)
    if leaderboard_visibility is not None and leaderboard_visibility not in Member.LeaderboardVisibility.values:
        raise DomainError(f"Leaderboard visibility is one of {', '.join(Member.LeaderboardVisibility.values)}.",
                          field="leaderboard_visibility", code="invalid_leaderboard_visibility")
    member = Member.objects.select_for_update().get(pk=member.pk)
    fields = ["updated_at"]
    if display_name is not None:
        member.display_name = display_name
        fields.append("display_name")
    old_visibility = member.leaderboard_visibility
    if leaderboard_visibility is not None and leaderboard_visibility != old_visibility:
        member.leaderboard_visibility = leaderboard_visibility
        fields.append("leaderboard_visibility")
    if language is not None and language != member.language:
        member.language = language
        fields.append("language")
    if marketing_consent is not None and marketing_consent != member.marketing_consent:
        member.marketing_consent = marketing_consent
        member.marketing_consent_at = timezone.now()
        fields += ["marketing_consent", "marketing_consent_at"]
    member.save(update_fields=fields)
    if member.leaderboard_visibility != old_visibility:
        member_leaderboard_visibility_changed.send(sender=Member, member_id=member.pk, old=old_visibility,
                                                   new=member.leaderboard_visibility)
    return member


# --------------------------------------------------------------------------------------------- referrals
REFERRAL_CHAIN_LIMIT = 1000


def referrer_get_by_code(*, code: str) -> Member:
    referrer = Member.objects.filter(referral_code=code.strip().upper()).first()
    if referrer is None:
        raise NotFound("No member has this referral code.", field="referral_code", code="invalid_referral_code")
    return referrer


@transaction.atomic
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


def referral_apply(*, member: Member, code: str) -> Member:
    """Link `member` to the owner of `code`. Refuses self-referral, a second referrer, loops, and (through the
    `referral_applying` hook, which loyalty answers) a member who already has a confirmed purchase. Every
    caller — sign-up, claim, the API, the portal — goes through these checks."""
    referrer = referrer_get_by_code(code=code)
    locked = Member.objects.select_for_update().get(pk=member.pk)
    if referrer.pk == locked.pk:
        raise DomainError("You cannot refer yourself.", field="referral_code", code="self_referral")
    if locked.referred_by_id is not None:
        if locked.referred_by_id == referrer.pk:
            return locked  # the same link again: nothing to do
        raise Conflict("This member already has a referrer.", field="referral_code", code="already_referred")
    referral_applying.send(sender=Member, member=locked, referrer=referrer)  # a receiver refuses by raising
    # Walk up the referrer's chain: finding `member` there would close a loop.
    cursor, steps = referrer.referred_by_id, 0
    while cursor is not None and steps < REFERRAL_CHAIN_LIMIT:
        if cursor == locked.pk:
            raise DomainError("This referral would create a loop.", field="referral_code", code="referral_loop")
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


# ------------------------------------------------------------------------------------------------- tiers
# Members knows nothing of purchases: loyalty passes the qualifying figure (points earned or money spent in
# the tier's qualification window, never the current balance).


TIERS_CACHE_KEY = "members:tiers:v1"


def tiers_ranked() -> list[Tier]:
    """All tiers, best first, memoised (tier saves and deletes clear it: members.apps)."""
    return memo_get(TIERS_CACHE_KEY, lambda: list(Tier.objects.order_by("-rank")))


def tier_upgrade_possible(*, tier: Tier | None, basis: str, most: int | Decimal | None = None) -> bool:
    """Whether a tier ranks above `tier` (None: the member has no tier yet) whose threshold a qualifying figure
    of at most `most` reaches (None: no bound known), i.e. whether an upgrade is possible at all."""
    field = "threshold_points" if basis == "points" else "threshold_spend"
    return any((tier is None or t.rank > tier.rank) and (most is None or getattr(t, field) <= most)
               for t in tiers_ranked())


def tiers_changed(**kwargs) -> None:
    memo_forget(TIERS_CACHE_KEY)


def tier_windows() -> list[int]:
    """The distinct qualification windows (months) the tiers use."""
    return sorted({t.qualification_months for t in tiers_ranked()}) or [12]


def tier_for_figures(*, figures: Mapping[int, int | Decimal], basis: str, tiers: list[Tier] | None = None
                     ) -> Tier | None:
    """The highest tier whose threshold its window's qualifying figure reaches.

    `figures` maps a window length in months to points earned (basis "points") or money spent ("spend")
    in that window, as computed by loyalty.selectors.qualifying_figures.
    """
    field = "threshold_points" if basis == "points" else "threshold_spend"
    for tier in tiers if tiers is not None else tiers_ranked():
        if figures.get(tier.qualification_months, 0) >= getattr(tier, field):
            return tier
    return None


def tier_upgrade_if_qualified(*, member: Member, figures: Mapping[int, int | Decimal], basis: str, now) -> Tier | None:
    """Upgrade at once when the figures reach a higher tier; the new tier is held for its full period."""
    best = tier_for_figures(figures=figures, basis=basis)
    if best is None:
        return None
    if member.tier_id is not None and getattr(member, "tier", None) is not None and best.rank <= member.tier.rank:
        return None  # the caller's copy already says no upgrade: no lock, no savepoint
    with transaction.atomic():
        locked = Member.objects.select_for_update(of=("self",)).select_related("tier").get(pk=member.pk)
        if locked.tier is not None and best.rank <= locked.tier.rank:
            return None
        locked.tier = best
        locked.tier_achieved_at = now
        locked.tier_period_end = add_months(now, best.qualification_months)
        locked.save(update_fields=["tier", "tier_achieved_at", "tier_period_end", "updated_at"])
    return best


@transaction.atomic
def tier_period_close(*, member_id: int, figures: Mapping[int, int | Decimal], basis: str, now) -> str:
    """At the end of a member's qualification period: keep (or raise) the tier if the figure still
    qualifies, else move down ONE tier and e-mail a notice. Returns kept / upgraded / downgraded / not_due.
    Idempotent: the period end moves forward, so a second run the same day finds nothing due."""
    locked = Member.objects.select_for_update(of=("self",)).select_related("tier").get(pk=member_id)
    if locked.tier is None or locked.tier_period_end is None or locked.tier_period_end > now:
        return "not_due"
    best = tier_for_figures(figures=figures, basis=basis)
    outcome = "kept"
    if best is not None and best.rank > locked.tier.rank:
        locked.tier, locked.tier_achieved_at, outcome = best, now, "upgraded"
    elif best is None or best.rank < locked.tier.rank:
        lower = Tier.objects.filter(rank__lt=locked.tier.rank).order_by("-rank").first()
        if lower is not None:
            previous = locked.tier
            locked.tier, locked.tier_achieved_at, outcome = lower, now, "downgraded"
            member_pk = locked.pk
            transaction.on_commit(
                lambda: tier_downgrade_notify(member_id=member_pk, old_tier=previous.name, new_tier=lower.name)
            )
    entry = Tier.objects.order_by("rank").first()
    locked.tier_period_end = (
        None if locked.tier == entry else add_months(now, locked.tier.qualification_months)
    )
    locked.save(update_fields=["tier", "tier_achieved_at", "tier_period_end", "updated_at"])
    return outcome


def tier_downgrade_notify(*, member_id: int, old_tier: str, new_tier: str) -> None:
    from django.conf import settings
    from django.core.mail import send_mail

    member = Member.objects.filter(pk=member_id).first()
    if member is None or not member.email:
        return
    send_mail(
        subject=f"[{settings.FIDELIO_PROGRAM_NAME}] Your tier is now {new_tier}",
        message=(
            f"Hello{' ' + member.first_name if member.first_name else ''},\n\n"
            f"Your qualification period has ended and your tier has changed from {old_tier} to {new_tier}.\n"
            f"Keep shopping to climb back: your progress is on your membership page.\n\n"
            f"{settings.FIDELIO_PROGRAM_NAME}"
        ),
        from_email=None,
        recipient_list=[member.email],
        fail_silently=True,
    )
