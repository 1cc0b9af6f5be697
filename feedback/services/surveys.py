"""Surveys (NPS, CSAT, custom questions): invitations with signed single-use links, responses, metrics.

Services write, selectors read. The invitation job is set-based: one INSERT … SELECT per survey picks every
due purchase (or audience member), skips what was already invited (unique (survey, key)) and returns the new
rows, whose e-mails go out after commit.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy, ngettext

from config.exceptions import Conflict, DomainError, Gone, NotFound
from config.sql import fetch_all
from feedback.models import TEXT_MAX, Survey, SurveyAnswer, SurveyInvitation, SurveyQuestion, SurveyResponse
from gamification.services.challenges import Event, challenge_event_record
from loyalty import ledger
from loyalty.models import Purchase
from members.mail import mail_language, mail_send
from members.models import Member

log = logging.getLogger(__name__)

LINK_SALT = "feedback.survey-invitation"
# After a purchase: purchases confirmed longer ago than the delay plus this many days are no longer surveyed
# (an invitation weeks late is noise; also stops a paused job from flooding members when it resumes).
LATE_GRACE_DAYS = 7
SCORE_RANGES = {SurveyQuestion.Kind.NPS: (0, 10), SurveyQuestion.Kind.CSAT: (1, 5)}


# ------------------------------------------------------------------------------------------------- errors
class InvalidLink(NotFound):
    code = "invalid_link"
    default_detail = gettext_lazy("This survey link is not valid.")


class LinkExpired(Gone):
    code = "link_expired"
    default_detail = gettext_lazy("This survey link has expired.")


class AlreadyAnswered(Conflict):
    code = "already_answered"
    default_detail = gettext_lazy("This survey has already been answered.")


# ------------------------------------------------------------------------------------------------- links
def invitation_token(*, invitation: SurveyInvitation) -> str:
    return signing.dumps({"n": invitation.nonce}, salt=LINK_SALT, compress=False)


def invitation_url(*, invitation: SurveyInvitation) -> str:
    path = reverse("portal:survey-answer", kwargs={"token": invitation_token(invitation=invitation)})
    return settings.FIDELIO_PUBLIC_URL.rstrip("/") + path


def invitation_get_by_token(*, token: str, now: datetime | None = None, for_update: bool = False
                            ) -> SurveyInvitation:
    """The invitation a signed link names. Tampered or unknown: InvalidLink (no hint which); expired:
    LinkExpired; answered: AlreadyAnswered."""
    now = now or timezone.now()
    try:
        data = signing.loads(token, salt=LINK_SALT)
        nonce = data["n"] if isinstance(data, dict) else None
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise InvalidLink() from None
    if not isinstance(nonce, str):
        raise InvalidLink()
    qs = SurveyInvitation.objects.select_related("survey")
    if for_update:
        qs = qs.select_for_update(of=("self",))
    invitation = qs.filter(nonce=nonce).first()
    if invitation is None:
        raise InvalidLink()
    if invitation.responded_at is not None:
        raise AlreadyAnswered()
    if invitation.expires_at <= now or not invitation.survey.is_active:
        raise LinkExpired()
    return invitation


# ------------------------------------------------------------------------------------------------- selectors
def survey_questions_get(*, survey: Survey) -> list[SurveyQuestion]:
    return list(survey.questions.all())


def survey_list_open_for_member(*, member: Member) -> list[dict]:
    """Always-open active surveys, each with whether this member has answered it (two queries)."""
    surveys = list(Survey.objects.filter(trigger=Survey.Trigger.ALWAYS_OPEN, is_active=True).order_by("title"))
    answered = set(
        SurveyResponse.objects.filter(member=member, invitation__isnull=True, survey__in=surveys)
        .values_list("survey_id", flat=True)
    )
    return [{"survey": s, "answered": s.pk in answered} for s in surveys]


def survey_open_get(*, survey_id: int) -> Survey:
    survey = Survey.objects.filter(pk=survey_id, trigger=Survey.Trigger.ALWAYS_OPEN, is_active=True).first()
    if survey is None:
        raise NotFound(gettext("No such survey."))
    return survey


def nps_for_period(*, start: datetime, end: datetime) -> dict:
    """NPS of the NPS answers given in [start, end): promoters 9–10, passives 7–8, detractors 0–6;
    nps = % promoters − % detractors (one decimal), None without responses. One aggregate query."""
    row = SurveyAnswer.objects.filter(
        kind=SurveyQuestion.Kind.NPS, score__isnull=False,
        response__created_at__gte=start, response__created_at__lt=end,
    ).aggregate(
        responses=Count("pk"),
        promoters=Count("pk", filter=Q(score__gte=9)),
        passives=Count("pk", filter=Q(score__gte=7, score__lte=8)),
        detractors=Count("pk", filter=Q(score__lte=6)),
    )
    total = row["responses"]
    row["nps"] = round((row["promoters"] - row["detractors"]) * 100 / total, 1) if total else None
    return row


def csat_for_period(*, start: datetime, end: datetime) -> dict:
    """CSAT of the CSAT answers given in [start, end): % scoring 4–5 (one decimal), None without responses.
    One aggregate query."""
    row = SurveyAnswer.objects.filter(
        kind=SurveyQuestion.Kind.CSAT, score__isnull=False,
        response__created_at__gte=start, response__created_at__lt=end,
    ).aggregate(responses=Count("pk"), satisfied=Count("pk", filter=Q(score__gte=4)))
    total = row["responses"]
    row["csat"] = round(row["satisfied"] * 100 / total, 1) if total else None
    return row


# ------------------------------------------------------------------------------------------------- answers
@dataclass(frozen=True)
class AnswerIn:
    question_id: int
    score: int | None = None
    text: str = ""
    choices: tuple[str, ...] = ()


def answers_validate(*, survey: Survey, questions: list[SurveyQuestion], answers: list[AnswerIn]
                     ) -> list[SurveyAnswer]:
    """Unsaved SurveyAnswer rows for `answers`, or a DomainError (field = the question) on the first problem."""
    by_id = {q.pk: q for q in questions}
    given: dict[int, AnswerIn] = {}
    for answer in answers:
        if answer.question_id not in by_id:
            raise DomainError(gettext("This question is not part of the survey."), field=f"q{answer.question_id}",
                              code="unknown_question")
        if answer.question_id in given:
            raise DomainError(gettext("A question is answered twice."), field=f"q{answer.question_id}",
                              code="duplicate_answer")
        given[answer.question_id] = answer
    rows = []
    for q in questions:
        a = given.get(q.pk)
        field = f"q{q.pk}"
        empty = a is None or (a.score is None and not (a.text or "").strip() and not a.choices)
        if empty:
            if q.required:
                raise DomainError(gettext("Please answer this question."), field=field, code="answer_required")
            continue
        row = SurveyAnswer(question=q, kind=q.kind)
        if q.kind in SCORE_RANGES:
            low, high = SCORE_RANGES[q.kind]
            if isinstance(a.score, bool) or not isinstance(a.score, int) or not low <= a.score <= high:
                raise DomainError(gettext("The score must be a whole number from %(low)d to %(high)d.")
                                  % {"low": low, "high": high}, field=field, code="score_out_of_range")
            row.score = a.score
            if a.text:  # an optional comment beside the score
                row.text = _text_checked(a.text, field)
        elif q.kind == SurveyQuestion.Kind.TEXT:
            row.text = _text_checked(a.text, field)
        else:
            options = [str(c) for c in (q.choices or [])]
            picked = list(dict.fromkeys(a.choices))
            if not picked or any(c not in options for c in picked):
                raise DomainError(gettext("Pick from the options given."), field=field, code="invalid_choice")
            if q.kind == SurveyQuestion.Kind.SINGLE and len(picked) != 1:
                raise DomainError(gettext("Pick exactly one option."), field=field, code="invalid_choice")
            row.choices = picked
        rows.append(row)
    if not rows:
        raise DomainError(gettext("Answer at least one question."), code="answer_required")
    return rows


def _text_checked(text: str, field: str) -> str:
    if not isinstance(text, str):
        raise DomainError(gettext("Text expected."), field=field, code="invalid_text")
    text = text.strip()
    if len(text) > TEXT_MAX:
        raise DomainError(ngettext("At most %(count)d character, please.", "At most %(count)d characters, please.",
                                   TEXT_MAX) % {"count": TEXT_MAX}, field=field, code="text_too_long")
    return text  # stored as typed; every output escapes it


@transaction.atomic
def survey_response_submit(*, answers: list[AnswerIn], token: str | None = None, survey: Survey | None = None,
                           member: Member | None = None, now: datetime | None = None) -> SurveyResponse:
    """Record one response: through a signed invitation link (`token`, no login needed) or, for an
    always-open survey, by a logged-in `member`. Everything is checked before anything is written; the
    bonus (if any) and the challenge event go in the same transaction."""
    now = now or timezone.now()
    invitation = None
    if token is not None:
        invitation = invitation_get_by_token(token=token, now=now, for_update=True)
        survey, member_id = invitation.survey, invitation.member_id
    else:
        if survey is None or member is None:
            raise ValueError("survey_response_submit takes a token, or a survey and a member")
        if survey.trigger != Survey.Trigger.ALWAYS_OPEN or not survey.is_active:
            raise NotFound(gettext("No such survey."))
        member_id = Member.objects.select_for_update().values_list("pk", flat=True).get(pk=member.pk)
        if SurveyResponse.objects.filter(survey=survey, member_id=member_id, invitation__isnull=True).exists():
            raise AlreadyAnswered(gettext("You have already answered this survey."))
    rows = answers_validate(survey=survey, questions=survey_questions_get(survey=survey), answers=answers)
    try:
        with transaction.atomic():
            response = SurveyResponse.objects.create(survey=survey, member_id=member_id, invitation=invitation,
                                                     created_at=now)
    except IntegrityError:
        raise AlreadyAnswered() from None
    for row in rows:
        row.response = response
    SurveyAnswer.objects.bulk_create(rows)
    if invitation is not None:
        claimed = SurveyInvitation.objects.filter(pk=invitation.pk, responded_at__isnull=True).update(
            responded_at=now)
        if claimed != 1:
            raise AlreadyAnswered()
    if survey.bonus_points and member_id:
        response.bonus_entry = ledger.points_credit(
            member=member_id, points=survey.bonus_points, kind="bonus",
            description=f"Thank you for answering “{survey.title}”", idempotency_key=f"survey:{response.pk}",
            reference=f"survey:{survey.pk}", now=now,
        )
        SurveyResponse.objects.filter(pk=response.pk).update(bonus_entry=response.bonus_entry)
    if member_id:
        challenge_event_record(event=Event(kind="survey", key=f"survey:{response.pk}", member_id=member_id,
                                           occurred_at=now), now=now)
    return response


# ------------------------------------------------------------------------------------------------- invitations
_AFTER_PURCHASE_SQL = """
INSERT INTO feedback_surveyinvitation (survey_id, member_id, purchase_id, key, nonce, created_at, expires_at)
SELECT DISTINCT ON (p.member_id)
       %(survey)s, p.member_id, p.id, 'purchase:' || p.id, replace(gen_random_uuid()::text, '-', ''),
       %(now)s, %(expires)s
  FROM loyalty_purchase p
  JOIN members_member m ON m.id = p.member_id AND m.email <> ''
 WHERE p.confirmed_at IS NOT NULL
   AND p.status = ANY(%(statuses)s::varchar[])
   AND p.confirmed_at <= %(due_before)s
   AND p.confirmed_at > %(too_late)s
   AND p.confirmed_at >= %(survey_created)s
   AND NOT EXISTS (SELECT 1 FROM feedback_surveyinvitation i
                    WHERE i.survey_id = %(survey)s AND i.key = 'purchase:' || p.id)
   AND NOT EXISTS (SELECT 1 FROM feedback_surveyinvitation i
                    WHERE i.survey_id = %(survey)s AND i.member_id = p.member_id AND i.created_at > %(spacing)s)
 ORDER BY p.member_id, p.confirmed_at DESC, p.id DESC
