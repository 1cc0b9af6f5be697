"""Read queries on members."""

from __future__ import annotations

from members.models import Member, User

_CACHE_ATTR = "_fidelio_member"


def member_for_user(*, user: User) -> Member | None:
    """The login's member (with its tier), looked up once per request: the result is kept on the user
    object, which the permission check, the context processor and the view share."""
    if not getattr(user, "is_authenticated", False) or not isinstance(user, User):
        return None
    if not hasattr(user, _CACHE_ATTR):
        setattr(user, _CACHE_ATTR, Member.objects.select_related("tier").filter(user=user).first())
    return getattr(user, _CACHE_ATTR)
