"""The logged-in member (customer session): their record, their points history, a friend's referral code.
Every view reads the requesting member only."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from config.throttling import member_write_limit
from loyalty import selectors
from loyalty.api.members import LedgerEntrySerializer, MemberDetailSerializer, member_get
from members.api import MeUpdateSerializer
from members.models import Member
from members.permissions import IsMember
from members.services import member_profile_update, referral_apply


class MeSerializer(MemberDetailSerializer):
    display_name = serializers.CharField()
    marketing_consent = serializers.BooleanField()
    leaderboard_visibility = serializers.ChoiceField(choices=Member.LeaderboardVisibility.choices)
    language = serializers.CharField(help_text="The member's language; empty: not chosen (the program's default).")


class MeApi(APIView):
    """The logged-in member with points, tier progress and what expires soon (session authentication)."""

    permission_classes = [IsMember]

    @extend_schema(responses=MeSerializer, tags=["me"])
    def get(self, request):
        return Response(MeSerializer(request.member).data)

    @extend_schema(request=MeUpdateSerializer, responses=MeSerializer, tags=["me"])
    def patch(self, request):
        data = MeUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member_profile_update(member=request.member, **data.validated_data)
        return Response(MeSerializer(member_get(request.member.pk)).data)


class MeLedgerApi(ListAPIView):
    permission_classes = [IsMember]
    serializer_class = LedgerEntrySerializer

    def get_queryset(self):
        return selectors.ledger_list(member=self.request.member).select_related("purchase")

    @extend_schema(tags=["me"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ReferralInSerializer(serializers.Serializer):
    referral_code = serializers.CharField(max_length=16)


class MeReferralApi(APIView):
    """Enter a friend's referral code after signing up (once)."""

    permission_classes = [IsMember]
    error_statuses = {"POST": (404, 409)}  # invalid_referral_code; already_referred

    @extend_schema(request=ReferralInSerializer, responses=MeSerializer, tags=["me"])
    def post(self, request):
        data = ReferralInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member_write_limit(member_id=request.member.pk, action="referral")
        referral_apply(member=request.member, code=data.validated_data["referral_code"])
        return Response(MeSerializer(member_get(request.member.pk)).data)
