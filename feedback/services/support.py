"""Support feedback: recorded from any channel, answered within a deadline, resolved with an optional
goodwill gesture in points (capped per agent per day) and a "you told us, we acted" e-mail."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, ngettext

from config.exceptions import Conflict, DomainError
from config.idempotency import request_digest
from config.periods import program_tz
from feedback.models import TEXT_MAX, FeedbackRecord, ResponseTime
from loyalty import ledger
from loyalty.exceptions import IdempotencyConflict
from loyalty.models import LedgerEntry
from members.mail import mail_queue, mail_send
from members.models import Member, User

log = logging.getLogger(__name__)
Status = FeedbackRecord.Status
# The staff group that answers feedback (created with its permissions by backoffice.roles): the assignee list
# offers its members, and overdue records nobody is assigned to are reminded to all of them.
SUPPORT_GROUP = "Support agent"


def support_agents():
    """Active staff users in the support group."""
    return User.objects.filter(is_active=True, is_staff=True, groups__name=SUPPORT_GROUP).order_by("email")
DEFAULT_RESPONSE_HOURS = 24
# Status changes a record may make (resolved and closed are final).
TRANSITIONS = {
    Status.OPEN: {Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED},
    Status.IN_PROGRESS: {Status.RESOLVED, Status.CLOSED},
    Status.RESOLVED: set(),
    Status.CLOSED: set(),
}


class GoodwillCapReached(Conflict):
    code = "goodwill_cap_reached"
    default_detail = gettext_lazy("This would exceed your goodwill points for today.")


def response_hours(category: str) -> int:
    hours = ResponseTime.objects.filter(category=category).values_list("hours", flat=True).first()
    return hours or DEFAULT_RESPONSE_HOURS


def text_validate(text: str, *, field: str = "text") -> str:
    """Plain text up to 5,000 characters (markup is kept as typed and escaped wherever it is shown)."""
    text = (text or "").strip()
    if not text:
        raise DomainError(gettext("Write what the customer told us."), field=field, code="required")
    if len(text) > TEXT_MAX:
        raise DomainError(ngettext("At most %(max)d character (%(count)d given).",
                                   "At most %(max)d characters (%(count)d given).", TEXT_MAX)
                          % {"max": TEXT_MAX, "count": len(text)}, field=field, code="too_long")
    return text


def feedback_record(*, channel: str, category: str, text: str, member: Member | None = None,
                    kind: str = FeedbackRecord.Kind.COMPLAINT, sentiment: str = FeedbackRecord.Sentiment.NEUTRAL,
                    order_id: str = "", created_by=None, assignee=None, idempotency_scope: str = "",
                    idempotency_key: str | None = None, now: datetime | None = None) -> tuple[FeedbackRecord, bool]:
    """Record feedback; its response deadline comes from the category.

    With an idempotency key (kept per `idempotency_scope`, the calling client), a retry with the same request
    returns the first record (created False) and another request under the same key raises
    IdempotencyConflict; two concurrent posts with one key make one record (the unique index decides, the
    loser answers with the winner's record)."""
    now = now or timezone.now()
    for field, value, choices in (("channel", channel, FeedbackRecord.Channel), ("category", category,
                                  FeedbackRecord.Category), ("kind", kind, FeedbackRecord.Kind),
                                  ("sentiment", sentiment, FeedbackRecord.Sentiment)):
        if value not in choices.values:
            raise DomainError(gettext("%(field)s must be one of: %(values)s.")
                              % {"field": field, "values": ", ".join(choices.values)}, field=field, code="invalid")
    text = text_validate(text)
    order_id = order_id[:100]
    digest = request_digest(getattr(member, "pk", None), channel, kind, category, sentiment, text, order_id)
    if idempotency_key:
        existing = _idempotent_record(idempotency_scope, idempotency_key, digest)
        if existing is not None:
            return existing, False
    fields = dict(
        member=member, channel=channel, category=category, kind=kind, sentiment=sentiment, text=text,
        order_id=order_id, created_by=created_by, assignee=assignee, idempotency_scope=idempotency_scope,
        idempotency_key=idempotency_key or None, request_hash=digest if idempotency_key else "",
        due_at=now + timedelta(hours=response_hours(category)), created_at=now,
    )
    if not idempotency_key:
        return FeedbackRecord.objects.create(**fields), True
    try:
        with transaction.atomic():  # a savepoint: a concurrent twin's commit makes this insert fail, not the caller
            return FeedbackRecord.objects.create(**fields), True
    except IntegrityError:
        existing = _idempotent_record(idempotency_scope, idempotency_key, digest)
        if existing is None:
            raise
        return existing, False


def _idempotent_record(scope: str, key: str, digest: str) -> FeedbackRecord | None:
    existing = FeedbackRecord.objects.filter(idempotency_scope=scope, idempotency_key=key).first()
    if existing is not None and existing.request_hash != digest:
        raise IdempotencyConflict(gettext("This Idempotency-Key was already used for other feedback."),
                                  field="Idempotency-Key")
    return existing


@transaction.atomic
def feedback_status_change(*, record_id: int, status: str, by=None, note: str = "",
                           now: datetime | None = None) -> FeedbackRecord:
    """Move a record along open → in progress → resolved | closed. Resolving needs a note; the member may get
    a "you told us, we acted" e-mail (after commit)."""
    now = now or timezone.now()
    record = FeedbackRecord.objects.select_for_update().get(pk=record_id)
    if status == record.status:
        return record
    if status not in TRANSITIONS.get(record.status, set()):
        raise DomainError(gettext("A %(current)s record cannot become %(status)s.")
                          % {"current": record.get_status_display().lower(), "status": status},
                          field="status", code="invalid_transition")
    if status == Status.RESOLVED:
        record.resolution_note = text_validate(note or record.resolution_note, field="resolution_note")
        record.resolved_at = now
    record.status = status
    record.save(update_fields=["status", "resolution_note", "resolved_at", "updated_at"])
    if status == Status.RESOLVED and record.notify_member and record.member_id:
        transaction.on_commit(lambda: feedback_resolved_notify(record_id=record.pk))
    return record


def feedback_resolved_notify(*, record_id: int) -> None:
    record = FeedbackRecord.objects.select_related("member").get(pk=record_id)
    member = record.member
    if not member.email:
        return
    mail_queue("feedback/resolved", to=member.email, language=member.language, key=f"feedback-resolved:{record.pk}",
               context={"first_name": member.first_name, "feedback_text": record.text,
                        "resolution_note": record.resolution_note})


def _day_start(now: datetime) -> datetime:
    local = now.astimezone(program_tz())
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def goodwill_given_today(*, agent, now: datetime) -> int:
    return LedgerEntry.objects.filter(author=agent, reference__startswith="feedback:", points__gt=0,
                                      created_at__gte=_day_start(now)).aggregate(s=Sum("points"))["s"] or 0


def _is_own_account(member: Member, agent) -> bool:
    return member.user_id == agent.pk or (bool(member.email) and member.email.lower() == (agent.email or "").lower())


def feedback_goodwill(*, record_id: int, points: int, agent, now: datetime | None = None) -> LedgerEntry:
    """Give the record's member goodwill points (once per record), recorded in the ledger with the agent as
    author, within the agent's daily cap (FIDELIO_GOODWILL_DAILY_CAP, program-time day). Concurrent grants by
    one agent are serialised, so the cap holds."""
    now = now or timezone.now()
    if not isinstance(points, int) or points <= 0:
        raise DomainError(gettext("Goodwill is a whole number of points above zero."), field="goodwill_points",
                          code="invalid")
    with transaction.atomic():
        record = FeedbackRecord.objects.select_for_update().get(pk=record_id)
        if record.member_id is None:
            raise DomainError(gettext("This feedback has no member to give points to."), field="member",
                              code="no_member")
        if record.goodwill_entry_id is not None:
            raise Conflict(gettext("Goodwill was already given for this feedback."), code="goodwill_given")
        if _is_own_account(record.member, agent):
            raise DomainError(gettext("You cannot give goodwill points to your own member account."),
                              field="goodwill_points", code="own_account")
        with connection.cursor() as cursor:  # one agent's grants one at a time
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"goodwill:{agent.pk}"])
        cap = settings.FIDELIO_GOODWILL_DAILY_CAP
        given = goodwill_given_today(agent=agent, now=now)
        if given + points > cap:
            left = max(cap - given, 0)
            raise GoodwillCapReached(
                ngettext("You can give %(count)d more goodwill point today (daily limit %(cap)d).",
                         "You can give %(count)d more goodwill points today (daily limit %(cap)d).", left)
                % {"count": left, "cap": cap}, field="goodwill_points")
        entry = ledger.points_credit(
            member=record.member_id, points=points, kind=LedgerEntry.Kind.ADJUST, author=agent, now=now,
            description=f"Goodwill for your feedback #{record.pk}", reference=f"feedback:{record.pk}",
            idempotency_key=f"goodwill:feedback:{record.pk}",
        )
        FeedbackRecord.objects.filter(pk=record.pk).update(goodwill_points=points, goodwill_entry=entry)
    return entry


