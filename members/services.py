"""Write operations on members, tiers and integration tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from members.codes import member_number_generate, referral_code_generate
from members.models import IntegrationToken, Member, Tier, User

_UNIQUE_RETRIES = 8


def _entry_tier() -> Tier | None:
    return Tier.objects.order_by("rank").first()


@transaction.atomic
def member_create(*, email: str = "", user: User | None = None, display_name: str = "") -> Member:
    """Create a member with a fresh member number and referral code (retrying the rare collision)."""
    for attempt in range(_UNIQUE_RETRIES):
        try:
            with transaction.atomic():
                return Member.objects.create(
                    user=user,
                    email=(email or (user.email if user else "")).lower(),
                    display_name=display_name,
                    member_number=member_number_generate(),
                    referral_code=referral_code_generate(),
                    tier=_entry_tier(),
                )
        except IntegrityError as exc:
            # Only a collision of the random codes is worth another try.
            if attempt == _UNIQUE_RETRIES - 1 or not any(
                name in str(exc) for name in ("member_number", "referral_code")
            ):
                raise
    raise AssertionError("unreachable")


@transaction.atomic
def member_create_for_user(*, user: User) -> Member:
    """The member for a login: an existing member with the same e-mail and no login is claimed."""
    existing = getattr(user, "member", None) if user.pk else None
    if existing is not None:
        return existing
    unclaimed = (
        Member.objects.select_for_update()
        .filter(user__isnull=True, email__iexact=user.email)
        .first()
    )
    if unclaimed is not None:
        unclaimed.user = user
        unclaimed.save(update_fields=["user", "updated_at"])
        return unclaimed
    return member_create(user=user)


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


TOKEN_PREFIX = "fid_"  # noqa: S105 - a public prefix, not a secret


@transaction.atomic
def integration_token_create(*, name: str) -> tuple[IntegrationToken, str]:
    """Create a service account token. Returns the row and the secret, which is never stored."""
    name = name.strip()
    if not name:
        raise ValueError("A token needs a name.")
    if IntegrationToken.objects.filter(name=name).exists():
        raise ValueError(f"A token named {name!r} exists already; revoke it or choose another name.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = IntegrationToken.objects.create(name=name, prefix=raw[:12], key_hash=_hash_token(raw))
    return token, raw


def integration_token_authenticate(*, raw: str) -> IntegrationToken | None:
    """The active token for this secret, or None. Records when it was last used (at most once a minute)."""
    token = IntegrationToken.objects.filter(key_hash=_hash_token(raw), revoked_at__isnull=True).first()
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        IntegrationToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def integration_token_revoke(*, token: IntegrationToken) -> None:
    IntegrationToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())


DISPLAY_NAME_MAX = 40


def display_name_validate(value: str) -> str:
    """Trimmed display name; refuses markup and anything over 40 characters."""
    from config.exceptions import DomainError

    value = " ".join(value.split())
    if len(value) > DISPLAY_NAME_MAX:
        raise DomainError(f"A display name has at most {DISPLAY_NAME_MAX} characters.",
                          field="display_name", code="invalid_display_name")
    if any(ch in value for ch in "<>&\"'`{}") or any(not ch.isprintable() for ch in value):
        raise DomainError("A display name may not contain markup or special characters (< > & \" ' ` { }).",
                          field="display_name", code="invalid_display_name")
    return value


@transaction.atomic
def member_profile_update(
    *, member: Member, display_name: str | None = None, marketing_consent: bool | None = None
) -> Member:
    member = Member.objects.select_for_update().get(pk=member.pk)
    fields = ["updated_at"]
    if display_name is not None:
        member.display_name = display_name_validate(display_name)
        fields.append("display_name")
    if marketing_consent is not None and marketing_consent != member.marketing_consent:
        member.marketing_consent = marketing_consent
        member.marketing_consent_at = timezone.now()
        fields += ["marketing_consent", "marketing_consent_at"]
    member.save(update_fields=fields)
    return member
