"""Read queries on members."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db.models import QuerySet
from django.db.models.functions import Lower
from django.utils.translation import pgettext

from members.exceptions import MemberNotFound
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


# --- look-ups by id, e-mail or external id ---------------------------------------------------------------
# The one definition of how a member is matched: the id exactly; the e-mail trimmed and case-insensitively, as
# LOWER(email) (the expression member_email_ci_unique indexes; a blank e-mail never matches); the external id
# trimmed, exactly. An unknown member is MemberNotFound (`member_not_found`) everywhere.
def _by_email(qs: QuerySet[Member], emails: Iterable[str]) -> QuerySet[Member]:
    wanted = {e.strip().lower() for e in emails} - {""}
    return qs.alias(email_ci=Lower("email")).filter(email_ci__in=wanted).exclude(email="") if wanted else qs.none()


def member_list(*, email: str | None = None, external_id: str | None = None) -> QuerySet[Member]:
    """Members matching every filter given (none: all), with their tier; for list endpoints and clash checks."""
    qs = Member.objects.select_related("tier")
    if email is not None:
        qs = _by_email(qs, [email])
    if external_id is not None:
        qs = qs.filter(external_id=external_id.strip()) if external_id.strip() else qs.none()
    return qs


def _matching(*, member_id: int | None, email: str | None, external_id: str | None) -> QuerySet[Member]:
    given = [k for k, v in (("member_id", member_id), ("email", email), ("external_id", external_id)) if v is not None]
    if len(given) != 1:
        raise TypeError(f"give exactly one of member_id, email, external_id (got {given or 'none'})")
    if member_id is not None:
        return Member.objects.filter(pk=member_id)
    return member_list(email=email, external_id=external_id).select_related(None)


def member_find(*, member_id: int | None = None, email: str | None = None, external_id: str | None = None,
                field: str | None = None, select_related: Sequence[str] = ("tier",)) -> Member:
    """The member with this id, e-mail or external id (exactly one), in one query with `select_related`.
    Unknown: MemberNotFound, 404 when the member is the URL's resource; 400 naming `field` when a request
    body named it (`field="member"`, `"member_email"`)."""
    qs = _matching(member_id=member_id, email=email, external_id=external_id)
    member = qs.select_related(*select_related).first() if select_related else qs.first()
    if member is None:
        raise MemberNotFound(field=field)
    return member


def member_id_find(*, member_id: int | None = None, email: str | None = None, external_id: str | None = None,
                   field: str | None = None) -> int:
    """Just the id (one query, one column), for hot paths that lock the row themselves. Services that lock a
    member by id anyway (purchase_record, reward_redeem) need no look-up first: their lock query is the
    existence check and raises MemberNotFound(field="member")."""
    member_pk = _matching(member_id=member_id, email=email, external_id=external_id).values_list(
        "pk", flat=True).first()
    if member_pk is None:
        raise MemberNotFound(field=field)
    return member_pk


def members_find_many(*, ids: Iterable[int] = (), emails: Iterable[str] = ()
                      ) -> tuple[dict[int, Member], dict[str, Member]]:
    """Set-based look-up for batches, with tiers: ({id: member}, {lowercased e-mail: member}), one query per
    kind given. Items missing from the maps are unknown: report them as MemberNotFound.code."""
    ids, emails = set(ids), set(emails)
    qs = Member.objects.select_related("tier")
    by_id = {m.pk: m for m in qs.filter(pk__in=ids)} if ids else {}
    by_email = {m.email.lower(): m for m in _by_email(qs, emails)} if emails else {}
    return by_id, by_email


def member_public_name(*, display_name: str, member_number: str, visibility: str) -> str:
    """What others see of a member (leaderboards, challenge boards, reviews): the display name when they chose to
    show it (and have one), else the pseudonym "Member " + the last 4 digits of the member number. Plain text:
    templates escape it."""
    if visibility == Member.LeaderboardVisibility.NAME and display_name:
        return display_name
    return pgettext("pseudonym on leaderboards and reviews", "Member %(digits)s") % {"digits": member_number[-4:]}


def member_language(member: Member | None) -> str:
    """The language to speak to a member in (e-mails, tasks): their choice, else the program's default."""
    return (member.language if member is not None else "") or settings.LANGUAGE_CODE


def member_language_for_email(*, email: str) -> str:
    """The language chosen by the member with this e-mail address, or by the login's member ("" when none)."""
    language = (Member.objects.filter(email__iexact=email).exclude(language="")
                .values_list("language", flat=True).first())
    if language:
        return language
    return (Member.objects.filter(user__email__iexact=email).exclude(language="")
            .values_list("language", flat=True).first() or "")


def member_language_chosen(*, user: User) -> str:
    """The language the login's member chose ("" when none or no member)."""
    if not user.is_authenticated:
        return ""
    return Member.objects.filter(user=user).values_list("language", flat=True).first() or ""