def feedback_overdue_remind(*, now: datetime | None = None) -> int:
    """E-mail one digest of overdue open records to each assignee, and the overdue records nobody is assigned to
    (a member's complaint from the portal arrives unassigned) to every support agent. A record is reminded at
    most once an hour, so a second run in the same hour sends nothing. Returns the e-mails sent."""
    now = now or timezone.now()
    due = (FeedbackRecord.objects.filter(status__in=[Status.OPEN, Status.IN_PROGRESS], due_at__lt=now)
           .exclude(reminded_at__gt=now - timedelta(minutes=55)).select_related("assignee").order_by("due_at"))
    records = list(due)
    if not records:
        return 0
    claimed = set(FeedbackRecord.objects.filter(pk__in=[r.pk for r in records]).exclude(
        reminded_at__gt=now - timedelta(minutes=55)).values_list("pk", flat=True))
    FeedbackRecord.objects.filter(pk__in=claimed).update(reminded_at=now)
    mine: dict = {}
    unassigned = []
    for record in records:
        if record.pk not in claimed:
            continue  # a parallel run took it
        if record.assignee_id is not None:
            mine.setdefault(record.assignee, []).append(record)
        else:
            unassigned.append(record)
    digests = [(agent, rs, True) for agent, rs in mine.items()]
    if unassigned:
        digests += [(agent, unassigned, False) for agent in support_agents()]
    sent = 0
    for agent, rs, assigned_to_you in digests:
        if not agent.email:
            continue
        records = [{"id": r.pk, "category": r.get_category_display(), "due_at": r.due_at, "text": r.text}
                   for r in rs]
        mail_send("feedback/overdue_digest", to=agent.email, language=None,
                  context={"records": records, "assigned_to_you": assigned_to_you})
        sent += 1
    return sent


def feedback_for_member(*, member: Member):
    return FeedbackRecord.objects.filter(member=member).order_by("-created_at")
