"""Member endpoints: the customer's own record and the integration lookup."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from members.permissions import IsIntegration, IsMember
from members.selectors import member_get_by_number, member_list, tier_next
from members.services import DISPLAY_NAME_MAX, member_profile_update


class TierSerializer(serializers.Serializer):
    name = serializers.CharField()
    rank = serializers.IntegerField()
    earn_multiplier = serializers.DecimalField(max_digits=4, decimal_places=2)


class MemberSerializer(serializers.Serializer):
    member_number = serializers.CharField()
    email = serializers.EmailField()
    display_name = serializers.CharField()
    tier = TierSerializer(allow_null=True)
    points_balance = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class MeSerializer(MemberSerializer):
    referral_code = serializers.CharField()
    birthday = serializers.DateField(allow_null=True)
    marketing_consent = serializers.BooleanField()
    next_tier = serializers.SerializerMethodField()

    def get_next_tier(self, member) -> dict | None:
        nxt = tier_next(tier=member.tier)
        return TierSerializer(nxt).data if nxt else None


class MeUpdateSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=DISPLAY_NAME_MAX, allow_blank=True, required=False,
                                         trim_whitespace=True)
    marketing_consent = serializers.BooleanField(required=False)


class MeApi(APIView):
    """The logged-in member (session authentication)."""

    permission_classes = [IsMember]

    @extend_schema(responses=MeSerializer, tags=["me"])
    def get(self, request):
        return Response(MeSerializer(request.member).data)

    @extend_schema(request=MeUpdateSerializer, responses=MeSerializer, tags=["me"])
    def patch(self, request):
        data = MeUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = member_profile_update(member=request.member, **data.validated_data)
        return Response(MeSerializer(member).data)


class MemberListApi(ListAPIView):
    """Members, for the shop's systems; filter by `email` to find a customer at checkout."""

    permission_classes = [IsIntegration]
    serializer_class = MemberSerializer

    def get_queryset(self):
        return member_list(email=self.request.query_params.get("email"))

    @extend_schema(
        parameters=[OpenApiParameter("email", str, description="exact e-mail, case-insensitive")],
        tags=["integration"],
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class MemberDetailApi(APIView):
    permission_classes = [IsIntegration]

    @extend_schema(responses=MemberSerializer, tags=["integration"])
    def get(self, request, member_number: str):
        return Response(MemberSerializer(member_get_by_number(member_number=member_number)).data)
