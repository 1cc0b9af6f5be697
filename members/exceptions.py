"""Domain errors of the members app."""

from __future__ import annotations

from config.exceptions import NotFound


class MemberNotFound(NotFound):
    """No member with this id, e-mail or external id: one code, `member_not_found`, wherever a member is
    looked up. The status follows where the member was named: 404 when the member is the URL's resource
    (`GET /api/v1/members/{id}/`); 400 with `field` when a request body names it (`member`, `member_email`),
    because the endpoint exists and the body is what is wrong."""

    code = "member_not_found"
    default_detail = "No such member."

    def __init__(self, detail: str | None = None, *, field: str | None = None):
        super().__init__(detail, field=field)
        self.status_code = 400 if field else 404
