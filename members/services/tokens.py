"""Integration tokens: created with their scopes, authenticated (memoised per process), revoked."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from config.memo import local_forget, local_get
from members.models import IntegrationToken, Scope


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