ON CONFLICT (survey_id, key) DO NOTHING
RETURNING id
"""

_SCHEDULED_SQL = """
INSERT INTO feedback_surveyinvitation (survey_id, member_id, purchase_id, key, nonce, created_at, expires_at)
SELECT %(survey)s, m.id, NULL, 'member:' || m.id, replace(gen_random_uuid()::text, '-', ''), %(now)s, %(expires)s
  FROM members_member m
 WHERE m.email <> ''
   AND (NOT %(by_tier)s OR m.tier_id = ANY(%(tiers)s))
ON CONFLICT (survey_id, key) DO NOTHING
RETURNING id
"""


def _survey_invite(survey: Survey, *, now: datetime) -> list[int]:
    """New invitations of one survey, one statement, in a transaction held by the caller. An advisory lock
    per survey makes parallel runs take turns (the per-member spacing holds across them)."""
    expires = now + timedelta(days=survey.link_valid_days)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('feedback.survey_invite'), %s)", [survey.pk])
        if survey.trigger == Survey.Trigger.AFTER_PURCHASE:
            due_before = now - timedelta(days=survey.delay_days)
            cursor.execute(_AFTER_PURCHASE_SQL, {
                "survey": survey.pk, "now": now, "expires": expires, "due_before": due_before,
                "too_late": due_before - timedelta(days=LATE_GRACE_DAYS), "survey_created": survey.created_at,
                "spacing": now - timedelta(days=survey.min_days_between),
                "statuses": [Purchase.Status.CONFIRMED, Purchase.Status.PARTLY_RETURNED],
            })
        else:
            tiers = [t.pk for t in survey.audience_tiers.all()]
            cursor.execute(_SCHEDULED_SQL, {"survey": survey.pk, "now": now, "expires": expires,
                                            "by_tier": bool(tiers), "tiers": tiers})
        return [row["id"] for row in fetch_all(cursor)]


def survey_invitations_create_due(*, now: datetime | None = None) -> int:
    """Create the invitations every active survey owes now and send them after commit. Safe to run twice:
    a purchase or member already invited to a survey is skipped (and the unique key backs that up).
    Also retries invitations whose mail did not go out. Returns the number of invitations created."""
    now = now or timezone.now()
    invitations_send_pending(now=now)
    surveys = (
        Survey.objects.filter(is_active=True)
        .filter(Q(trigger=Survey.Trigger.AFTER_PURCHASE)
                | Q(trigger=Survey.Trigger.SCHEDULED, send_at__isnull=False, send_at__lte=now))
        .prefetch_related("audience_tiers")
    )
    created = 0
    for survey in surveys:
        with transaction.atomic():
            ids = _survey_invite(survey, now=now)
            if ids:
                transaction.on_commit(lambda ids=ids: invitations_send(invitation_ids=ids))
        created += len(ids)
    return created


def invitations_send(*, invitation_ids: list[int]) -> int:
    """E-mail each unsent invitation, then mark it sent. Each row is claimed with a lock (skip_locked), so
    two workers never mail the same invitation; a failed mail leaves it unsent for the next run."""
    sent = 0
    for pk in invitation_ids:
        with transaction.atomic():
            invitation = (
                SurveyInvitation.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("survey", "member").filter(pk=pk, sent_at__isnull=True).first()
            )
            if invitation is None or not invitation.member.email:
                continue
            try:
                _invitation_mail(invitation)
            except Exception:  # SMTP trouble: retried by the next run
                log.exception("survey invitation %s: mail failed", pk)
                continue
            SurveyInvitation.objects.filter(pk=pk).update(sent_at=timezone.now())
            sent += 1
    return sent


def invitations_send_pending(*, now: datetime) -> int:
    ids = list(SurveyInvitation.objects.filter(sent_at__isnull=True, responded_at__isnull=True,
                                               expires_at__gt=now).values_list("pk", flat=True)[:5000])
    return invitations_send(invitation_ids=ids) if ids else 0


def _invitation_mail(invitation: SurveyInvitation) -> None:
    survey, member = invitation.survey, invitation.member
    with translation.override(mail_language(member.language)):  # the survey's title in the member's language
        title = str(survey.title)
    mail_send("feedback/survey_invitation", to=member.email, language=member.language, context={
        "first_name": member.first_name, "survey_title": title, "bonus_points": survey.bonus_points,
        "url": invitation_url(invitation=invitation), "expires_at": invitation.expires_at})


def invitation_create(*, survey: Survey, member: Member, key: str, now: datetime | None = None
                      ) -> SurveyInvitation:
    """One invitation by hand (tests, admin tools); the same key again returns the existing one."""
    now = now or timezone.now()
    invitation, _ = SurveyInvitation.objects.get_or_create(
        survey=survey, key=key,
        defaults={"member": member, "nonce": secrets.token_hex(16), "created_at": now,
                  "expires_at": now + timedelta(days=survey.link_valid_days)},
    )
    return invitation


def responses_for_survey(*, survey: Survey) -> QuerySet[SurveyResponse]:
    return survey.responses.select_related("member").prefetch_related("answers__question")
