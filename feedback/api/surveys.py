"""Survey endpoints: the signed invitation link (public: the token authorises) and always-open surveys for a
logged-in member."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from feedback.models import Survey, SurveyResponse
from feedback.services import surveys
from members.permissions import IsMember


class QuestionOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    text = serializers.CharField()
    choices = serializers.ListField(child=serializers.CharField())
    required = serializers.BooleanField()


class SurveyOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    intro = serializers.CharField()
    bonus_points = serializers.IntegerField()
    questions = serializers.SerializerMethodField()

    def get_questions(self, survey) -> list[dict]:
        return QuestionOutSerializer(surveys.survey_questions_get(survey=survey), many=True).data


class SurveyListItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    intro = serializers.CharField()
    bonus_points = serializers.IntegerField()
    answered = serializers.BooleanField()


class AnswerInSerializer(serializers.Serializer):
    question = serializers.IntegerField()
    # Range, length and options are the service's checks (stable error codes); only the types are here.
    score = serializers.IntegerField(required=False, allow_null=True, default=None)
    text = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)
    choices = serializers.ListField(child=serializers.CharField(), required=False, default=list, max_length=100)


class ResponseInSerializer(serializers.Serializer):
    answers = AnswerInSerializer(many=True, allow_empty=False, max_length=200)


class ResponseOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    survey = serializers.IntegerField(source="survey_id")
    created_at = serializers.DateTimeField()
    bonus_points = serializers.SerializerMethodField()

    def get_bonus_points(self, response: SurveyResponse) -> int:
        return response.bonus_entry.points if response.bonus_entry_id else 0


def _answers(request) -> list[surveys.AnswerIn]:
    data = ResponseInSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    return [
        surveys.AnswerIn(question_id=a["question"], score=a["score"], text=a["text"], choices=tuple(a["choices"]))
        for a in data.validated_data["answers"]
    ]


class SurveyLinkApi(APIView):
    """GET: the survey behind a signed invitation link. POST: answer it, once. No login: the link authorises.
    Tampered or unknown link 404 `invalid_link`, expired 410 `link_expired`, answered 409 `already_answered`."""

    authentication_classes: list = []  # the token in the path is the credential (no session, so no CSRF)
    permission_classes = [AllowAny]
    error_statuses = {"GET": (409, 410), "POST": (409, 410)}  # already_answered; link_expired

    @extend_schema(responses=SurveyOutSerializer)
    def get(self, request, token: str):
        invitation = surveys.invitation_get_by_token(token=token)
        return Response(SurveyOutSerializer(invitation.survey).data)

    @extend_schema(request=ResponseInSerializer, responses={201: ResponseOutSerializer})
    def post(self, request, token: str):
        response = surveys.survey_response_submit(token=token, answers=_answers(request))
        return Response(ResponseOutSerializer(response).data, status=status.HTTP_201_CREATED)


class MeSurveyListApi(APIView):
    """Always-open surveys, each with whether I have answered it."""

    permission_classes = [IsMember]

    @extend_schema(responses=SurveyListItemSerializer(many=True))
    def get(self, request):
        rows = surveys.survey_list_open_for_member(member=request.member)
        return Response([{"id": r["survey"].pk, "title": r["survey"].title, "intro": r["survey"].intro,
                          "bonus_points": r["survey"].bonus_points, "answered": r["answered"]} for r in rows])


class MeSurveyResponseApi(APIView):
    """GET: an always-open survey's questions. POST: answer it (once per member)."""

    permission_classes = [IsMember]
    error_statuses = {"POST": (409,)}  # already_answered

    @extend_schema(responses=SurveyOutSerializer)
    def get(self, request, survey_id: int):
        return Response(SurveyOutSerializer(surveys.survey_open_get(survey_id=survey_id)).data)

    @extend_schema(request=ResponseInSerializer, responses={201: ResponseOutSerializer})
    def post(self, request, survey_id: int):
        survey: Survey = surveys.survey_open_get(survey_id=survey_id)
        response = surveys.survey_response_submit(survey=survey, member=request.member, answers=_answers(request))
        return Response(ResponseOutSerializer(response).data, status=status.HTTP_201_CREATED)
