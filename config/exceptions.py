"""Domain errors shared by every app. The API's exception handler maps them to HTTP responses."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A business rule refused the request. Subclasses set a stable `code` and an HTTP status."""

    code = "invalid"
    status_code = 400
    # Lazy (gettext_lazy): the text is looked up in the language active when it is shown — the API's
    # exception handler turns it into a str while the request's language is active (config.api).
    default_detail: str | Promise = _("The request could not be processed.")

    def __init__(self, detail: str | Promise | None = None, *, field: str | None = None,
                 code: str | None = None, extra: dict[str, Any] | None = None):
        self.detail: str | Promise = detail or self.default_detail
        self.field = field
        self.extra = extra or {}  # more members of the error body, e.g. the id of what already exists
        if code:
            self.code = code
        super().__init__(self.detail)


class NotFound(DomainError):
    code = "not_found"
    status_code = 404
    default_detail = _("Not found.")


class Conflict(DomainError):
    """The request conflicts with the current state (stock, balance, idempotency key)."""

    code = "conflict"
    status_code = 409
    default_detail = _("The request conflicts with the current state.")


class Gone(DomainError):
    code = "gone"
    status_code = 410
    default_detail = _("This is no longer available.")
