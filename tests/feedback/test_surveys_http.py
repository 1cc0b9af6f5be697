"""Surveys over HTTP: the public signed-link API, the member API, the portal pages and the admin
(escaping, permissions)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from backoffice.roles import PROGRAM_MANAGER, SUPPORT_AGENT
from feedback.models import Survey, SurveyAnswer, SurveyInvitation, SurveyQuestion, SurveyResponse
from feedback.services import surveys
from loyalty.models import LedgerEntry
from tests.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('x')</script>"


@pytest.fixture(autouse=True)
def _program(settings):
    settings.FIDELIO_WELCOME_BONUS = 0


@pytest.fixture
def survey(db):
    s = Survey.objects.create(title="Your visit", trigger=Survey.Trigger.AFTER_PURCHASE, bonus_points=10)
    SurveyQuestion.objects.create(survey=s, order=1, kind="nps", text="Recommend us?")
    SurveyQuestion.objects.create(survey=s, order=2, kind="csat", text="Satisfied?", required=False)
    SurveyQuestion.objects.create(survey=s, order=3, kind="text", text="Tell us more", required=False)
    SurveyQuestion.objects.create(survey=s, order=4, kind="multiple", text="Liked?", required=False,
                                  choices=["Price", "Service"])
    return s


def qid(survey, kind) -> int:
    return survey.questions.get(kind=kind).pk


@pytest.fixture
def invitation(survey, member):
    return surveys.invitation_create(survey=survey, member=member, key=f"member:{member.pk}")


def url(token) -> str:
    return f"/api/v1/surveys/responses/{token}/"


def body(survey, **over):
    answers = [{"question": qid(survey, "nps"), "score": over.get("nps", 9)}]
    if "text" in over:
        answers.append({"question": qid(survey, "text"), "text": over["text"]})
    if "csat" in over:
        answers.append({"question": qid(survey, "csat"), "score": over["csat"]})
    return {"answers": answers}


# ------------------------------------------------------------------------------------------ link API
def test_get_shows_the_questions_without_login(anon_client, survey, invitation):
    response = anon_client.get(url(surveys.invitation_token(invitation=invitation)))
    assert response.status_code == 200
    data = response.json()
    assert data["title"] == "Your visit" and data["bonus_points"] == 10
    assert [q["kind"] for q in data["questions"]] == ["nps", "csat", "text", "multiple"]


def test_post_answers_once_then_409(anon_client, survey, invitation, member):
    token = surveys.invitation_token(invitation=invitation)
    first = anon_client.post(url(token), body(survey, text=SCRIPT, csat=5), format="json")
    assert first.status_code == 201, first.json()
    assert first.json()["bonus_points"] == 10
    again = anon_client.post(url(token), body(survey), format="json")
    assert again.status_code == 409 and again.json()["code"] == "already_answered"
    assert SurveyResponse.objects.count() == 1
    assert SurveyAnswer.objects.get(kind="text").text == SCRIPT
    assert LedgerEntry.objects.filter(member=member, kind="bonus").count() == 1


def test_a_logged_in_session_of_someone_else_does_not_matter(api_client, survey, member):
    """The link authorises: the answer belongs to the invited member, not the session (no CSRF needed)."""
    other = MemberFactory()
    invitation = surveys.invitation_create(survey=survey, member=other, key=f"member:{other.pk}")
    response = api_client.post(url(surveys.invitation_token(invitation=invitation)), body(survey), format="json")
    assert response.status_code == 201
    assert SurveyResponse.objects.get().member_id == other.pk


def test_expired_link_is_410(anon_client, survey, invitation):
    SurveyInvitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    token = surveys.invitation_token(invitation=invitation)
    for response in (anon_client.get(url(token)), anon_client.post(url(token), body(survey), format="json")):
        assert response.status_code == 410 and response.json()["code"] == "link_expired"
    assert not SurveyResponse.objects.exists()


@pytest.mark.parametrize("mangle", [lambda t: t[:-3] + "abc", lambda t: "x" + t, lambda t: "nonsense",
                                    lambda t: t.replace(":", "%3B", 1)])
def test_tampered_link_is_invalid_without_a_hint(anon_client, survey, invitation, mangle):
    token = mangle(surveys.invitation_token(invitation=invitation))
    response = anon_client.post(url(token), body(survey), format="json")
    assert response.status_code == 404
    assert response.json() == {"code": "invalid_link", "detail": "This survey link is not valid."}
    assert not SurveyResponse.objects.exists()


@pytest.mark.parametrize(("over", "code"), [
    ({"nps": 11}, "score_out_of_range"), ({"nps": -1}, "score_out_of_range"), ({"csat": 0}, "score_out_of_range"),
    ({"csat": 6}, "score_out_of_range"), ({"text": "a" * 5001}, "text_too_long"),
])
def test_bad_answers_are_400_and_nothing_written(anon_client, survey, invitation, over, code):
    response = anon_client.post(url(surveys.invitation_token(invitation=invitation)), body(survey, **over),
                                format="json")
    assert response.status_code == 400 and response.json()["code"] == code
    assert not SurveyResponse.objects.exists() and not SurveyAnswer.objects.exists()
    assert not LedgerEntry.objects.filter(kind="bonus").exists()
    invitation.refresh_from_db()
    assert invitation.responded_at is None


def test_malformed_body_is_400(anon_client, survey, invitation):
    token = surveys.invitation_token(invitation=invitation)
    assert anon_client.post(url(token), {"answers": []}, format="json").status_code == 400
    assert anon_client.post(url(token), {"answers": [{"question": "x"}]}, format="json").status_code == 400
    assert anon_client.post(url(token), {"answers": [{"question": qid(survey, "nps"), "score": "ten"}]},
                            format="json").status_code == 400
    assert not SurveyResponse.objects.exists()


# ------------------------------------------------------------------------------------------ member API
def test_member_api_for_always_open_surveys(api_client, survey):
    open_survey = Survey.objects.create(title="Open", trigger=Survey.Trigger.ALWAYS_OPEN)
    SurveyQuestion.objects.create(survey=open_survey, kind="csat", text="Happy?")
    listing = api_client.get("/api/v1/me/surveys/")
    assert listing.status_code == 200
    assert listing.json() == [{"id": open_survey.pk, "title": "Open", "intro": "", "bonus_points": 0,
                               "answered": False}]
    path = f"/api/v1/me/surveys/{open_survey.pk}/responses/"
    answer = {"answers": [{"question": open_survey.questions.get().pk, "score": 5}]}
    assert api_client.post(path, answer, format="json").status_code == 201
    second = api_client.post(path, answer, format="json")
    assert second.status_code == 409 and second.json()["code"] == "already_answered"
    assert api_client.get("/api/v1/me/surveys/").json()[0]["answered"] is True
    # an invitation-only survey is not answerable this way
    assert api_client.get(f"/api/v1/me/surveys/{survey.pk}/responses/").status_code == 404
    assert APIClient().get("/api/v1/me/surveys/").status_code in (401, 403)


# ------------------------------------------------------------------------------------------ portal
def test_portal_link_page_works_without_login_and_escapes(client, survey, invitation, member):
    path = reverse("portal:survey-answer", kwargs={"token": surveys.invitation_token(invitation=invitation)})
    page = client.get(path)
    assert page.status_code == 200 and b"Recommend us?" in page.content
    bad = client.post(path, {f"q{qid(survey, 'nps')}": "12", f"q{qid(survey, 'text')}": SCRIPT})
    assert bad.status_code == 400 and b"from 0 to 10" in bad.content
    assert SCRIPT.encode() not in bad.content and b"&lt;script&gt;" in bad.content
    assert not SurveyResponse.objects.exists()
    ok = client.post(path, {f"q{qid(survey, 'nps')}": "8", f"q{qid(survey, 'multiple')}": ["Price", "Service"],
                            f"q{qid(survey, 'text')}": SCRIPT})
    assert ok.status_code == 200 and b"Thank you" in ok.content
    response = SurveyResponse.objects.get()
    assert response.member_id == member.pk
    assert response.answers.get(kind="multiple").choices == ["Price", "Service"]
    again = client.get(path)
    assert again.status_code == 409 and b"already been answered" in again.content


def test_portal_survey_answers_are_limited_per_member(client, survey, invitation, settings):
    settings.FIDELIO_MEMBER_WRITE_RATE = "2/hour"
    path = reverse("portal:survey-answer", kwargs={"token": surveys.invitation_token(invitation=invitation)})
    for _ in range(2):
        assert client.post(path, {f"q{qid(survey, 'nps')}": "12"}).status_code == 400  # wrong answers count too
    refused = client.post(path, {f"q{qid(survey, 'nps')}": "8"})
    assert refused.status_code == 429 and b"many times in a short while" in refused.content
    assert not SurveyResponse.objects.exists()


def test_portal_link_page_for_a_forged_link(client):
    page = client.get(reverse("portal:survey-answer", kwargs={"token": "forged:token"}))
    assert page.status_code == 404 and b"not valid" in page.content


def test_portal_open_surveys_for_members(client, member):
    open_survey = Survey.objects.create(title="Open <b>bold</b>", trigger=Survey.Trigger.ALWAYS_OPEN)
    question = SurveyQuestion.objects.create(survey=open_survey, kind="nps", text="Recommend?")
    assert client.get(reverse("portal:surveys")).status_code == 302  # login first
    client.force_login(member.user)
    listing = client.get(reverse("portal:surveys"))
    assert listing.status_code == 200 and b"Open &lt;b&gt;bold&lt;/b&gt;" in listing.content
    path = reverse("portal:survey-open", kwargs={"survey_id": open_survey.pk})
    assert client.post(path, {f"q{question.pk}": "10"}).status_code == 200
    assert client.post(path, {f"q{question.pk}": "10"}).status_code == 409
    assert SurveyResponse.objects.filter(survey=open_survey, member=member).count() == 1


# ------------------------------------------------------------------------------------------ admin
def _staff_in(group_name):
    from backoffice.services import staff_groups_sync

    staff_groups_sync()
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    return user


def test_admin_escapes_answers_and_managers_manage_surveys(client, survey, invitation):
    surveys.survey_response_submit(token=surveys.invitation_token(invitation=invitation), answers=[
        surveys.AnswerIn(question_id=qid(survey, "nps"), score=9),
        surveys.AnswerIn(question_id=qid(survey, "text"), text=SCRIPT),
    ])
    response = SurveyResponse.objects.get()
    client.force_login(_staff_in(PROGRAM_MANAGER))
    page = client.get(reverse("admin:feedback_surveyresponse_change", args=[response.pk]))
    assert page.status_code == 200
    assert SCRIPT.encode() not in page.content and b"&lt;script&gt;" in page.content
    assert client.get(reverse("admin:feedback_survey_changelist")).status_code == 200
    assert client.get(reverse("admin:feedback_survey_change", args=[survey.pk])).status_code == 200
    assert client.get(reverse("admin:feedback_surveyinvitation_changelist")).status_code == 200
    add = client.post(reverse("admin:feedback_survey_add"), {
        "title_en": "New", "intro_en": "", "is_active": "on", "bonus_points": "0", "link_valid_days": "30",
        "trigger": "always_open", "delay_days": "2", "min_days_between": "30", "send_at_0": "", "send_at_1": "",
        "questions-TOTAL_FORMS": "2", "questions-INITIAL_FORMS": "0", "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "1000",
        "questions-0-order": "1", "questions-0-kind": "nps", "questions-0-text_en": "Recommend?",
        "questions-0-choices_text": "", "questions-0-required": "on",
        "questions-1-order": "2", "questions-1-kind": "single", "questions-1-text_en": "Where?",
        "questions-1-choices_text": "Shop\nOnline\n", "questions-1-required": "on",
    })
    assert add.status_code == 302, add.content.decode()[:3000]
    new = Survey.objects.get(title="New")
    assert list(new.questions.values_list("kind", "choices")) == [("nps", []), ("single", ["Shop", "Online"])]


def test_admin_refuses_a_choice_question_without_options(client):
    client.force_login(_staff_in(PROGRAM_MANAGER))
    page = client.post(reverse("admin:feedback_survey_add"), {
        "title": "Bad", "intro": "", "is_active": "on", "bonus_points": "0", "link_valid_days": "30",
        "trigger": "scheduled", "delay_days": "2", "min_days_between": "30", "send_at_0": "", "send_at_1": "",
        "questions-TOTAL_FORMS": "1", "questions-INITIAL_FORMS": "0", "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "1000",
        "questions-0-order": "1", "questions-0-kind": "multiple", "questions-0-text": "Which?",
        "questions-0-choices_text": "Only one", "questions-0-required": "on",
    })
    assert page.status_code == 200
    assert b"at least two options" in page.content and b"needs a date" in page.content
    assert not Survey.objects.filter(title="Bad").exists()


def test_support_agents_read_answers_but_not_surveys(client, survey):
    client.force_login(_staff_in(SUPPORT_AGENT))
    for name in ("admin:feedback_survey_changelist", "admin:feedback_surveyinvitation_changelist",
                 "admin:feedback_survey_add"):
        assert client.get(reverse(name)).status_code == 403
    # A member's survey answers, read-only, so support sees what the customer told us (issue 11).
    assert client.get(reverse("admin:feedback_surveyresponse_changelist")).status_code == 200
