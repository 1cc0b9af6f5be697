"""Surveys: invitations after purchases and on a schedule (idempotent, set-based), signed single-use links,
answer validation, bonus and challenge event, NPS/CSAT metrics."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail, signing
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feedback.models import Survey, SurveyAnswer, SurveyInvitation, SurveyQuestion, SurveyResponse
from feedback.services import AnswerIn, surveys
from loyalty.models import LedgerEntry, Purchase
from loyalty.services import PurchaseIn, purchase_record
from members.models import Member
from tests.factories import MemberFactory, ShopMemberFactory, TierFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _program(settings):
    settings.FIDELIO_WELCOME_BONUS = 0
    settings.FIDELIO_RETURN_WINDOW_DAYS = 0  # purchases are confirmed when recorded
    settings.FIDELIO_PUBLIC_URL = "https://loyalty.example.test"


def buy(member, *, at=T0, order_id=None, amount="20.00") -> Purchase:
    buy.n += 1
    purchase, _ = purchase_record(data=PurchaseIn(member_id=member.pk, order_id=order_id or f"o-{buy.n}",
                                                  amount=Decimal(amount), occurred_at=at, currency="EUR"), now=at)
    return purchase


buy.n = 0


def make_survey(*, trigger=Survey.Trigger.AFTER_PURCHASE, created_at=T0 - timedelta(days=30), **kw) -> Survey:
    survey = Survey.objects.create(title="How did we do?", trigger=trigger, created_at=created_at, **kw)
    SurveyQuestion.objects.create(survey=survey, order=1, kind="nps", text="Recommend us?")
    SurveyQuestion.objects.create(survey=survey, order=2, kind="csat", text="Satisfied?", required=False)
    SurveyQuestion.objects.create(survey=survey, order=3, kind="text", text="Anything else?", required=False)
    SurveyQuestion.objects.create(survey=survey, order=4, kind="single", text="Channel?", required=False,
                                  choices=["Shop", "Online"])
    SurveyQuestion.objects.create(survey=survey, order=5, kind="multiple", text="What did you like?",
                                  required=False, choices=["Price", "Service", "Range"])
    return survey


def q(survey, kind) -> SurveyQuestion:
    return survey.questions.get(kind=kind)


def invite(survey, member, *, key=None, now=T0):
    return surveys.invitation_create(survey=survey, member=member, key=key or f"member:{member.pk}", now=now)


def token_for(invitation) -> str:
    return surveys.invitation_token(invitation=invitation)


# ------------------------------------------------------------------------------------------ invitation task
def test_after_purchase_invites_once_per_purchase_even_when_run_twice(django_capture_on_commit_callbacks):
    survey = make_survey(delay_days=2, min_days_between=30)
    a, b = MemberFactory(), MemberFactory()
    pa, pb = buy(a), buy(b)
    now = T0 + timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        assert surveys.survey_invitations_create_due(now=now) == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert surveys.survey_invitations_create_due(now=now) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert surveys.survey_invitations_create_due(now=now + timedelta(hours=1)) == 0
    rows = SurveyInvitation.objects.filter(survey=survey).order_by("member_id")
    assert [(i.key, i.purchase_id) for i in rows] == [(f"purchase:{pa.pk}", pa.pk), (f"purchase:{pb.pk}", pb.pk)]
    assert all(i.sent_at is not None and i.expires_at == now + timedelta(days=survey.link_valid_days) for i in rows)
    assert len(mail.outbox) == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([a.email, b.email])
    prefix = "https://loyalty.example.test/surveys/answer/"
    tokens = [line.strip()[len(prefix):-1] for m in mail.outbox for line in m.body.splitlines()
              if line.startswith(prefix)]
    linked = sorted(surveys.invitation_get_by_token(token=t, now=now).pk for t in tokens)
    assert linked == sorted(i.pk for i in rows)


def test_after_purchase_waits_for_the_delay_and_skips_pending_and_old_purchases(settings):
    make_survey(delay_days=2)
    member = MemberFactory()
    buy(member)
    assert surveys.survey_invitations_create_due(now=T0 + timedelta(days=1)) == 0  # delay not over
    old = buy(MemberFactory(), at=T0 - timedelta(days=60))  # confirmed before the survey existed
    assert old.confirmed_at is not None
    settings.FIDELIO_RETURN_WINDOW_DAYS = 14
    pending = buy(MemberFactory())  # not confirmed yet
    assert pending.confirmed_at is None
    assert surveys.survey_invitations_create_due(now=T0 + timedelta(days=2)) == 1
    assert list(SurveyInvitation.objects.values_list("member_id", flat=True)) == [member.pk]
    # far too late: not surveyed any more
    late = make_survey(delay_days=2, created_at=T0 - timedelta(days=90))
    assert surveys.survey_invitations_create_due(now=T0 + timedelta(days=30)) == 0
    assert not SurveyInvitation.objects.filter(survey=late).exists()


def test_at_most_one_invitation_per_member_in_the_spacing_window():
    survey = make_survey(delay_days=0, min_days_between=30)
    member = MemberFactory()
    first, second = buy(member), buy(member, at=T0 + timedelta(hours=1))
    assert surveys.survey_invitations_create_due(now=T0 + timedelta(hours=2)) == 1  # one of the two purchases
    assert SurveyInvitation.objects.get(survey=survey).purchase_id == second.pk  # the newest
    third = buy(member, at=T0 + timedelta(days=5))
    assert surveys.survey_invitations_create_due(now=T0 + timedelta(days=5, hours=1)) == 0  # within 30 days
    fourth = buy(member, at=T0 + timedelta(days=31))
    assert surveys.survey_invitations_create_due(now=T0 + timedelta(days=31, hours=1)) == 1
    assert set(SurveyInvitation.objects.values_list("purchase_id", flat=True)) == {second.pk, fourth.pk}
    assert first.pk and third.pk


def test_selection_is_one_statement_per_survey_whatever_the_number_of_purchases():
    make_survey(delay_days=0)
    for _ in range(6):
        buy(MemberFactory())
    with CaptureQueriesContext(connection) as few:
        created = surveys.survey_invitations_create_due(now=T0 + timedelta(hours=1))
    assert created == 6
    inserts = [x for x in few.captured_queries if "INSERT INTO feedback_surveyinvitation" in x["sql"]]
    assert len(inserts) == 1


def test_scheduled_survey_invites_chosen_tiers_once_when_due():
    gold = TierFactory(name="Gold", rank=3, threshold_points=3000, earn_multiplier=Decimal("1.50"))
    silver = TierFactory(name="Silver", rank=2, threshold_points=1000, earn_multiplier=Decimal("1.25"))
    in_gold, in_silver, no_mail = MemberFactory(), MemberFactory(), ShopMemberFactory(email="")
    Member.objects.filter(pk__in=[in_gold.pk, no_mail.pk]).update(tier=gold)
    Member.objects.filter(pk=in_silver.pk).update(tier=silver)
    survey = make_survey(trigger=Survey.Trigger.SCHEDULED, send_at=T0)
    survey.audience_tiers.set([gold])
    assert surveys.survey_invitations_create_due(now=T0 - timedelta(hours=1)) == 0  # not yet
    assert surveys.survey_invitations_create_due(now=T0 + timedelta(minutes=5)) == 1
    assert surveys.survey_invitations_create_due(now=T0 + timedelta(hours=1)) == 0
    assert list(SurveyInvitation.objects.values_list("key", flat=True)) == [f"member:{in_gold.pk}"]


def test_always_open_and_inactive_surveys_send_nothing():
    make_survey(trigger=Survey.Trigger.ALWAYS_OPEN)
    make_survey(is_active=False, delay_days=0)
    buy(MemberFactory())
    assert surveys.survey_invitations_create_due(now=T0 + timedelta(days=1)) == 0


def test_a_failed_mail_is_retried_by_the_next_run(monkeypatch, django_capture_on_commit_callbacks):
    make_survey(delay_days=0)
    buy(MemberFactory())

    def broken(*args, **kwargs):
        raise OSError("SMTP down")

    monkeypatch.setattr(surveys, "mail_send", broken)
    with django_capture_on_commit_callbacks(execute=True):
        assert surveys.survey_invitations_create_due(now=T0 + timedelta(hours=1)) == 1
    assert SurveyInvitation.objects.get().sent_at is None
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        assert surveys.survey_invitations_create_due(now=T0 + timedelta(hours=2)) == 0
    assert SurveyInvitation.objects.get().sent_at is not None
    assert len(mail.outbox) == 1


def test_the_celery_task_calls_the_service(django_capture_on_commit_callbacks):
    from feedback.tasks import survey_invitations_send_due

    make_survey(delay_days=0, created_at=datetime(2000, 1, 1, tzinfo=UTC))
    buy(MemberFactory(), at=datetime.now(UTC) - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert survey_invitations_send_due.apply().get() == 1
        assert survey_invitations_send_due.apply().get() == 0
    assert len(mail.outbox) == 1


# ------------------------------------------------------------------------------------------ links and answers
def test_answering_through_the_link_writes_the_response_bonus_and_event(monkeypatch):
    events = []
    monkeypatch.setattr(surveys, "challenge_event_record", lambda *, event, now: events.append(event))
    survey = make_survey(bonus_points=25)
    member = MemberFactory()
    invitation = invite(survey, member)
    response = surveys.survey_response_submit(token=token_for(invitation), now=T0, answers=[
        AnswerIn(question_id=q(survey, "nps").pk, score=9),
        AnswerIn(question_id=q(survey, "csat").pk, score=4),
        AnswerIn(question_id=q(survey, "text").pk, text="<script>alert(1)</script>"),
        AnswerIn(question_id=q(survey, "single").pk, choices=("Online",)),
        AnswerIn(question_id=q(survey, "multiple").pk, choices=("Price", "Range")),
    ])
    invitation.refresh_from_db()
    assert invitation.responded_at == T0
    assert response.member_id == member.pk and response.invitation_id == invitation.pk
    answers = {a.kind: a for a in response.answers.all()}
    assert answers["nps"].score == 9 and answers["csat"].score == 4
    assert answers["text"].text == "<script>alert(1)</script>"  # stored as typed, escaped on output
    assert answers["single"].choices == ["Online"] and answers["multiple"].choices == ["Price", "Range"]
    entry = LedgerEntry.objects.get(idempotency_key=f"survey:{response.pk}")
    assert entry.points == 25 and entry.kind == "bonus"
    assert SurveyResponse.objects.get(pk=response.pk).bonus_entry_id == entry.pk
    assert Member.objects.get(pk=member.pk).points_balance == 25
    assert [(e.kind, e.key, e.member_id) for e in events] == [("survey", f"survey:{response.pk}", member.pk)]


def test_the_challenge_event_counts_for_a_survey_challenge():
    """The real challenge path (no mock): a survey event is accepted in the same transaction."""
    survey = make_survey()
    invitation = invite(survey, MemberFactory())
    response = surveys.survey_response_submit(token=token_for(invitation), now=T0,
                                              answers=[AnswerIn(question_id=q(survey, "nps").pk, score=3)])
    assert response.pk


def _nothing_written(member=None):
    assert not SurveyResponse.objects.exists()
    assert not SurveyAnswer.objects.exists()
    assert not LedgerEntry.objects.filter(kind="bonus").exists()


@pytest.mark.parametrize(("kind", "score"), [("nps", 11), ("nps", -1), ("csat", 0), ("csat", 6)])
def test_a_score_out_of_range_is_refused_and_nothing_written(kind, score):
    survey = make_survey(bonus_points=10)
    invitation = invite(survey, MemberFactory())
    answers = [AnswerIn(question_id=q(survey, kind).pk, score=score)]
    if kind != "nps":
        answers.append(AnswerIn(question_id=q(survey, "nps").pk, score=5))
    with pytest.raises(surveys.DomainError) as exc:
        surveys.survey_response_submit(token=token_for(invitation), answers=answers, now=T0)
    assert exc.value.code == "score_out_of_range" and exc.value.field == f"q{q(survey, kind).pk}"
    _nothing_written()
    invitation.refresh_from_db()
    assert invitation.responded_at is None


@pytest.mark.parametrize(("extra", "code"), [
    ({"text": "x" * 5001}, "text_too_long"),
    ({"single": ("Shop", "Online")}, "invalid_choice"),
    ({"multiple": ("Nope",)}, "invalid_choice"),
    ({"missing_required": True}, "answer_required"),
    ({"unknown": True}, "unknown_question"),
])
def test_bad_answers_are_refused(extra, code):
    survey = make_survey()
    invitation = invite(survey, MemberFactory())
    answers = [] if "missing_required" in extra else [AnswerIn(question_id=q(survey, "nps").pk, score=8)]
    if "text" in extra:
        answers.append(AnswerIn(question_id=q(survey, "text").pk, text=extra["text"]))
    if "single" in extra:
        answers.append(AnswerIn(question_id=q(survey, "single").pk, choices=extra["single"]))
    if "multiple" in extra:
        answers.append(AnswerIn(question_id=q(survey, "multiple").pk, choices=extra["multiple"]))
    if "unknown" in extra:
        other = make_survey()
        answers.append(AnswerIn(question_id=q(other, "nps").pk, score=1))
    with pytest.raises(surveys.DomainError) as exc:
        surveys.survey_response_submit(token=token_for(invitation), answers=answers, now=T0)
    assert exc.value.code == code
    _nothing_written()


def test_text_of_exactly_5000_characters_is_accepted():
    survey = make_survey()
    invitation = invite(survey, MemberFactory())
    surveys.survey_response_submit(token=token_for(invitation), now=T0, answers=[
        AnswerIn(question_id=q(survey, "nps").pk, score=8), AnswerIn(question_id=q(survey, "text").pk, text="y" * 5000),
    ])
    assert len(SurveyAnswer.objects.get(kind="text").text) == 5000


def test_a_link_answers_once_expires_and_cannot_be_forged():
    survey = make_survey(bonus_points=5)
    member = MemberFactory()
    invitation = invite(survey, member)
    token = token_for(invitation)
    answers = [AnswerIn(question_id=q(survey, "nps").pk, score=10)]
    surveys.survey_response_submit(token=token, answers=answers, now=T0)
    with pytest.raises(surveys.AlreadyAnswered):
        surveys.survey_response_submit(token=token, answers=answers, now=T0)
    assert SurveyResponse.objects.count() == 1 and LedgerEntry.objects.filter(kind="bonus").count() == 1

    late = invite(survey, member, key="member:late")
    with pytest.raises(surveys.LinkExpired):
        surveys.survey_response_submit(token=token_for(late), answers=answers,
                                       now=late.expires_at + timedelta(seconds=1))

    forged = signing.dumps({"n": "0" * 32}, salt="another-salt")
    for bad in (token[:-2] + "xx", forged, "garbage", signing.dumps({"n": "f" * 32}, salt=surveys.LINK_SALT)):
        with pytest.raises(surveys.InvalidLink):
            surveys.survey_response_submit(token=bad, answers=answers, now=T0)
    assert SurveyResponse.objects.count() == 1


def test_always_open_survey_answered_once_per_member():
    survey = make_survey(trigger=Survey.Trigger.ALWAYS_OPEN, bonus_points=3)
    member, other = MemberFactory(), MemberFactory()
    answers = [AnswerIn(question_id=q(survey, "nps").pk, score=7)]
    surveys.survey_response_submit(survey=survey, member=member, answers=answers, now=T0)
    with pytest.raises(surveys.AlreadyAnswered):
        surveys.survey_response_submit(survey=survey, member=member, answers=answers, now=T0)
    surveys.survey_response_submit(survey=survey, member=other, answers=answers, now=T0)
    assert SurveyResponse.objects.filter(survey=survey).count() == 2
    rows = surveys.survey_list_open_for_member(member=member)
    assert [(r["survey"].pk, r["answered"]) for r in rows] == [(survey.pk, True)]
    after_purchase = make_survey()
    with pytest.raises(surveys.NotFound):
        surveys.survey_response_submit(survey=after_purchase, member=member, answers=answers, now=T0)


# ------------------------------------------------------------------------------------------ metrics
def _respond(survey, *, nps=None, csat=None, at=T0):
    member = MemberFactory()
    answers = []
    if nps is not None:
        answers.append(AnswerIn(question_id=q(survey, "nps").pk, score=nps))
    if csat is not None:
        answers.append(AnswerIn(question_id=q(survey, "csat").pk, score=csat))
    return surveys.survey_response_submit(survey=survey, member=member, answers=answers, now=at)


def test_nps_and_csat_equal_hand_computed_values():
    survey = make_survey(trigger=Survey.Trigger.ALWAYS_OPEN)
    survey.questions.filter(kind="nps").update(required=False)
    # NPS: 10, 9, 9 promoters (3); 8, 7 passives (2); 6, 3, 0 detractors (3) -> 8 answers: 37.5 - 37.5 = 0
    # plus one more promoter -> 9 answers: 4/9 - 3/9 = 11.1
    for score in (10, 9, 9, 8, 7, 6, 3, 0, 10):
        _respond(survey, nps=score)
    # CSAT: 5, 4, 4, 3, 1 -> 3 of 5 satisfied = 60.0 %
    for score in (5, 4, 4, 3, 1):
        _respond(survey, csat=score)
    _respond(survey, nps=0, csat=1, at=T0 + timedelta(days=40))  # outside the period
    start, end = T0 - timedelta(days=1), T0 + timedelta(days=1)
    with CaptureQueriesContext(connection) as nps_queries:
        nps = surveys.nps_for_period(start=start, end=end)
    assert len(nps_queries.captured_queries) == 1
    assert nps == {"responses": 9, "promoters": 4, "passives": 2, "detractors": 3, "nps": 11.1}
    with CaptureQueriesContext(connection) as csat_queries:
        csat = surveys.csat_for_period(start=start, end=end)
    assert len(csat_queries.captured_queries) == 1
    assert csat == {"responses": 5, "satisfied": 3, "csat": 60.0}


def test_metrics_without_responses_are_none():
    start, end = T0, T0 + timedelta(days=1)
    assert surveys.nps_for_period(start=start, end=end)["nps"] is None
    assert surveys.csat_for_period(start=start, end=end)["csat"] is None
