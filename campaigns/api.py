"""Offers through the API: the member's own (`/me/offers`, activation) and a member's for the shop's systems
(`/members/{id}/offers`, token with members:read). Held-out members get an empty list: the holdout is invisible."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from campaigns.selectors import member_offers
from campaigns.services.offers import offer_activate
from members.models import Scope
from members.permissions import IsIntegration, IsMember
from members.selectors import member_find


class OfferSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="offer.pk")
    name = serializers.CharField(source="offer.name")
    description = serializers.CharField(source="offer.description")
    benefit = serializers.CharField(source="offer.benefit", help_text="multiplier or bonus")
    multiplier = serializers.DecimalField(source="offer.multiplier", max_digits=4, decimal_places=2, allow_null=True)
    bonus_points = serializers.IntegerField(source="offer.bonus_points", allow_null=True)
    category = serializers.CharField(source="offer.category", help_text="Only this category qualifies; empty: all.")
    min_amount = serializers.DecimalField(source="offer.min_amount", max_digits=12, decimal_places=2)
    starts_at = serializers.DateTimeField(source="offer.starts_at")
    ends_at = serializers.DateTimeField(source="offer.ends_at")
    needs_activation = serializers.BooleanField()
    activated = serializers.BooleanField()
    counts = serializers.BooleanField(help_text="True when a qualifying purchase now gets the benefit.")
    uses = serializers.IntegerField()
    uses_left = serializers.IntegerField(allow_null=True, help_text="null: no per-member limit")


class MeOffersApi(APIView):
    """The offers made for the logged-in member that run now or are still to come."""

    permission_classes = [IsMember]

    @extend_schema(responses=OfferSerializer(many=True), tags=["me"])
    def get(self, request):
        return Response(OfferSerializer(member_offers(member=request.member), many=True).data)


class MeOfferActivateApi(APIView):
    """Turn on an offer that needs activation. Activating again is harmless."""

    permission_classes = [IsMember]
    error_statuses = {"POST": (404, 409)}  # not the member's offer; ended

    @extend_schema(request=None, responses=OfferSerializer, tags=["me"])
    def post(self, request, offer_id: int):
        offer_activate(member=request.member, offer_id=int(offer_id))
        row = next(r for r in member_offers(member=request.member) if r["offer"].pk == int(offer_id))
        return Response(OfferSerializer(row).data)


class MemberOffersApi(APIView):
    """A member's offers, for the shop's site and e-mails (running and coming up; none for a held-out member)."""

    permission_classes = [IsIntegration]
    token_scopes = {"GET": Scope.MEMBERS_READ}

    @extend_schema(responses=OfferSerializer(many=True), tags=["integration"])
    def get(self, request, member_id: int):
        member = member_find(member_id=int(member_id))
        return Response(OfferSerializer(member_offers(member=member), many=True).data)
