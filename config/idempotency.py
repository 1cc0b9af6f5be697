"""Idempotency keys (Stripe's `Idempotency-Key` header convention), shared by every app that takes one.

A key is kept per *scope* — the caller it belongs to (`member:<id>`, `token:<id>`) — so two clients can never
collide, and next to the key a digest of the request it was first used with: the same key with the same
request answers as the first time; with another request it is a 409 `idempotency_conflict`.
"""

from __future__ import annotations

import hashlib
import re

from django.utils.translation import gettext as _

from config.exceptions import DomainError

IDEMPOTENCY_KEY_MAX = 255
_KEY_RE = re.compile(r"[\x21-\x7e]{1,255}")  # visible ASCII, as Stripe's keys (UUIDs in practice)


def idempotency_key_validate(key: str | None, *, required: bool) -> str:
    """The Idempotency-Key header's value, checked: visible ASCII, at most 255 characters ("" when absent)."""
    if key is None or key == "":
        if required:
            raise DomainError(_("Send an Idempotency-Key header (e.g. a UUID) so that a retry cannot redeem twice."),
                              field="Idempotency-Key", code="idempotency_key_required")
        return ""
    if not _KEY_RE.fullmatch(key):
        raise DomainError(_("The Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID is ideal)."),
                          field="Idempotency-Key", code="invalid_idempotency_key")
    return key


def request_digest(*parts: object) -> str:
    """A SHA-256 over the request's meaningful parts (what makes "the same request")."""
    return hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode()).hexdigest()
