"""Portal survey pages: answering through a signed link (no login needed) and always-open surveys for
logged-in members."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from config.exceptions import DomainError
from config.throttling import RateLimited, member_write_limit
from feedback.models import Survey, SurveyQuestion
from feedback.services import surveys
from members.selectors import member_for_user
from members.views import member_required


def _answers_from_post(post, questions: list[SurveyQuestion]) -> tuple[list[surveys.AnswerIn], dict]:
    """AnswerIn rows from the form, and what was typed (to show the form again on an error)."""
    answers, typed = [], {}
    for q in questions:
        name = f"q{q.pk}"
        if q.kind in surveys.SCORE_RANGES:
            raw = (post.get(name) or "").strip()
            typed[name] = raw
            if not raw:
                continue
            try:
                score = int(raw)
            except ValueError:
                score = -1  # refused by the range check
            answers.append(surveys.AnswerIn(question_id=q.pk, score=score, text=post.get(f"{name}_comment", "")))
        elif q.kind == SurveyQuestion.Kind.TEXT:
            typed[name] = post.get(name, "")
            answers.append(surveys.AnswerIn(question_id=q.pk, text=typed[name]))
        else:
            picked = tuple(post.getlist(name))
            typed[name] = picked
            answers.append(surveys.AnswerIn(question_id=q.pk, choices=picked))
    return answers, typed


def _rows(questions: list[SurveyQuestion], typed: dict) -> list[dict]:
    rows = []
    for q in questions:
        value = typed.get(f"q{q.pk}", "")
        row = {"q": q, "name": f"q{q.pk}", "value": value}
        if q.kind in surveys.SCORE_RANGES:
            low, high = surveys.SCORE_RANGES[q.kind]
            row["scale"] = [str(n) for n in range(low, high + 1)]
        elif q.kind in (SurveyQuestion.Kind.SINGLE, SurveyQuestion.Kind.MULTIPLE):
            row["options"] = [(str(c), str(c) in (value or ())) for c in q.choices or []]
        rows.append(row)
    return rows


def _form(request, *, survey: Survey, action: str, error: DomainError | None = None, typed: dict | None = None,
          status: int = 200):
    questions = surveys.survey_questions_get(survey=survey)
    return render(request, "portal/survey_answer.html", {
        "survey": survey, "rows": _rows(questions, typed or {}), "action": action, "error": error,
    }, status=status)


@require_http_methods(["GET", "POST"])
def survey_link_answer(request, token: str):
    """The page an invitation e-mail links to. Works without logging in; the signed link is single-use."""
    try:
        invitation = surveys.invitation_get_by_token(token=token)
    except DomainError as exc:
        return render(request, "portal/survey_unavailable.html", {"error": exc}, status=exc.status_code)
    survey = invitation.survey
    if request.method == "POST":
        answers, typed = _answers_from_post(request.POST, surveys.survey_questions_get(survey=survey))
        try:
            member_write_limit(member_id=invitation.member_id, action="survey")
            response = surveys.survey_response_submit(token=token, answers=answers)
        except RateLimited as exc:
            return _form(request, survey=survey, action=request.path, error=exc, typed=typed, status=exc.status_code)
        except DomainError as exc:
            if exc.status_code in (404, 409, 410):
                return render(request, "portal/survey_unavailable.html", {"error": exc}, status=exc.status_code)
            return _form(request, survey=survey, action=request.path, error=exc, typed=typed, status=400)
        return render(request, "portal/survey_thanks.html", {"survey": survey, "response": response})
    return _form(request, survey=survey, action=request.path)


@login_required
def survey_list(request):
    member = member_for_user(user=request.user)
    rows = surveys.survey_list_open_for_member(member=member) if member else []
    return render(request, "portal/survey_list.html", {"member": member, "rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
@member_required(no_member_redirect="portal:home")
def survey_open_answer(request, survey_id: int):
    member = request.member
    try:
        survey = surveys.survey_open_get(survey_id=survey_id)
    except DomainError as exc:
        return render(request, "portal/survey_unavailable.html", {"error": exc}, status=exc.status_code)
    if request.method == "POST":
        answers, typed = _answers_from_post(request.POST, surveys.survey_questions_get(survey=survey))
        try:
            member_write_limit(member_id=member.pk, action="survey")
            response = surveys.survey_response_submit(survey=survey, member=member, answers=answers)
        except RateLimited as exc:
            return _form(request, survey=survey, action=request.path, error=exc, typed=typed, status=exc.status_code)
        except surveys.AlreadyAnswered as exc:
            return render(request, "portal/survey_unavailable.html", {"error": exc}, status=exc.status_code)
        except DomainError as exc:
            return _form(request, survey=survey, action=request.path, error=exc, typed=typed, status=400)
        return render(request, "portal/survey_thanks.html", {"survey": survey, "response": response})
    if any(r["survey"].pk == survey.pk and r["answered"] for r in surveys.survey_list_open_for_member(member=member)):
        exc = surveys.AlreadyAnswered(_("You have already answered this survey. Thank you!"))
        return render(request, "portal/survey_unavailable.html", {"error": exc}, status=200)
    return _form(request, survey=survey, action=request.path)
