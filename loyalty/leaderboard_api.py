"""`GET /api/v1/leaderboards/{weekly|monthly|all-time}/`: the top of a board, or `?around=me` for the member.

The top is public (AllowAny): it shows only the names members chose to show (display name or pseudonym) and
points, never ids or member numbers; a logged-in member's own row is marked `is_me`. `?around=me` needs a
member's session (IsMember): integration tokens and guests get 401/403.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.exceptions import DomainError
from loyalty import leaderboards
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
        raise DomainError(f"limit is a whole number from 1 to {leaderboards.TOP_MAX}.", field="limit",
                          code="invalid_limit")
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
            raise DomainError("around takes the value me.", field="around", code="invalid_around")
        permission = IsMember()
        if not permission.has_permission(request, self):
            self.permission_denied(request, message=permission.message)
        return Response(leaderboards.board_around(period=board, member=request.member))
