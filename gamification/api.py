"""Gamification endpoints: a member's challenges (join) and badges, challenge boards and the points leaderboards.

`GET /api/v1/leaderboards/{weekly|monthly|all-time}/` and the challenge boards are public (AllowAny): they show
only the names members chose to show (display name or pseudonym) and points, never ids or member numbers; a
logged-in member's own row is marked `is_me`. `?around=me` needs a member's session (IsMember): integration
tokens and guests get 401/403. `/me/challenges` and `/me/badges` take a customer session.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.exceptions import DomainError
from gamification.selectors import leaderboards
from gamification.selectors.challenges import badges_for_member, challenge_board, challenges_for_member
from gamification.services.challenges import challenge_join
from members.auth import IntegrationPrincipal
from members.models import Member
from members.permissions import IsMember
from members.selectors import member_for_user


class LeaderboardRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField(allow_null=True, help_text="null for yourself without points in the period")
    name = serializers.CharField(allow_null=True, help_text="Display name or pseudonym; null for yourself when hidden.")
    points = serializers.IntegerField()
    is_me = serializers.BooleanField()


class LeaderboardMeSerializer(serializers.Serializer):
    rank = serializers.IntegerField(allow_null=True, help_text="Where you stand (or would stand, when hidden); "
                                                               "null without points in the period.")
    points = serializers.IntegerField()
    name = serializers.CharField(allow_null=True)
    visibility = serializers.ChoiceField(choices=Member.LeaderboardVisibility.choices)
    on_board = serializers.BooleanField(help_text="False when hidden or without points in the period.")


class LeaderboardSerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=list(leaderboards.PERIODS))
    label = serializers.CharField(help_text="2026-W48, 2026-11 or all")
    starts_at = serializers.DateTimeField(allow_null=True)
    ends_at = serializers.DateTimeField(allow_null=True)
    members = serializers.IntegerField(help_text="Members on the board")
    me = LeaderboardMeSerializer(required=False, help_text="Only with ?around=me")
    results = LeaderboardRowSerializer(many=True)


def _limit(raw: str | None) -> int:
    if raw is None:
        return leaderboards.TOP_MAX
    if not raw.isdigit() or not 1 <= int(raw) <= leaderboards.TOP_MAX:
        raise DomainError(_("limit is a whole number from 1 to %(max)d.") % {"max": leaderboards.TOP_MAX},
                          field="limit", code="invalid_limit")
    return int(raw)


class LeaderboardApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter("period", str, OpenApiParameter.PATH, enum=list(leaderboards.PERIODS)),
            OpenApiParameter("limit", int, description="Top N, 1..100 (default 100)"),
            OpenApiParameter("around", str, enum=["me"],
                             description="Your rank and points with 5 neighbours each side (member session)"),
        ],
        responses=LeaderboardSerializer, tags=["leaderboards"],
    )
    def get(self, request, period: str):
        board = leaderboards.period_get(name=period)
        limit = _limit(request.query_params.get("limit"))  # checked even where ?around=me makes it moot
        around = request.query_params.get("around")
        if around is None:
            viewer = member_for_user(user=request.user)
            return Response(leaderboards.board_top(period=board, limit=limit,
                                                   viewer_id=viewer.pk if viewer else None))
        if around != "me":
            raise DomainError(_("around takes the value me."), field="around", code="invalid_around")
        permission = IsMember()
        if not permission.has_permission(request, self):
            self.permission_denied(request, message=permission.message)
        return Response(leaderboards.board_around(period=board, member=request.member))


# ---------------------------------------------------------------------------------------------- challenges
class ChallengeSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="challenge.pk")
    title = serializers.CharField(source="challenge.title")
    description = serializers.CharField(source="challenge.description")
    icon = serializers.CharField(source="challenge.icon")
    goal = serializers.CharField(source="challenge.goal")
    target = serializers.DecimalField(source="challenge.target", max_digits=12, decimal_places=2)
    progress = serializers.DecimalField(max_digits=14, decimal_places=2)
    percent = serializers.IntegerField()
    enrolment = serializers.CharField(source="challenge.enrolment")
    joined = serializers.BooleanField()
    completed = serializers.BooleanField()
    open = serializers.BooleanField()
    starts_at = serializers.DateTimeField(source="challenge.starts_at")
    period_end = serializers.DateTimeField()
    bonus_points = serializers.IntegerField(source="challenge.bonus_points")
    badge = serializers.CharField(source="challenge.badge.name", default=None)


class BadgeSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="badge.pk")
    name = serializers.CharField(source="badge.name")
    icon = serializers.CharField(source="badge.icon")
    description = serializers.CharField(source="badge.description")
    how_to_earn = serializers.CharField(source="badge.how_to_earn")
    earned = serializers.SerializerMethodField()
    earned_at = serializers.DateTimeField(allow_null=True)

    def get_earned(self, row) -> bool:
        return row["earned_at"] is not None


class MeChallengesApi(APIView):
    """Open and upcoming challenges for the logged-in member, with progress in the current period."""

    permission_classes = [IsMember]

    @extend_schema(responses=ChallengeSerializer(many=True), tags=["me"])
    def get(self, request):
        return Response(ChallengeSerializer(challenges_for_member(member=request.member), many=True).data)


class MeChallengeJoinApi(APIView):
    """Opt in to a challenge (its current period). Joining again is harmless."""

    permission_classes = [IsMember]
    error_statuses = {"POST": (409,)}  # challenge not open, closed, not in its audience

    @extend_schema(request=None, responses=ChallengeSerializer, tags=["me"])
    def post(self, request, challenge_id: int):
        challenge_join(challenge_id=int(challenge_id), member=request.member)
        row = next(r for r in challenges_for_member(member=request.member) if r["challenge"].pk == int(challenge_id))
        return Response(ChallengeSerializer(row).data)


class MeBadgesApi(APIView):
    """Every badge: earned ones with the date, locked ones with how to earn them."""

    permission_classes = [IsMember]

    @extend_schema(responses=BadgeSerializer(many=True), tags=["me"])
    def get(self, request):
        return Response(BadgeSerializer(badges_for_member(member=request.member), many=True).data)


class ChallengeBoardRowSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    name = serializers.CharField()
    points = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="Progress towards the target.")
    is_me = serializers.BooleanField()


class ChallengeBoardMeSerializer(serializers.Serializer):
    progress = serializers.DecimalField(max_digits=14, decimal_places=2)
    rank = serializers.IntegerField(allow_null=True)


class ChallengeBoardSerializer(serializers.Serializer):
    challenge = serializers.IntegerField()
    title = serializers.CharField()
    target = serializers.DecimalField(max_digits=12, decimal_places=2)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    me = ChallengeBoardMeSerializer(required=False, help_text="For a logged-in member")
    results = ChallengeBoardRowSerializer(many=True)


class ChallengeBoardApi(APIView):
    """A challenge's leaderboard (current period): the top 100 by progress; a logged-in member also gets
    their own rank. Public, like the points leaderboards: only chosen names and progress are shown."""

    permission_classes = [AllowAny]

    @extend_schema(responses=ChallengeBoardSerializer, tags=["leaderboards"])
    def get(self, request, challenge_id: int):
        user = request.user
        member = None if isinstance(user, IntegrationPrincipal) else member_for_user(user=user)
        return Response(ChallengeBoardSerializer(challenge_board(challenge_id=int(challenge_id), member=member)).data)
