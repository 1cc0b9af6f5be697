"""Domain errors of the members app."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from config.exceptions import Conflict, DomainError, NotFound


class MemberNotFound(NotFound):
    """No member with this id, e-mail or external id: one code, `member_not_found`, wherever a member is
    looked up. The status follows where the member was named: 404 when the member is the URL's resource
    (`GET /api/v1/members/{id}/`); 400 with `field` when a request body names it (`member`, `member_email`),
    because the endpoint exists and the body is what is wrong."""

    code = "member_not_found"
    default_detail = _("No such member.")

    def __init__(self, detail: str | None = None, *, field: str | None = None):
        super().__init__(detail, field=field)
        self.status_code = 400 if field else 404


class MemberExists(Conflict):
    """Enrolling an e-mail address or external id that a member has already; `id` in the body names it."""

    code = "member_exists"
    default_detail = _("A member with this e-mail or external id exists.")

    def __init__(self, *, member_id: int, field: str = "email"):
        super().__init__(field=field, extra={"id": member_id})


class PasswordIncorrect(DomainError):
    """A step that needs the member's password (erasing the account) was given another one."""

    code = "password_incorrect"
    status_code = 403
    default_detail = _("The password is not correct.")
